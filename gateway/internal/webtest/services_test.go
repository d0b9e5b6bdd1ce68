package webtest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a service may take to report ready.
const startTimeout = 90 * time.Second

// stopTimeout bounds how long a service may take to exit after SIGTERM
// before it is killed.
const stopTimeout = 30 * time.Second

// serviceNames lists the services in start order: the gateway embeds the
// NATS server that the consumer connects to.
var serviceNames = []string{"gateway", "authsvc", "chatsvc", "consumer"}

// buildServices compiles the four service binaries into a temporary
// directory and returns their paths by name.
func buildServices(tb testing.TB) map[string]string {
	tb.Helper()
	root := repositoryRoot(tb)
	dir := tb.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, name := range serviceNames {
		args = append(args, fmt.Sprintf("./%s/cmd/%s", name, name))
	}
	command := exec.Command("go", args...)
	command.Dir = root
	output, err := command.CombinedOutput()
	if err != nil {
		tb.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, output)
	}
	binaries := make(map[string]string)
	for _, name := range serviceNames {
		binaries[name] = filepath.Join(dir, name)
	}
	return binaries
}

// repositoryRoot returns the directory of go.work.
func repositoryRoot(tb testing.TB) string {
	tb.Helper()
	output, err := exec.Command("go", "env", "GOWORK").Output()
	if err != nil {
		tb.Fatalf("go env GOWORK: %v", err)
	}
	work := strings.TrimSpace(string(output))
	if work == "" || work == "off" {
		tb.Fatal("go env GOWORK is empty: run the test inside the PerOXO workspace")
	}
	return filepath.Dir(work)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago. Another process may take it before the service binds it, which
// makes the service fail to start with a clear "address in use" error.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen on a free port: %v", err)
	}
	addr := listener.Addr().String()
	if err := listener.Close(); err != nil {
		tb.Fatalf("close probe listener: %v", err)
	}
	return addr
}

// randomSecret returns 32 random bytes in hex.
func randomSecret(tb testing.TB) string {
	tb.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		tb.Fatalf("read random bytes: %v", err)
	}
	return hex.EncodeToString(secret)
}

// service is one service process that can be stopped and started again
// with the same settings. Only the test goroutine calls its methods.
type service struct {
	name    string
	binary  string
	env     []string
	addr    string
	logPath string
	command *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// start launches the process and waits until GET /readyz returns 200.
func (s *service) start(tb testing.TB) {
	tb.Helper()
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatalf("open %s log: %v", s.name, err)
	}
	command := exec.Command(s.binary)
	command.Env = append(os.Environ(), s.env...)
	command.Stdout = logFile
	command.Stderr = logFile
	if err := command.Start(); err != nil {
		logFile.Close()
		tb.Fatalf("start %s: %v", s.name, err)
	}
	s.command = command
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = command.Wait()
		logFile.Close()
		close(s.exited)
	}()
	s.waitReady(tb)
}

func (s *service) waitReady(tb testing.TB) {
	tb.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + s.addr + "/readyz"
	deadline := time.Now().Add(startTimeout)
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		response, err := client.Get(url)
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-s.exited:
			tb.Fatalf("%s exited before it was ready: %v\n%s", s.name, s.waitErr, s.logTail())
		case <-ticker.C:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s not ready at %s after %s\n%s", s.name, url, startTimeout, s.logTail())
		}
	}
}

// stop sends SIGTERM and waits for the process to exit, killing it after
// stopTimeout. It does nothing when the process is not running.
func (s *service) stop(tb testing.TB) {
	tb.Helper()
	if s.command == nil {
		return
	}
	select {
	case <-s.exited:
	default:
		if err := s.command.Process.Signal(syscall.SIGTERM); err != nil &&
			!errors.Is(err, os.ErrProcessDone) {
			tb.Errorf("send SIGTERM to %s: %v", s.name, err)
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			tb.Errorf("%s did not exit within %s of SIGTERM; killing it", s.name, stopTimeout)
			_ = s.command.Process.Kill()
			<-s.exited
		}
	}
	s.command = nil
}

// logTail returns the last lines of the service's log.
func (s *service) logTail() string {
	file, err := os.Open(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer file.Close()
	const keep = 40
	var lines []string
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
		if len(lines) > keep {
			lines = lines[1:]
		}
	}
	return fmt.Sprintf("--- last lines of %s ---\n%s", s.name, strings.Join(lines, "\n"))
}

// system is the four services of one PerOXO deployment.
type system struct {
	gateway  *service
	chatsvc  *service
	services []*service
}

// startSystem starts gateway, authsvc, chatsvc and consumer in development
// mode on free loopback ports, with data directories under tb.TempDir().
// Cleanup stops them all and prints their logs when the test failed.
func startSystem(tb testing.TB, binaries map[string]string) *system {
	tb.Helper()
	addrs := map[string]string{}
	for _, name := range serviceNames {
		addrs[name] = freeAddr(tb)
	}
	env := serviceSettings(tb, addrs)

	logDir := tb.TempDir()
	sys := &system{}
	for _, name := range serviceNames {
		svc := &service{
			name:    name,
			binary:  binaries[name],
			env:     append([]string{"PEROXO_LOG_LEVEL=debug"}, env[name]...),
			addr:    addrs[name],
			logPath: filepath.Join(logDir, name+".log"),
		}
		sys.services = append(sys.services, svc)
		switch name {
		case "gateway":
			sys.gateway = svc
		case "chatsvc":
			sys.chatsvc = svc
		}
	}
	tb.Cleanup(func() {
		// Stop in reverse start order, the gateway last because it hosts NATS.
		for i := len(sys.services) - 1; i >= 0; i-- {
			sys.services[i].stop(tb)
		}
		if tb.Failed() {
			for _, svc := range sys.services {
				tb.Log(svc.logTail())
			}
		}
	})
	for _, svc := range sys.services {
		svc.start(tb)
	}
	return sys
}

// serviceSettings returns the environment of each service: its address
// from addrs, a fresh data directory, the addresses of the services it
// calls, development mode and an admin token shared by gateway and authsvc.
func serviceSettings(tb testing.TB, addrs map[string]string) map[string][]string {
	tb.Helper()
	adminToken := randomSecret(tb)
	natsAddr := freeAddr(tb)
	// No test traffic may leave the machine, so every URL a service could
	// call by default points at a loopback address.
	unreachable := "http://" + freeAddr(tb)
	return map[string][]string{
		"gateway": {
			"PEROXO_GATEWAY_ADDR=" + addrs["gateway"],
			"PEROXO_GATEWAY_DATA_DIR=" + tb.TempDir(),
			"PEROXO_GATEWAY_NATS_LISTEN_ADDR=" + natsAddr,
			"PEROXO_GATEWAY_AUTH_URL=http://" + addrs["authsvc"],
			"PEROXO_GATEWAY_CHAT_URL=http://" + addrs["chatsvc"],
			"PEROXO_GATEWAY_DEV_MODE=true",
			"PEROXO_GATEWAY_AUTH_ADMIN_TOKEN=" + adminToken,
		},
		"authsvc": {
			"PEROXO_AUTH_ADDR=" + addrs["authsvc"],
			"PEROXO_AUTH_DATA_DIR=" + tb.TempDir(),
			"PEROXO_AUTH_ADMIN_TOKEN=" + adminToken,
			"PEROXO_AUTH_GOOGLE_ISSUER=" + unreachable,
			"PEROXO_AUTH_GOOGLE_JWKS_URL=" + unreachable + "/certs",
		},
		"chatsvc": {
			"PEROXO_CHAT_ADDR=" + addrs["chatsvc"],
			"PEROXO_CHAT_DATA_DIR=" + tb.TempDir(),
		},
		"consumer": {
			"PEROXO_CONSUMER_ADDR=" + addrs["consumer"],
			"PEROXO_CONSUMER_DATA_DIR=" + tb.TempDir(),
			"PEROXO_CONSUMER_NATS_URL=nats://" + natsAddr,
			"PEROXO_CONSUMER_CHAT_URL=http://" + addrs["chatsvc"],
		},
	}
}

// baseURL returns the gateway's HTTP base URL, which serves the web client.
func (s *system) baseURL() string {
	return "http://" + s.gateway.addr + "/"
}

// restartGateway stops the gateway with SIGTERM and starts it again with
// the same ports and data directory.
func (s *system) restartGateway(tb testing.TB, whileDown func()) {
	tb.Helper()
	s.gateway.stop(tb)
	if whileDown != nil {
		whileDown()
	}
	s.gateway.start(tb)
}
