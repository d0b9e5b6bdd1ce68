package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peroxo/peroxo/bench/internal/report"
)

// stack is an authsvc and a gateway built from this workspace and started
// on free loopback ports with their embedded backends.
type stack struct {
	gatewayURL string
	authURL    string
	adminToken string
}

// buildServices builds the authsvc and gateway binaries of this workspace
// into a temporary directory and returns it.
func buildServices(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	command := exec.Command("go", "build", "-o", dir+string(os.PathSeparator),
		"./gateway/cmd/gateway", "./authsvc/cmd/authsvc")
	command.Dir = filepath.Join("..", "..", "..")
	if output, err := command.CombinedOutput(); err != nil {
		t.Fatalf("build services: %v\n%s", err, output)
	}
	return dir
}

func startStack(t *testing.T) stack {
	t.Helper()
	binDir := buildServices(t)
	authAddr, gatewayAddr, natsAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	s := stack{
		gatewayURL: "http://" + gatewayAddr,
		authURL:    "http://" + authAddr,
		adminToken: "bench-test-admin-" + strconv.Itoa(os.Getpid()),
	}
	startService(t, filepath.Join(binDir, "authsvc"), s.authURL, []string{
		"PEROXO_AUTH_ADDR=" + authAddr,
		"PEROXO_AUTH_DATA_DIR=" + t.TempDir(),
		"PEROXO_AUTH_ADMIN_TOKEN=" + s.adminToken,
	})
	startService(t, filepath.Join(binDir, "gateway"), s.gatewayURL, []string{
		"PEROXO_GATEWAY_ADDR=" + gatewayAddr,
		"PEROXO_GATEWAY_DATA_DIR=" + t.TempDir(),
		"PEROXO_GATEWAY_NATS_LISTEN_ADDR=" + natsAddr,
		"PEROXO_GATEWAY_AUTH_URL=" + s.authURL,
		"PEROXO_GATEWAY_CHAT_URL=http://" + freeAddr(t),
	})
	skipUnlessServed(t, http.MethodGet, s.authURL+"/generate-tenant",
		"authsvc serves no /generate-tenant yet")
	skipUnlessServed(t, http.MethodGet, s.gatewayURL+"/ws",
		"the gateway serves no /ws WebSocket endpoint yet")
	return s
}

// startService runs binary with env added to a minimal environment and
// waits until its /healthz returns 200. Cleanup stops it with SIGTERM.
func startService(t *testing.T, binary, baseURL string, env []string) {
	t.Helper()
	var logs bytes.Buffer
	command := exec.Command(binary)
	command.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	command.Stdout = &logs
	command.Stderr = &logs
	if err := command.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}

	exited := make(chan error, 1)
	go func() { exited <- command.Wait() }()
	t.Cleanup(func() {
		_ = command.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = command.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(binary), logs.String())
		}
	})

	// A started process has no readiness signal but its health endpoint,
	// so poll it until it returns 200 or the process exits.
	deadline := time.Now().Add(60 * time.Second)
	for {
		response, err := http.Get(baseURL + "/healthz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited before it became healthy: %v\n%s", binary, err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy after 60s:\n%s", binary, logs.String())
		}
	}
}

// skipUnlessServed skips the test when endpoint returns 404 or 405, which
// means the service does not implement it yet.
func skipUnlessServed(t *testing.T, method, endpoint, reason string) {
	t.Helper()
	request, err := http.NewRequest(method, endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("%s %s: %v", method, endpoint, err)
	}
	response.Body.Close()
	if response.StatusCode == http.StatusNotFound || response.StatusCode == http.StatusMethodNotAllowed {
		t.Skipf("%s (HTTP %d from %s); this test needs it", reason, response.StatusCode, endpoint)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().String()
}

// runBench runs the command with args against s and decodes its JSON line.
func runBench(t *testing.T, s stack, args ...string) report.Report {
	t.Helper()
	args = append([]string{
		"-gateway", s.gatewayURL, "-auth", s.authURL, "-admin-token", s.adminToken,
		"-json", "-drain", "10s", "-warmup", "30s",
	}, args...)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("peroxo-bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decode report %q: %v", stdout.String(), err)
	}
	return rep
}

func TestBenchAgainstRealServices(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts authsvc and the gateway")
	}
	s := startStack(t)

	t.Run("dm two pairs", func(t *testing.T) {
		rep := runBench(t, s, "-scenario", "dm", "-pairs", "2", "-rate", "20", "-duration", "1s")
		if rep.Sent != 20 {
			t.Errorf("sent = %d, want 20", rep.Sent)
		}
		if rep.Delivered != rep.Sent {
			t.Errorf("delivered = %d, want %d", rep.Delivered, rep.Sent)
		}
		if rep.Duplicates != 0 {
			t.Errorf("duplicates = %d, want 0", rep.Duplicates)
		}
		if rep.AcksPersisted != rep.Sent {
			t.Errorf("acks persisted = %d, want %d", rep.AcksPersisted, rep.Sent)
		}
		if len(rep.ErrorFrames) != 0 {
			t.Errorf("error frames = %v, want none", rep.ErrorFrames)
		}
	})

	t.Run("fanout five members", func(t *testing.T) {
		rep := runBench(t, s, "-scenario", "fanout", "-members", "5", "-publishers", "1",
			"-rate", "10", "-duration", "1s")
		if rep.Expected != rep.Sent*5 {
			t.Errorf("expected deliveries = %d, want %d", rep.Expected, rep.Sent*5)
		}
		if rep.Delivered != rep.Expected {
			t.Errorf("delivered = %d, want %d", rep.Delivered, rep.Expected)
		}
		if rep.Duplicates != 0 {
			t.Errorf("duplicates = %d, want 0", rep.Duplicates)
		}
		if len(rep.ErrorFrames) != 0 {
			t.Errorf("error frames = %v, want none", rep.ErrorFrames)
		}
	})

	t.Run("idle ten connections", func(t *testing.T) {
		rep := runBench(t, s, "-scenario", "idle", "-conns", "10", "-duration", "1s", "-settle", "0s")
		if rep.Memory == nil {
			t.Fatal("report has no gateway memory")
		}
		if rep.Memory.RSSAfter <= 0 {
			t.Errorf("rss after = %v, want a positive size", rep.Memory.RSSAfter)
		}
		if rep.Disconnects != 0 {
			t.Errorf("unexpected disconnects = %d, want 0", rep.Disconnects)
		}
	})
}
