package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peroxo/peroxo/gateway/internal/app"
	"github.com/peroxo/peroxo/gateway/internal/auth"
	"github.com/peroxo/peroxo/gateway/internal/config"
	"github.com/peroxo/peroxo/gateway/internal/history"
	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	"github.com/peroxo/peroxo/gateway/internal/router"
	platformconfig "github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/natsconn"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// The service binaries are built once per test run from the workspace.
var authsvcBinary, chatsvcBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gateway-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	authsvcBinary = filepath.Join(dir, "authsvc")
	chatsvcBinary = filepath.Join(dir, "chatsvc")
	build := exec.Command("go", "build", "-o", dir,
		"github.com/peroxo/peroxo/authsvc/cmd/authsvc",
		"github.com/peroxo/peroxo/chatsvc/cmd/chatsvc")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build authsvc and chatsvc:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// adminToken is the operator token the test authsvc accepts for
// CreateTenant.
const adminToken = "admin-test-token-0123456789"

// authService is a running authsvc with one tenant.
type authService struct {
	url       string
	projectID string
	apiKey    string
	env       []string
}

func freeAddr(t testing.TB) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	listener.Close()
	return addr
}

// startAuth runs authsvc on its embedded stores with tokens valid for ttl
// and creates one tenant with "authsvc tenants create".
func startAuth(t testing.TB, ttl time.Duration) *authService {
	t.Helper()
	env := append(os.Environ(),
		"PEROXO_AUTH_DATA_DIR="+t.TempDir(),
		"PEROXO_AUTH_TOKEN_TTL="+ttl.String(),
		"PEROXO_AUTH_ADMIN_TOKEN="+adminToken,
		// Keep every URL on loopback; no test reaches Google.
		"PEROXO_AUTH_GOOGLE_ISSUER=http://127.0.0.1:1",
		"PEROXO_AUTH_GOOGLE_JWKS_URL=http://127.0.0.1:1/keys",
		"PEROXO_AUTH_GOOGLE_CLIENT_ID=test",
	)
	service := &authService{env: env}
	service.projectID, service.apiKey = service.createTenant(t)
	service.url = serve(t, authsvcBinary, []string{"serve"}, env, "PEROXO_AUTH_ADDR")
	return service
}

// createTenant runs "authsvc tenants create" on the service's data and
// returns the new project id and secret API key.
func (a *authService) createTenant(t testing.TB) (string, string) {
	t.Helper()
	create := exec.Command(authsvcBinary, "tenants", "create")
	create.Env = a.env
	var stdout, stderr bytes.Buffer
	create.Stdout, create.Stderr = &stdout, &stderr
	if err := create.Run(); err != nil {
		t.Fatalf("authsvc tenants create: %v\n%s", err, stderr.String())
	}
	var tenant struct {
		ProjectID    string `json:"project_id"`
		SecretAPIKey string `json:"secret_api_key"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &tenant); err != nil {
		t.Fatalf("decode tenant %q: %v", stdout.String(), err)
	}
	return tenant.ProjectID, tenant.SecretAPIKey
}

// startChat runs chatsvc on its embedded store and returns its URL.
func startChat(t testing.TB) string {
	t.Helper()
	env := append(os.Environ(), "PEROXO_CHAT_DATA_DIR="+t.TempDir())
	return serve(t, chatsvcBinary, nil, env, "PEROXO_CHAT_ADDR")
}

// serve starts binary with env plus addrVariable set to a free loopback
// address and returns its URL once /healthz answers. A free port can be
// taken by another process before the service binds it, so a start whose
// process exits early is retried on a new port, up to three times.
func serve(t testing.TB, binary string, args, env []string, addrVariable string) string {
	t.Helper()
	var output bytes.Buffer
	for range 3 {
		addr := freeAddr(t)
		command := exec.Command(binary, args...)
		command.Env = append(env, addrVariable+"="+addr)
		output.Reset()
		command.Stdout, command.Stderr = &output, &output
		if err := command.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() {
			_ = command.Wait()
			close(exited)
		}()
		url := "http://" + addr
		if waitHealthy(url, exited) {
			t.Cleanup(func() {
				_ = command.Process.Signal(os.Interrupt)
				<-exited
			})
			return url
		}
		_ = command.Process.Kill()
		<-exited
	}
	t.Fatalf("%s did not start:\n%s", filepath.Base(binary), output.String())
	return ""
}

// waitHealthy polls url's /healthz, because a started process gives no
// other signal that it listens. It returns false when the process exits
// or 30 seconds pass first.
func waitHealthy(url string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		response, err := http.Get(url + "/healthz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}

// token issues a user token through POST /generate-user-token.
func (a *authService) token(t testing.TB, user string) string {
	t.Helper()
	return a.tokenFor(t, a.projectID, a.apiKey, user)
}

func (a *authService) tokenFor(t testing.TB, project, key, user string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{
		"user_id": user, "project_id": project, "secret_api_key": key,
	})
	response, err := http.Post(a.url+"/generate-user-token", "application/json",
		bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var answer struct {
		UserToken string `json:"user_token"`
	}
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil ||
		answer.UserToken == "" {
		t.Fatalf("generate-user-token: status %d, err %v", response.StatusCode, err)
	}
	return answer.UserToken
}

// gatewayNode is one gateway with its own embedded NATS server.
type gatewayNode struct {
	url      string
	registry *prometheus.Registry
}

// testConfig returns the gateway defaults with overrides applied.
func testConfig(t testing.TB, authURL string, overrides map[string]string) config.Config {
	t.Helper()
	environment := map[string]string{
		"PEROXO_GATEWAY_AUTH_URL":         authURL,
		"PEROXO_GATEWAY_DATA_DIR":         t.TempDir(),
		"PEROXO_GATEWAY_NATS_LISTEN_ADDR": "127.0.0.1:0",
	}
	for name, value := range overrides {
		environment[name] = value
	}
	var cfg config.Config
	if err := platformconfig.LoadFrom(&cfg, environment); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startNATS runs an embedded NATS server with JetStream in dir.
func startNATS(t testing.TB, dir string) string {
	t.Helper()
	embedded, err := natsbus.StartEmbedded(natsbus.EmbeddedOptions{
		ListenAddr: "127.0.0.1:0",
		StoreDir:   dir,
		ServerName: "gateway-test",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { embedded.Close() })
	return embedded.ClientURL()
}

// startGateway runs a gateway node with its own embedded NATS server, the
// way cmd/gateway does by default.
func startGateway(t testing.TB, cfg config.Config) *gatewayNode {
	t.Helper()
	return startGatewayOn(t, cfg, startNATS(t, cfg.DataDir))
}

// startGatewayOn runs a gateway node on the NATS server at natsURL, which
// several nodes may share.
func startGatewayOn(t testing.TB, cfg config.Config, natsURL string) *gatewayNode {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn, err := natsconn.Connect(natsURL, "gateway-test", logger, natsbus.ConnectOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)

	var routerRef atomic.Pointer[router.Router]
	bus, err := natsbus.New(conn, natsbus.Options{
		NodeID:            cfg.NodeID,
		PublishTimeout:    cfg.PublishTimeout,
		PublishAttempts:   cfg.PublishAttempts,
		PresenceTTL:       cfg.PresenceTTL,
		HeartbeatInterval: cfg.HeartbeatInterval,
	}, natsbus.Handlers{
		OnEvent: func(event *eventsv1.ChatEvent) {
			if r := routerRef.Load(); r != nil {
				r.HandleRemoteEvent(event)
			}
		},
		OnPresence: func(event *eventsv1.PresenceEvent) {
			if r := routerRef.Load(); r != nil {
				r.HandleRemotePresence(event)
			}
		},
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	registry := prometheus.NewRegistry()
	gateway := app.New(cfg, app.Dependencies{
		Bus:      bus,
		Verifier: auth.NewVerifier(http.DefaultClient, cfg.AuthURL),
		History:  history.New(http.DefaultClient, cfg.ChatURL, logger),
		Auth:     authv1connect.NewAuthServiceClient(http.DefaultClient, cfg.AuthURL),
		Registry: registry,
		Logger:   logger,
	})
	routerRef.Store(gateway.Router())
	mux := http.NewServeMux()
	gateway.Register(mux)
	server := httptest.NewServer(ops.NewHTTPMetrics(registry).Wrap(mux))

	ctx, cancel := context.WithCancel(context.Background())
	busDone := make(chan error, 1)
	go func() { busDone <- bus.Run(ctx) }()
	gatewayDone := make(chan error, 1)
	go func() { gatewayDone <- gateway.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-gatewayDone; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
		server.Close()
		<-busDone
		bus.Close()
	})
	return &gatewayNode{url: server.URL, registry: registry}
}

// counter returns the value of a counter or gauge series, or the sample
// count of a histogram, in the node's registry. labels are name, value
// pairs.
func (g *gatewayNode) counter(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	families, err := g.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
	metric:
		for _, metric := range family.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, label := range metric.GetLabel() {
					if label.GetName() == labels[i] && label.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			if metric.GetCounter() != nil {
				return metric.GetCounter().GetValue()
			}
			if metric.GetHistogram() != nil {
				return float64(metric.GetHistogram().GetSampleCount())
			}
			return metric.GetGauge().GetValue()
		}
	}
	return 0
}

func (g *gatewayNode) wsURL() string {
	return "ws" + strings.TrimPrefix(g.url, "http") + "/ws"
}

// client is a test WebSocket client.
type client struct {
	t    testing.TB
	conn *websocket.Conn
	name string
}

func (g *gatewayNode) dial(t testing.TB, token, name string) *client {
	t.Helper()
	conn, response, err := websocket.Dial(context.Background(),
		g.wsURL()+"?token="+token, nil)
	if err != nil {
		status := 0
		if response != nil {
			status = response.StatusCode
		}
		t.Fatalf("dial as %s: status %d: %v", name, status, err)
	}
	conn.SetReadLimit(1 << 22)
	t.Cleanup(func() { conn.CloseNow() })
	return &client{t: t, conn: conn, name: name}
}

func (c *client) sendRaw(frame string) {
	c.t.Helper()
	if err := c.conn.Write(context.Background(), websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("%s write: %v", c.name, err)
	}
}

func (c *client) send(frameType string, body any) {
	c.t.Helper()
	encoded, err := json.Marshal(map[string]any{frameType: body})
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(encoded))
}

// next reads the next frame, skipping Presence frames unless wanted.
func (c *client) next() (string, map[string]any) {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		_, data, err := c.conn.Read(ctx)
		cancel()
		if err != nil {
			c.t.Fatalf("%s read: %v", c.name, err)
		}
		var envelope map[string]map[string]any
		if err := json.Unmarshal(data, &envelope); err != nil {
			c.t.Fatalf("%s received %s: %v", c.name, data, err)
		}
		for name, body := range envelope {
			if name == "Presence" {
				continue
			}
			return name, body
		}
	}
}

func (c *client) expect(name string) map[string]any {
	c.t.Helper()
	got, body := c.next()
	if got != name {
		c.t.Fatalf("%s received %s %v, want %s", c.name, got, body, name)
	}
	return body
}

func (c *client) expectError(code int) map[string]any {
	c.t.Helper()
	body := c.expect("Error")
	if body["code"] != float64(code) {
		c.t.Fatalf("%s got error %v, want code %d", c.name, body, code)
	}
	return body
}

// expectClose reads until the connection closes and returns the close
// status, or -1 when the connection ended without a close frame.
func (c *client) expectClose() (websocket.StatusCode, string) {
	c.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _, err := c.conn.Read(ctx)
		timedOut := ctx.Err() != nil
		cancel()
		if err != nil {
			var closeErr websocket.CloseError
			if errors.As(err, &closeErr) {
				return closeErr.Code, closeErr.Reason
			}
			if timedOut {
				c.t.Fatalf("%s: connection did not close", c.name)
			}
			return -1, err.Error()
		}
	}
}
