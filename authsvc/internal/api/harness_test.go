package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peroxo/peroxo/authsvc/internal/googleid"
	"github.com/peroxo/peroxo/authsvc/internal/ratelimit"
	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
	"github.com/peroxo/peroxo/authsvc/internal/tenants"
	"github.com/peroxo/peroxo/authsvc/internal/tokens"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/platform/runner"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

const testAdminToken = "test-admin-token-0123456789"

// testServer is a running auth server on loopback with embedded stores.
type testServer struct {
	URL      string
	Registry *prometheus.Registry
	Options  Options
}

// serverConfig varies what tests need; zero values get working defaults.
type serverConfig struct {
	google      *googleid.Verifier
	tokenTTL    time.Duration
	rateLimit   int
	corsOrigins []string
}

func startServer(t testing.TB, config serverConfig) *testServer {
	t.Helper()
	db := servicetest.SQLite(t)
	if config.google == nil {
		config.google = googleid.New("https://issuer.invalid", "https://issuer.invalid/keys", "", nil)
	}
	if config.tokenTTL == 0 {
		config.tokenTTL = time.Minute
	}
	if config.rateLimit == 0 {
		config.rateLimit = 3
	}
	registry := ops.NewRegistry()
	options := Options{
		Tenants:       tenants.NewSQLiteStore(db),
		Tokens:        tokens.NewSQLiteStore(db, nil),
		TenantLimiter: ratelimit.NewSQLiteLimiter(db, ratelimit.Rule{Limit: config.rateLimit, Window: time.Hour}, nil),
		Google:        config.google,
		AdminToken:    testAdminToken,
		TokenTTL:      config.tokenTTL,
		Metrics:       NewMetrics(registry),
		Logger:        slog.New(slog.DiscardHandler),
	}
	return serve(t, options, registry, config.corsOrigins)
}

func serve(t testing.TB, options Options, registry *prometheus.Registry, origins []string) *testServer {
	t.Helper()
	service := NewService(options)
	mux := http.NewServeMux()
	health := ops.NewHealth()
	health.Register(mux, registry)
	service.Register(mux, func(ctx context.Context) error { return options.Tokens.Ping(ctx) },
		ops.NewRPCMetricsInterceptor(registry))
	handler := WithCORS(ops.NewHTTPMetrics(registry).Wrap(mux), origins)
	server, listener, err := runner.ListenHTTP("test", "127.0.0.1:0", handler, options.Logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runner.ServeHTTP(ctx, server, listener, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{URL: "http://" + listener.Addr().String(), Registry: registry, Options: options}
}

// connectClient speaks the Connect protocol over HTTP/1.1.
func (s *testServer) connectClient() authv1connect.AuthServiceClient {
	return authv1connect.NewAuthServiceClient(http.DefaultClient, s.URL)
}

// grpcClient speaks gRPC over unencrypted HTTP/2.
func (s *testServer) grpcClient(t testing.TB) authv1connect.AuthServiceClient {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protocols}
	t.Cleanup(transport.CloseIdleConnections)
	return authv1connect.NewAuthServiceClient(&http.Client{Transport: transport}, s.URL,
		connect.WithGRPC())
}

// response is a decoded JSON reply.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func (r response) text(key string) string {
	value, _ := r.Body[key].(string)
	return value
}

func (s *testServer) do(t testing.TB, method, path, authorization string, body []byte) response {
	t.Helper()
	request, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		request.Header.Set("Authorization", authorization)
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	reply, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer reply.Body.Close()
	raw, err := io.ReadAll(reply.Body)
	if err != nil {
		t.Fatal(err)
	}
	decoded := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatalf("%s %s: body %q is not JSON: %v", method, path, raw, err)
		}
	}
	return response{Status: reply.StatusCode, Header: reply.Header, Body: decoded}
}

func (s *testServer) post(t testing.TB, path string, body any) response {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return s.do(t, http.MethodPost, path, "", raw)
}

// createTenant creates a tenant with the admin token.
func (s *testServer) createTenant(t testing.TB) (string, string) {
	t.Helper()
	reply := s.do(t, http.MethodGet, "/generate-tenant", "Bearer "+testAdminToken, nil)
	if reply.Status != http.StatusOK {
		t.Fatalf("create tenant: status %d, body %v", reply.Status, reply.Body)
	}
	return reply.text("project_id"), reply.text("secret_api_key")
}

// issueToken issues a token over HTTP and fails the test otherwise.
func (s *testServer) issueToken(t testing.TB, projectID, key, userID string) string {
	t.Helper()
	reply := s.post(t, "/generate-user-token", map[string]string{
		"user_id": userID, "project_id": projectID, "secret_api_key": key,
	})
	if reply.Status != http.StatusOK {
		t.Fatalf("issue token: status %d, body %v", reply.Status, reply.Body)
	}
	return reply.text("user_token")
}
