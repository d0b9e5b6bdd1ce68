package process

import (
	"net"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address with a port that was free when
// it was picked. Another program may take the port before the process
// binds it, so use port 0 where the process reports its address instead.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("pick a free port: %v", err)
	}
	addr := listener.Addr().String()
	if err := listener.Close(); err != nil {
		tb.Fatalf("release port %s: %v", addr, err)
	}
	return addr
}
