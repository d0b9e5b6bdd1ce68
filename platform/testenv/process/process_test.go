package process_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peroxo/peroxo/platform/testenv/process"
)

const healthServer = "github.com/peroxo/peroxo/platform/testenv/process/internal/healthserver"

func TestMain(m *testing.M) {
	os.Exit(process.RunTests(m))
}

func startHealthServer(t *testing.T, env ...string) *process.Process {
	t.Helper()
	addr := process.FreeAddr(t)
	return process.Start(t, process.Options{
		Name:        "healthserver",
		Binary:      process.Build(t, healthServer),
		Args:        []string{"one", "two"},
		Env:         append([]string{"HEALTHSERVER_ADDR=" + addr}, env...),
		HealthAddr:  addr,
		StopTimeout: 2 * time.Second,
	})
}

func TestBuildOncePerPackage(t *testing.T) {
	paths := make([]string, 8)
	var wait sync.WaitGroup
	for i := range paths {
		wait.Go(func() { paths[i] = process.Build(t, healthServer) })
	}
	wait.Wait()
	for i, path := range paths {
		if path != paths[0] {
			t.Errorf("build %d returned %s, want %s", i, path, paths[0])
		}
	}
	if _, err := os.Stat(paths[0]); err != nil {
		t.Errorf("binary missing: %v", err)
	}
}

func TestStartWaitsForHealth(t *testing.T) {
	server := startHealthServer(t)
	// Output is copied from a pipe in the background; after the process
	// exited, all of it is in.
	if err := server.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	output := server.Output()
	if !strings.Contains(output, "[healthserver] started with [one two]") {
		t.Errorf("output lacks the prefixed start line:\n%s", output)
	}
	if !strings.Contains(output, "[healthserver] healthz") {
		t.Errorf("output lacks a health check:\n%s", output)
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantErr string
	}{
		{name: "clean exit", env: nil, wantErr: ""},
		{name: "exit status", env: []string{"HEALTHSERVER_EXIT_CODE=3"},
			wantErr: "exit status 3"},
		{name: "SIGTERM ignored", env: []string{"HEALTHSERVER_IGNORE_TERM=1"},
			wantErr: "did not exit within 2s"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := startHealthServer(t, test.env...)
			err := server.Stop()
			if test.wantErr == "" && err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if test.wantErr != "" && (err == nil || !strings.Contains(err.Error(), test.wantErr)) {
				t.Fatalf("Stop returned %v, want an error containing %q", err, test.wantErr)
			}
			select {
			case <-server.Exited():
			default:
				t.Fatal("process still runs after Stop")
			}
		})
	}
}

func TestKillAndRestart(t *testing.T) {
	server := startHealthServer(t)
	server.Kill()
	server.Kill() // idempotent
	if !strings.Contains(server.Output(), "signal: killed") {
		t.Errorf("output does not record the kill:\n%s", server.Output())
	}

	server.Restart(t)
	if err := server.Stop(); err != nil {
		t.Errorf("Stop after Restart: %v", err)
	}
	if got := strings.Count(server.Output(), "started with [one two]"); got != 2 {
		t.Errorf("process started %d times, want 2 with the same arguments", got)
	}
}

func TestRun(t *testing.T) {
	stdout := process.Run(t, 10*time.Second, process.Options{
		Name:   "go-env",
		Binary: "go",
		Args:   []string{"env", "GOFLAGS"},
		Env:    []string{"GOFLAGS=-count=1"},
	})
	if got := strings.TrimSpace(string(stdout)); got != "-count=1" {
		t.Errorf("stdout %q, want the added setting -count=1", got)
	}
}

func TestCleanupKillsProcess(t *testing.T) {
	var server *process.Process
	t.Run("inner", func(t *testing.T) {
		server = startHealthServer(t, "HEALTHSERVER_IGNORE_TERM=1")
	})
	select {
	case <-server.Exited():
	default:
		t.Fatal("process outlived the test that started it")
	}
}

func TestFreeAddrDistinctPorts(t *testing.T) {
	seen := make(map[string]bool)
	for range 200 {
		addr := process.FreeAddr(t)
		if seen[addr] {
			t.Fatalf("FreeAddr returned %s twice", addr)
		}
		seen[addr] = true
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("FreeAddr returned %q: %v", addr, err)
		}
		if number, _ := strconv.Atoi(port); number >= 32768 {
			t.Errorf("FreeAddr returned port %d inside the default ephemeral range", number)
		}
	}
}
