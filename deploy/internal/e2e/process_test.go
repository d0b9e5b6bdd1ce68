package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildServices compiles the four service binaries into a temporary folder
// and returns the folder.
func buildServices(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	command := exec.CommandContext(t.Context(), "go", "build", "-o", dir+string(os.PathSeparator),
		"./gateway/cmd/gateway", "./authsvc/cmd/authsvc",
		"./chatsvc/cmd/chatsvc", "./consumer/cmd/consumer")
	command.Dir = root
	if output, err := command.CombinedOutput(); err != nil {
		t.Fatalf("build services: %v\n%s", err, output)
	}
	return dir
}

// process is one running service binary. Its log lines are kept so a
// failing test can show them.
type process struct {
	name    string
	command *exec.Cmd
	// addr is the listen address the service logged at start.
	addr string

	mu   sync.Mutex
	logs []string
}

// startService runs bin/name with settings added to a process environment
// stripped of every PEROXO_ variable, waits until the service logs its
// listen address and stops it with SIGTERM when the test ends.
func startService(t *testing.T, bin, name string, settings map[string]string) *process {
	t.Helper()
	command := exec.Command(filepath.Join(bin, name))
	command.Env = serviceEnv(settings)
	stderr, err := command.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	proc := &process{name: name, command: command}
	if err := command.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	listening := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		proc.scan(stderr, listening)
	}()
	exited := make(chan error, 1)
	go func() {
		<-scanned
		exited <- command.Wait()
	}()
	t.Cleanup(func() {
		_ = command.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = command.Process.Kill()
			<-exited
			t.Errorf("%s did not stop within 15s of SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, proc.log())
		}
	})

	select {
	case proc.addr = <-listening:
	case err := <-exited:
		exited <- err
		t.Fatalf("%s exited before listening: %v\n%s", name, err, proc.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s logged no listen address within 30s\n%s", name, proc.log())
	}
	return proc
}

// scan keeps every log line and sends the addr of the first JSON record
// whose message ends in "listening".
func (p *process) scan(stderr io.Reader, listening chan<- string) {
	scanner := bufio.NewScanner(stderr)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for scanner.Scan() {
		line := scanner.Text()
		p.mu.Lock()
		p.logs = append(p.logs, line)
		p.mu.Unlock()
		if sent {
			continue
		}
		var record struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &record) == nil &&
			strings.HasSuffix(record.Msg, "listening") && record.Addr != "" {
			listening <- record.Addr
			sent = true
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// url returns the service's base URL.
func (p *process) url() string {
	return "http://" + p.addr
}

// serviceEnv returns the process environment without PEROXO_ variables,
// so settings of the developer's shell do not leak in, plus settings.
func serviceEnv(settings map[string]string) []string {
	var environment []string
	for _, entry := range os.Environ() {
		if !strings.HasPrefix(entry, "PEROXO_") {
			environment = append(environment, entry)
		}
	}
	for key, value := range settings {
		environment = append(environment, key+"="+value)
	}
	return append(environment, "PEROXO_LOG_FORMAT=json")
}

// reservePort returns a loopback port that was free a moment ago, for a
// listener whose address a test cannot learn after the fact.
func reservePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

// commandTimeout bounds one run of a service's command line.
const commandTimeout = 30 * time.Second

// runCommand runs bin/name with args and settings and returns its stdout.
func runCommand(t *testing.T, bin, name string, settings map[string]string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), commandTimeout)
	defer cancel()
	command := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	command.Env = serviceEnv(settings)
	var stderr strings.Builder
	command.Stderr = &stderr
	output, err := command.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return output
}

func mustJSON(t *testing.T, value any) string {
	t.Helper()
	data, err := json.Marshal(value)
	if err != nil {
		t.Fatal(fmt.Errorf("encode json: %w", err))
	}
	return string(data)
}
