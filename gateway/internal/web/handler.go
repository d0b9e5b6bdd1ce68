// Package web serves PerOXO's browser client: plain HTML, CSS and JavaScript
// modules embedded in the gateway binary, with no build step and no request
// to any host but the gateway itself.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed static
var staticFiles embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

// Options configures the web client.
type Options struct {
	// DevMode marks a gateway that serves POST /dev/token, so the page
	// offers sign-in by user name.
	DevMode bool
}

// handler serves the embedded assets and the page's settings. It is
// read-only after construction and safe for concurrent use.
type handler struct {
	assets map[string]asset
	config []byte
}

// contentTypes fixes the types of the file kinds the client ships, so the
// response never depends on the host's MIME tables.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// Handler returns the http.Handler of the web client. It serves
// GET and HEAD for "/" (the page), the files beside it and /config.json
// (the options the page reads). Any other path gets 404 and any other
// method 405. Every response carries a
// Content-Security-Policy that allows scripts, styles and images only from
// the gateway's origin and network connections only to that origin over
// HTTP or WebSocket. The files are revalidated on every load through their
// ETag, because their names carry no content hash. The handler is safe for
// concurrent use.
func Handler(options Options) http.Handler {
	assets, err := loadAssets(staticFiles)
	if err != nil {
		// The files are compiled in, so this only fails on a broken build.
		panic(err)
	}
	config, err := json.Marshal(clientConfig(options))
	if err != nil {
		panic(fmt.Errorf("encode client config: %w", err))
	}
	return &handler{assets: assets, config: config}
}

// clientConfig is the body of /config.json.
type clientConfig struct {
	DevMode bool `json:"dev_mode"`
}

func loadAssets(files fs.FS) (map[string]asset, error) {
	root, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("open embedded static dir: %w", err)
	}
	assets := make(map[string]asset)
	err = fs.WalkDir(root, ".", func(name string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return fmt.Errorf("read embedded %s: %w", name, err)
		}
		contentType, ok := contentTypes[path.Ext(name)]
		if !ok {
			contentType = mime.TypeByExtension(path.Ext(name))
		}
		if contentType == "" {
			return fmt.Errorf("embedded %s: no content type for its extension", name)
		}
		sum := sha256.Sum256(body)
		assets["/"+name] = asset{
			name:        name,
			body:        body,
			contentType: contentType,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := assets["/index.html"]; !ok {
		return nil, fmt.Errorf("embedded static dir has no index.html")
	}
	return assets, nil
}

func (h *handler) ServeHTTP(writer http.ResponseWriter, request *http.Request) {
	header := writer.Header()
	setSecurityHeaders(header, request.Host)
	if request.Method != http.MethodGet && request.Method != http.MethodHead {
		header.Set("Allow", "GET, HEAD")
		http.Error(writer, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := request.URL.Path
	if name == "/config.json" {
		header.Set("Content-Type", "application/json")
		header.Set("Cache-Control", "no-store")
		http.ServeContent(writer, request, "config.json", time.Time{},
			bytes.NewReader(h.config))
		return
	}
	if name == "/" {
		name = "/index.html"
	}
	file, ok := h.assets[name]
	if !ok {
		http.NotFound(writer, request)
		return
	}
	header.Set("Content-Type", file.contentType)
	header.Set("Cache-Control", "no-cache")
	header.Set("ETag", file.etag)
	// ServeContent replies 304 to a matching If-None-Match, sends no body
	// for HEAD and serves Range requests.
	http.ServeContent(writer, request, file.name, time.Time{}, bytes.NewReader(file.body))
}

// hostPattern matches a Host header that is a plain host name, IPv4 or
// bracketed IPv6 address with an optional port, so it can be written into
// a header without escaping.
var hostPattern = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)

// setSecurityHeaders writes the policy headers of every response. The
// WebSocket origins are named in connect-src besides 'self' because
// browsers before CSP Level 3 do not match ws: and wss: with 'self'.
func setSecurityHeaders(header http.Header, host string) {
	connect := "'self'"
	if hostPattern.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	policy := []string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self'",
		"connect-src " + connect,
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}
	header.Set("Content-Security-Policy", strings.Join(policy, "; "))
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("Referrer-Policy", "no-referrer")
	header.Set("X-Frame-Options", "DENY")
	header.Set("Cross-Origin-Opener-Policy", "same-origin")
	header.Set("Cross-Origin-Resource-Policy", "same-origin")
}
