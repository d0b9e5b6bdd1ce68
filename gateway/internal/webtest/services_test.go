package webtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peroxo/peroxo/platform/testenv/process"
)

func TestMain(m *testing.M) {
	os.Exit(process.RunTests(m))
}

// stopTimeout bounds how long a service may take to exit after SIGTERM
// before it is killed.
const stopTimeout = 30 * time.Second

// tokenTTL is the lifetime of user tokens in the test. The page renews a
// development token a minute before it expires, so its first renewal
// comes 30 s after sign-in, well within the test.
const tokenTTL = 90 * time.Second

// serviceNames lists the services in start order: the gateway embeds the
// NATS server that the consumer connects to.
var serviceNames = []string{"gateway", "authsvc", "chatsvc", "consumer"}

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

// randomSecret returns 32 random bytes in hex.
func randomSecret(tb testing.TB) string {
	tb.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		tb.Fatalf("read random bytes: %v", err)
	}
	return hex.EncodeToString(secret)
}

// system is the four services of one PerOXO deployment.
type system struct {
	gateway *process.Process
	// addrs holds each service's HTTP address by name.
	addrs map[string]string
}

// startSystem builds and starts gateway, authsvc, chatsvc and consumer in
// development mode on free loopback ports, with data directories under
// tb.TempDir(). Cleanups registered by the process package kill them when
// the test ends and log their output when it failed.
func startSystem(tb testing.TB) *system {
	tb.Helper()
	sys := &system{addrs: map[string]string{}}
	for _, name := range serviceNames {
		sys.addrs[name] = process.FreeAddr(tb)
	}
	env := serviceSettings(tb, sys.addrs)
	for _, name := range serviceNames {
		started := process.Start(tb, process.Options{
			Name:        name,
			Binary:      process.Build(tb, "github.com/peroxo/peroxo/"+name+"/cmd/"+name),
			Env:         append([]string{"PEROXO_LOG_LEVEL=debug"}, env[name]...),
			HealthAddr:  sys.addrs[name],
			StopTimeout: stopTimeout,
		})
		if name == "gateway" {
			sys.gateway = started
		}
	}
	return sys
}

// serviceSettings returns the environment of each service: its address
// from addrs, a fresh data directory, the addresses of the services it
// calls, development mode and an admin token shared by gateway and authsvc.
func serviceSettings(tb testing.TB, addrs map[string]string) map[string][]string {
	tb.Helper()
	adminToken := randomSecret(tb)
	natsAddr := process.FreeAddr(tb)
	// No test traffic may leave the machine, so every URL a service could
	// call by default points at a loopback address.
	unreachable := "http://" + process.FreeAddr(tb)
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
			// Short-lived tokens make the page renew its token and send
			// RefreshToken while the test runs.
			"PEROXO_AUTH_TOKEN_TTL=" + tokenTTL.String(),
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
	return "http://" + s.addrs["gateway"] + "/"
}

// restartGateway stops the gateway with SIGTERM, which must end it
// cleanly, runs whileDown, and starts it again with the same ports and
// data directory.
func (s *system) restartGateway(tb testing.TB, whileDown func()) {
	tb.Helper()
	if err := s.gateway.Stop(); err != nil {
		tb.Errorf("stop gateway: %v", err)
	}
	if whileDown != nil {
		whileDown()
	}
	s.gateway.Restart(tb)
}
