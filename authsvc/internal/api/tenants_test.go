package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peroxo/peroxo/authsvc/internal/googleid"
	"github.com/peroxo/peroxo/authsvc/internal/oidctest"
	"github.com/peroxo/peroxo/authsvc/internal/ratelimit"
	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
	"github.com/peroxo/peroxo/authsvc/internal/tenants"
	"github.com/peroxo/peroxo/authsvc/internal/tokens"
	"github.com/peroxo/peroxo/platform/ops"
	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

func startGoogleServer(t *testing.T) (*testServer, *oidctest.Issuer) {
	issuer := oidctest.NewIssuer(t)
	server := startServer(t, serverConfig{
		google: googleid.New(issuer.URL, issuer.JWKSURL, oidctest.ClientID, http.DefaultClient),
	})
	return server, issuer
}

func TestCreateTenantWithGoogle(t *testing.T) {
	server, issuer := startGoogleServer(t)
	if issuer.KeyFetches.Load() != 0 {
		t.Fatal("signing keys fetched before the first sign-in")
	}
	reply := server.do(t, http.MethodGet, "/generate-tenant?name=Acme", "Bearer "+issuer.Token(t, "sub-1"), nil)
	if reply.Status != http.StatusOK {
		t.Fatalf("status %d, body %v", reply.Status, reply.Body)
	}
	projectID, key := reply.text("project_id"), reply.text("secret_api_key")
	if !tenants.IsProjectIDForm(projectID) || !tenants.IsAPIKeyForm(key) {
		t.Errorf("project %q / key of length %d have the wrong form", projectID, len(key))
	}
	// The new key works for issuing tokens.
	server.issueToken(t, projectID, key, "alice")

	list, err := server.Options.Tenants.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "Acme" || list[0].Creator != "google:sub-1" {
		t.Errorf("stored tenants = %+v", list)
	}
	if got := testutil.ToFloat64(server.Options.Metrics.tenantsCreated.WithLabelValues("google")); got != 1 {
		t.Errorf("tenants created by google = %v, want 1", got)
	}
}

func TestCreateTenantRejectsBadIDTokens(t *testing.T) {
	server, issuer := startGoogleServer(t)
	claims := issuer.Claims("sub-1")
	wrongAudience, wrongIssuer, expired := claims, claims, claims
	wrongAudience.Audience = "another-client"
	wrongIssuer.Issuer = "https://accounts.google.com"
	expired.Expiry = time.Now().Add(-time.Minute)
	tests := []struct {
		name          string
		authorization string
	}{
		{"no header", ""},
		{"basic scheme", "Basic dXNlcjpwYXNz"},
		{"empty bearer", "Bearer "},
		{"not a jwt", "Bearer not-a-jwt"},
		{"foreign key", "Bearer " + oidctest.Sign(t, oidctest.NewKey(t), "test-key", claims)},
		{"alg none", "Bearer " + oidctest.Unsigned(t, claims)},
		{"wrong audience", "Bearer " + oidctest.Sign(t, issuer.Key, "test-key", wrongAudience)},
		{"wrong issuer", "Bearer " + oidctest.Sign(t, issuer.Key, "test-key", wrongIssuer)},
		{"expired", "Bearer " + oidctest.Sign(t, issuer.Key, "test-key", expired)},
		{"admin token prefix", "Bearer " + testAdminToken[:len(testAdminToken)-1]},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			reply := server.do(t, http.MethodGet, "/generate-tenant", test.authorization, nil)
			if reply.Status != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401 (body %v)", reply.Status, reply.Body)
			}
			if reply.text("field") != "authorization" {
				t.Errorf("field = %q, want authorization", reply.text("field"))
			}
			if reply.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want Bearer", reply.Header.Get("WWW-Authenticate"))
			}
		})
	}
	list, err := server.Options.Tenants.List(t.Context())
	if err != nil || len(list) != 0 {
		t.Errorf("tenants after rejected requests: %d, %v", len(list), err)
	}
}

func TestCreateTenantRateLimit(t *testing.T) {
	server, issuer := startGoogleServer(t)
	token := issuer.Token(t, "sub-busy")
	for i := range 3 {
		if reply := server.do(t, http.MethodGet, "/generate-tenant", "Bearer "+token, nil); reply.Status != http.StatusOK {
			t.Fatalf("tenant %d: status %d, body %v", i+1, reply.Status, reply.Body)
		}
	}
	reply := server.do(t, http.MethodGet, "/generate-tenant", "Bearer "+token, nil)
	if reply.Status != http.StatusTooManyRequests {
		t.Fatalf("tenant 4: status %d, want 429", reply.Status)
	}
	retryAfter, err := strconv.Atoi(reply.Header.Get("Retry-After"))
	if err != nil || retryAfter <= 0 || retryAfter > 3600 {
		t.Errorf("Retry-After = %q, want 1..3600 seconds", reply.Header.Get("Retry-After"))
	}

	request := connect.NewRequest(&authv1.CreateTenantRequest{})
	request.Header().Set("Authorization", "Bearer "+token)
	_, err = server.connectClient().CreateTenant(t.Context(), request)
	var connectErr *connect.Error
	if !errors.As(err, &connectErr) || connectErr.Code() != connect.CodeResourceExhausted {
		t.Fatalf("over Connect: %v, want ResourceExhausted", err)
	}
	if connectErr.Meta().Get("Retry-After") == "" {
		t.Error("ResourceExhausted carries no Retry-After")
	}

	// Another subject has its own window.
	if reply := server.do(t, http.MethodGet, "/generate-tenant", "Bearer "+issuer.Token(t, "sub-calm"), nil); reply.Status != http.StatusOK {
		t.Errorf("another subject: status %d", reply.Status)
	}
	list, err := server.Options.Tenants.List(t.Context())
	if err != nil || len(list) != 4 {
		t.Errorf("stored tenants = %d, %v; want 4", len(list), err)
	}
}

func TestCreateTenantWithAdminToken(t *testing.T) {
	server, _ := startGoogleServer(t)
	// The admin is not rate limited: five tenants in a row.
	for i := range 5 {
		request := connect.NewRequest(&authv1.CreateTenantRequest{Name: "team " + strconv.Itoa(i)})
		request.Header().Set("Authorization", "Bearer "+testAdminToken)
		created, err := server.grpcClient(t).CreateTenant(t.Context(), request)
		if err != nil {
			t.Fatalf("tenant %d: %v", i+1, err)
		}
		if !tenants.IsProjectIDForm(created.Msg.GetProjectId()) {
			t.Errorf("project id %q has the wrong form", created.Msg.GetProjectId())
		}
	}
	if got := testutil.ToFloat64(server.Options.Metrics.tenantsCreated.WithLabelValues("admin")); got != 5 {
		t.Errorf("tenants created by admin = %v, want 5", got)
	}
}

func TestCreateTenantRejectsBadName(t *testing.T) {
	server := startServer(t, serverConfig{})
	for name, value := range map[string]string{
		"too long":     strings.Repeat("n", MaxNameBytes+1),
		"control char": "a%07b",
		"invalid utf8": "%ff%fe",
	} {
		t.Run(name, func(t *testing.T) {
			reply := server.do(t, http.MethodGet, "/generate-tenant?name="+value, "Bearer "+testAdminToken, nil)
			if reply.Status != http.StatusBadRequest || reply.text("field") != "name" {
				t.Errorf("status %d, field %q; want 400 naming name", reply.Status, reply.text("field"))
			}
		})
	}
}

func TestCreateTenantWithGoogleDisabled(t *testing.T) {
	server := startServer(t, serverConfig{})
	reply := server.do(t, http.MethodGet, "/generate-tenant", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", nil)
	if reply.Status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", reply.Status)
	}
	if !strings.Contains(reply.text("error"), "PEROXO_AUTH_GOOGLE_CLIENT_ID") {
		t.Errorf("error %q does not name the setting", reply.text("error"))
	}
}

func TestCORSPreflight(t *testing.T) {
	server := startServer(t, serverConfig{corsOrigins: []string{"https://app.example"}})
	for origin, wantAllowed := range map[string]bool{
		"https://app.example":   true,
		"https://evil.example":  false,
		"https://app.example.x": false,
	} {
		request, err := http.NewRequest(http.MethodOptions, server.URL+"/generate-user-token", nil)
		if err != nil {
			t.Fatal(err)
		}
		request.Header.Set("Origin", origin)
		request.Header.Set("Access-Control-Request-Method", "POST")
		request.Header.Set("Access-Control-Request-Headers", "content-type")
		reply, err := http.DefaultClient.Do(request)
		if err != nil {
			t.Fatal(err)
		}
		reply.Body.Close()
		allowed := reply.Header.Get("Access-Control-Allow-Origin") == origin
		if allowed != wantAllowed {
			t.Errorf("origin %s: allowed = %v, want %v", origin, allowed, wantAllowed)
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	server := startServer(t, serverConfig{})
	client := grpchealth.NewClient(http.DefaultClient, server.URL)
	for _, service := range []string{"", authv1connect.AuthServiceName} {
		status, err := client.Check(t.Context(), &grpchealth.CheckRequest{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		if status.Status != grpchealth.StatusServing {
			t.Errorf("health of %q = %v, want SERVING", service, status.Status)
		}
	}
	server.connectClient().VerifyUserToken(t.Context(),
		connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: "x"}))
	server.post(t, "/verify-user-token", map[string]string{"user_token": "x"})

	reply, err := http.Get(server.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer reply.Body.Close()
	raw := new(strings.Builder)
	if _, err := io.Copy(raw, reply.Body); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`grpc_requests_total{code="invalid_argument",procedure="/peroxo.auth.v1.AuthService/VerifyUserToken"} 1`,
		`http_requests_total{code="400",method="POST",route="POST /verify-user-token"} 1`,
		`authsvc_requests_rejected_total{operation="verify_user_token",reason="malformed_token"} 2`,
		`authsvc_user_tokens_issued_total 0`,
	} {
		if !strings.Contains(raw.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestHealthNotServingWithoutBackend(t *testing.T) {
	db := servicetest.SQLite(t)
	registry := ops.NewRegistry()
	server := serve(t, Options{
		Tenants:       tenants.NewSQLiteStore(db),
		Tokens:        tokens.NewSQLiteStore(db, nil),
		TenantLimiter: ratelimit.NewSQLiteLimiter(db, ratelimit.Rule{Limit: 1, Window: time.Hour}, nil),
		Google:        googleid.New("https://issuer.invalid", "https://issuer.invalid/k", "", nil),
		TokenTTL:      time.Minute,
		Metrics:       NewMetrics(registry),
		Logger:        slog.New(slog.DiscardHandler),
	}, registry, nil)
	db.Close()

	status, err := grpchealth.NewClient(http.DefaultClient, server.URL).Check(t.Context(),
		&grpchealth.CheckRequest{Service: authv1connect.AuthServiceName})
	if err != nil {
		t.Fatal(err)
	}
	if status.Status != grpchealth.StatusNotServing {
		t.Errorf("health = %v, want NOT_SERVING", status.Status)
	}
	_, err = server.connectClient().VerifyUserToken(t.Context(),
		connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: "pxtok_AAAAAAAAAAAAAAAAAAAAAAAA"}))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("verify with a closed store: %v, want Unavailable", err)
	}
}
