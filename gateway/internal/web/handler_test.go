package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandlerServesAssets(t *testing.T) {
	handler := Handler(Options{})
	tests := []struct {
		method      string
		path        string
		status      int
		contentType string
	}{
		{http.MethodGet, "/", http.StatusOK, "text/html; charset=utf-8"},
		{http.MethodGet, "/index.html", http.StatusOK, "text/html; charset=utf-8"},
		{http.MethodGet, "/style.css", http.StatusOK, "text/css; charset=utf-8"},
		{http.MethodGet, "/js/app.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{http.MethodGet, "/favicon.svg", http.StatusOK, "image/svg+xml"},
		{http.MethodGet, "/config.json", http.StatusOK, "application/json"},
		{http.MethodHead, "/js/protocol.js", http.StatusOK, "text/javascript; charset=utf-8"},
		{http.MethodGet, "/missing.js", http.StatusNotFound, "text/plain; charset=utf-8"},
		{http.MethodGet, "/js/", http.StatusNotFound, "text/plain; charset=utf-8"},
		{http.MethodGet, "/../handler.go", http.StatusNotFound, "text/plain; charset=utf-8"},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, "text/plain; charset=utf-8"},
	}
	for _, test := range tests {
		t.Run(test.method+" "+test.path, func(t *testing.T) {
			request := httptest.NewRequest(test.method, test.path, nil)
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, request)
			if recorder.Code != test.status {
				t.Fatalf("status = %d, want %d", recorder.Code, test.status)
			}
			if got := recorder.Header().Get("Content-Type"); got != test.contentType {
				t.Errorf("Content-Type = %q, want %q", got, test.contentType)
			}
			if recorder.Header().Get("Content-Security-Policy") == "" {
				t.Error("Content-Security-Policy is missing")
			}
			if got := recorder.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if test.method == http.MethodHead && recorder.Body.Len() != 0 {
				t.Errorf("HEAD returned a %d-byte body", recorder.Body.Len())
			}
		})
	}
}

func TestHandlerMethodNotAllowedListsAllow(t *testing.T) {
	recorder := httptest.NewRecorder()
	Handler(Options{}).ServeHTTP(recorder, httptest.NewRequest(http.MethodPut, "/", nil))
	if got := recorder.Header().Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
	}
}

func TestHandlerRevalidatesWithETag(t *testing.T) {
	handler := Handler(Options{})
	first := httptest.NewRecorder()
	handler.ServeHTTP(first, httptest.NewRequest(http.MethodGet, "/js/app.js", nil))
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("ETag is missing")
	}
	if got := first.Header().Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", got)
	}

	request := httptest.NewRequest(http.MethodGet, "/js/app.js", nil)
	request.Header.Set("If-None-Match", etag)
	second := httptest.NewRecorder()
	handler.ServeHTTP(second, request)
	if second.Code != http.StatusNotModified {
		t.Errorf("status with matching If-None-Match = %d, want 304", second.Code)
	}
	if second.Body.Len() != 0 {
		t.Errorf("304 carried a %d-byte body", second.Body.Len())
	}
}

func TestHandlerConfigReportsDevMode(t *testing.T) {
	tests := []struct {
		devMode bool
		body    string
	}{
		{false, `{"dev_mode":false}`},
		{true, `{"dev_mode":true}`},
	}
	for _, test := range tests {
		recorder := httptest.NewRecorder()
		Handler(Options{DevMode: test.devMode}).ServeHTTP(recorder,
			httptest.NewRequest(http.MethodGet, "/config.json", nil))
		if got := recorder.Body.String(); got != test.body {
			t.Errorf("DevMode %v: body = %s, want %s", test.devMode, got, test.body)
		}
		if got := recorder.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("DevMode %v: Cache-Control = %q, want no-store", test.devMode, got)
		}
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	tests := []struct {
		name    string
		host    string
		connect string
	}{
		{"host and port", "chat.example.test:8080",
			"connect-src 'self' ws://chat.example.test:8080 wss://chat.example.test:8080"},
		{"IPv6", "[::1]:8080", "connect-src 'self' ws://[::1]:8080 wss://[::1]:8080"},
		{"header injection", "evil.test; script-src *", "connect-src 'self';"},
		{"quote", "a'b", "connect-src 'self';"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			request := httptest.NewRequest(http.MethodGet, "/", nil)
			request.Host = test.host
			recorder := httptest.NewRecorder()
			Handler(Options{}).ServeHTTP(recorder, request)
			policy := recorder.Header().Get("Content-Security-Policy")
			if !strings.Contains(policy, test.connect) {
				t.Errorf("policy %q lacks %q", policy, test.connect)
			}
			for _, directive := range []string{
				"default-src 'none'", "script-src 'self'", "style-src 'self'",
				"frame-ancestors 'none'", "base-uri 'none'",
			} {
				if !strings.Contains(policy, directive) {
					t.Errorf("policy %q lacks %q", policy, directive)
				}
			}
			if strings.Contains(policy, "unsafe") || strings.Contains(policy, "*") {
				t.Errorf("policy %q allows unsafe sources or wildcards", policy)
			}
		})
	}
}

// externalReference matches a URL with a scheme or a protocol-relative URL
// in an attribute, an import or a CSS url().
var externalReference = regexp.MustCompile(
	`(?i)(https?:|wss?:)?//[a-z0-9.-]+\.[a-z]{2,}|url\(\s*['"]?(https?:|//)|@import`)

func TestAssetsReferenceNoOtherHost(t *testing.T) {
	root, err := fs.Sub(staticFiles, "static")
	if err != nil {
		t.Fatal(err)
	}
	// The SVG namespace is an identifier that browsers never fetch.
	const svgNamespace = "http://www.w3.org/2000/svg"
	err = fs.WalkDir(root, ".", func(name string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		file, err := root.Open(name)
		if err != nil {
			return err
		}
		defer file.Close()
		body, err := io.ReadAll(file)
		if err != nil {
			return err
		}
		text := strings.ReplaceAll(string(body), svgNamespace, "")
		if match := externalReference.FindString(text); match != "" {
			t.Errorf("%s references another host: %q", name, match)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
