package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/peroxo/peroxo/authsvc/internal/oidctest"
	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// binaryPath is the command built once by TestMain.
var binaryPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "authsvc-binary-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binaryPath = filepath.Join(dir, "authsvc")
	build := exec.Command("go", "build", "-o", binaryPath, ".")
	if output, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, output)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// command runs the binary with env on top of a minimal environment.
func command(ctx context.Context, binary string, env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for name, value := range env {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	return cmd
}

type createdTenant struct {
	ProjectID    string `json:"project_id"`
	SecretAPIKey string `json:"secret_api_key"`
}

func createWithCLI(t *testing.T, binary string, env map[string]string, name string) createdTenant {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := command(t.Context(), binary, env, "tenants", "create", "--name", name)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tenants create: %v\n%s", err, stderr.String())
	}
	if lines := strings.Count(stdout.String(), "\n"); lines != 1 {
		t.Errorf("tenants create printed %d lines, want 1", lines)
	}
	var tenant createdTenant
	if err := json.Unmarshal(stdout.Bytes(), &tenant); err != nil {
		t.Fatalf("tenants create output %q: %v", stdout.String(), err)
	}
	return tenant
}

var listenLine = regexp.MustCompile(`msg="authsvc listening" .*addr=(\S+)`)

// startBinary runs "authsvc serve" and returns its base URL once it
// listens. The server is stopped with SIGTERM when the test ends.
func startBinary(t *testing.T, binary string, env map[string]string) string {
	t.Helper()
	cmd := command(context.Background(), binary, env, "serve")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	logs := new(strings.Builder)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			logs.WriteString(scanner.Text() + "\n")
			if match := listenLine.FindStringSubmatch(scanner.Text()); match != nil {
				addr <- match[1]
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-drained
		if err := cmd.Wait(); err != nil {
			t.Errorf("authsvc exited with %v; log:\n%s", err, logs.String())
		}
		for _, secret := range []string{"pxtok_", "pxsk_"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log contains a %s credential", secret)
			}
		}
	})
	select {
	case listening := <-addr:
		return "http://" + listening
	case <-drained:
		t.Fatalf("authsvc exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("authsvc did not listen within 30s")
	}
	return ""
}

func postJSON(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer reply.Body.Close()
	decoded := map[string]any{}
	data, _ := io.ReadAll(reply.Body)
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("POST %s: body %q: %v", url, data, err)
	}
	return reply.StatusCode, decoded
}

func h2cClient(t *testing.T) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protocols}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport}
}

func TestBinaryEndToEnd(t *testing.T) {
	binary := binaryPath
	backends := map[string]func(t *testing.T) map[string]string{
		"embedded": func(t *testing.T) map[string]string {
			return map[string]string{}
		},
		"postgres and redis": func(t *testing.T) map[string]string {
			return map[string]string{
				"PEROXO_AUTH_TENANT_STORE": "postgres",
				"PEROXO_AUTH_POSTGRES_URL": servicetest.PostgresURL(t),
				"PEROXO_AUTH_TOKEN_STORE":  "redis",
				"PEROXO_AUTH_REDIS_URL":    servicetest.RedisURL(t),
				"PEROXO_AUTH_REDIS_PREFIX": servicetest.RedisPrefix(t),
			}
		},
	}
	for name, backendEnv := range backends {
		t.Run(name, func(t *testing.T) {
			env := backendEnv(t)
			env["PEROXO_AUTH_DATA_DIR"] = t.TempDir()
			env["PEROXO_AUTH_ADDR"] = "127.0.0.1:0"
			env["PEROXO_AUTH_TOKEN_TTL"] = "1s"
			testBinary(t, binary, env)
		})
	}
}

func testBinary(t *testing.T, binary string, env map[string]string) {
	tenant := createWithCLI(t, binary, env, "before start")
	url := startBinary(t, binary, env)

	status, issued := postJSON(t, url+"/generate-user-token", map[string]string{
		"user_id": "alice", "project_id": tenant.ProjectID, "secret_api_key": tenant.SecretAPIKey,
	})
	if status != http.StatusOK {
		t.Fatalf("issue: status %d, body %v", status, issued)
	}
	token, _ := issued["user_token"].(string)

	status, verified := postJSON(t, url+"/verify-user-token", map[string]string{"user_token": token})
	if status != http.StatusOK || verified["user_id"] != "alice" || verified["project_id"] != tenant.ProjectID {
		t.Fatalf("verify over HTTP: status %d, body %v", status, verified)
	}
	clients := map[string]authv1connect.AuthServiceClient{
		"connect": authv1connect.NewAuthServiceClient(http.DefaultClient, url),
		"grpc":    authv1connect.NewAuthServiceClient(h2cClient(t), url, connect.WithGRPC()),
	}
	for name, client := range clients {
		reply, err := client.VerifyUserToken(t.Context(),
			connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
		if err != nil {
			t.Fatalf("verify over %s: %v", name, err)
		}
		if reply.Msg.GetUserId() != "alice" || reply.Msg.GetProjectId() != tenant.ProjectID {
			t.Errorf("verify over %s: %v", name, reply.Msg)
		}
	}

	// The CLI works on the same data while the server runs.
	second := createWithCLI(t, binary, env, "while running")
	status, body := postJSON(t, url+"/generate-user-token", map[string]string{
		"user_id": "bob", "project_id": second.ProjectID, "secret_api_key": second.SecretAPIKey,
	})
	if status != http.StatusOK {
		t.Errorf("issue for a tenant created while running: status %d, body %v", status, body)
	}
	listed := listWithCLI(t, binary, env)
	for _, want := range []string{tenant.ProjectID, second.ProjectID, "while running"} {
		if !strings.Contains(listed, want) {
			t.Errorf("tenants list lacks %q:\n%s", want, listed)
		}
	}
	if strings.Contains(listed, "pxsk_") {
		t.Error("tenants list shows a secret API key")
	}

	// The 1s token stops verifying once it expires.
	expiresAt := time.UnixMilli(int64(verified["expires_at"].(float64)))
	time.Sleep(time.Until(expiresAt))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := clients["connect"].VerifyUserToken(t.Context(),
			connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
		if connect.CodeOf(err) == connect.CodeUnauthenticated {
			break
		}
		if err != nil {
			t.Fatalf("verify after expiry: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("token still verifies 5s after its expiry")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := postJSON(t, url+"/verify-user-token", map[string]string{"user_token": token}); status != http.StatusUnauthorized {
		t.Errorf("verify over HTTP after expiry: status %d, want 401", status)
	}

	ready, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusOK {
		t.Errorf("/readyz status %d, want 200", ready.StatusCode)
	}
}

func listWithCLI(t *testing.T, binary string, env map[string]string) string {
	t.Helper()
	output, err := command(t.Context(), binary, env, "tenants", "list").Output()
	if err != nil {
		t.Fatalf("tenants list: %v", err)
	}
	return string(output)
}

func TestParseCommand(t *testing.T) {
	tests := []struct {
		args    []string
		want    string
		wantErr bool
	}{
		{nil, "serve", false},
		{[]string{"serve"}, "serve", false},
		{[]string{"serve", "now"}, "", true},
		{[]string{"tenants", "create", "--name", "x"}, "tenants create", false},
		{[]string{"tenants", "list"}, "tenants list", false},
		{[]string{"tenants"}, "", true},
		{[]string{"tenants", "delete"}, "", true},
		{[]string{"--help"}, "help", false},
	}
	for _, test := range tests {
		got, err := parseCommand(test.args)
		if (err != nil) != test.wantErr || got != test.want {
			t.Errorf("parseCommand(%q) = %q, %v; want %q (error %v)", test.args, got, err, test.want, test.wantErr)
		}
	}
}

func TestBinaryGoogleSignIn(t *testing.T) {
	binary := binaryPath
	issuer := oidctest.NewIssuer(t)
	url := startBinary(t, binary, map[string]string{
		"PEROXO_AUTH_DATA_DIR":           t.TempDir(),
		"PEROXO_AUTH_ADDR":               "127.0.0.1:0",
		"PEROXO_AUTH_GOOGLE_ISSUER":      issuer.URL,
		"PEROXO_AUTH_GOOGLE_JWKS_URL":    issuer.JWKSURL,
		"PEROXO_AUTH_GOOGLE_CLIENT_ID":   oidctest.ClientID,
		"PEROXO_AUTH_TENANT_RATE_LIMIT":  "2",
		"PEROXO_AUTH_TENANT_RATE_WINDOW": "10m",
	})
	if issuer.KeyFetches.Load() != 0 {
		t.Fatal("the server fetched signing keys at start")
	}
	token := issuer.Token(t, "sub-binary")
	wantStatuses := []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests}
	for i, wantStatus := range wantStatuses {
		request, err := http.NewRequest(http.MethodGet, url+"/generate-tenant", nil)
		if err != nil {
			t.Fatal(err)
		}
		request.Header.Set("Authorization", "Bearer "+token)
		reply, err := http.DefaultClient.Do(request)
		if err != nil {
			t.Fatal(err)
		}
		reply.Body.Close()
		if reply.StatusCode != wantStatus {
			t.Errorf("request %d: status %d, want %d", i+1, reply.StatusCode, wantStatus)
		}
		if wantStatus == http.StatusTooManyRequests && reply.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if issuer.KeyFetches.Load() != 1 {
		t.Errorf("signing keys fetched %d times, want 1", issuer.KeyFetches.Load())
	}
}
