package process

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Ports are picked outside the kernel's ephemeral range, which outgoing
// connections draw from: a port picked inside it is often taken by a
// client socket before the process binds it.
var (
	portsMu  sync.Mutex
	usedPort = map[int]bool{}
)

// Bounds of the ports FreeAddr picks from when the ephemeral range leaves
// them free; Linux's default ephemeral range starts at 32768.
const (
	lowestPort  = 20000
	highestPort = 32767
)

// FreeAddr returns a 127.0.0.1 address with a port that was free when it
// was picked and that no other FreeAddr call of this test process
// returned. Another program may still take the port before the process
// binds it.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	low, high := pickRange()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := low + rand.IntN(high-low+1)
		if usedPort[port] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		listener, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		if err := listener.Close(); err != nil {
			tb.Fatalf("release port %s: %v", addr, err)
		}
		usedPort[port] = true
		return addr
	}
	tb.Fatalf("no free port found from %d to %d", low, high)
	return ""
}

// pickRange returns the ports below the ephemeral range, or the default
// bounds when the range cannot be read.
func pickRange() (int, int) {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lowestPort, highestPort
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return lowestPort, highestPort
	}
	start, err := strconv.Atoi(fields[0])
	if err != nil || start <= lowestPort+1000 {
		return lowestPort, highestPort
	}
	return lowestPort, start - 1
}
