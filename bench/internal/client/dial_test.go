package client

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestWebSocketURL(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws"},
		{"http://127.0.0.1:8080/", "ws://127.0.0.1:8080/ws"},
		{"https://gw.local", "wss://gw.local/ws"},
		{"ws://127.0.0.1:1/ws?token=old", "ws://127.0.0.1:1/ws"},
		{"http://[::1]:8080/custom", "ws://[::1]:8080/custom"},
	}
	for _, tc := range cases {
		got, err := WebSocketURL(tc.in)
		if err != nil {
			t.Errorf("WebSocketURL(%q): %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("WebSocketURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"ftp://x", "127.0.0.1:8080", "http://"} {
		if _, err := WebSocketURL(bad); err == nil {
			t.Errorf("WebSocketURL(%q) returned no error", bad)
		}
	}
}

func TestSourceAddrsFor(t *testing.T) {
	cases := []struct{ connections, want int }{
		{0, 1}, {1, 1}, {10_000, 1}, {10_001, 2}, {100_000, 10},
	}
	for _, tc := range cases {
		if got := SourceAddrsFor(tc.connections); got != tc.want {
			t.Errorf("SourceAddrsFor(%d) = %d, want %d", tc.connections, got, tc.want)
		}
	}
}

func TestNewDialerSpreadsOnlyOverIPv4Loopback(t *testing.T) {
	cases := []struct {
		url  string
		want int
	}{
		{"http://127.0.0.1:18080", 4},
		{"http://[::1]:18080", 1},
		{"http://localhost:18080", 1},
	}
	for _, tc := range cases {
		dialer, err := NewDialer(tc.url, 4, 0)
		if err != nil {
			t.Fatalf("NewDialer(%q): %v", tc.url, err)
		}
		if got := dialer.SourceAddrs(); got != tc.want {
			t.Errorf("NewDialer(%q).SourceAddrs() = %d, want %d", tc.url, got, tc.want)
		}
	}
}

func TestClassifyDialError(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{fmt.Errorf("dial tcp: %w", syscall.EMFILE), ErrFDLimit},
		{fmt.Errorf("dial tcp: %w", syscall.ENFILE), ErrFDLimit},
		{fmt.Errorf("dial tcp: %w", syscall.EADDRNOTAVAIL), ErrPortsExhausted},
		{fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED), ErrNoGateway},
	}
	for _, tc := range cases {
		if got := classifyDialError(tc.err, nil); !errors.Is(got, tc.want) {
			t.Errorf("classifyDialError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestDialerBindsSourceAddresses(t *testing.T) {
	remotes := make(chan string, 4)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "pxtok_test" {
			http.Error(w, "missing token", http.StatusUnauthorized)
			return
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		remotes <- host
		_ = conn.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(server.Close)

	dialer, err := NewDialer(server.URL, 2, 5*time.Second)
	if err != nil {
		t.Fatalf("NewDialer: %v", err)
	}
	seen := make(map[string]bool)
	for range 4 {
		conn, err := dialer.Dial(t.Context(), "pxtok_test")
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		seen[<-remotes] = true
		conn.CloseNow()
	}
	for _, want := range []string{"127.0.0.1", "127.0.0.2"} {
		if !seen[want] {
			t.Errorf("no connection came from %s; sources seen: %v", want, seen)
		}
	}
}

func TestDialReportsRejectedUpgrade(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "invalid token", http.StatusUnauthorized)
	}))
	t.Cleanup(server.Close)
	dialer, err := NewDialer(server.URL, 1, 5*time.Second)
	if err != nil {
		t.Fatalf("NewDialer: %v", err)
	}
	_, err = dialer.Dial(t.Context(), "pxtok_wrong")
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("Dial error = %v, want one naming HTTP 401", err)
	}
	if err != nil && strings.Contains(err.Error(), "pxtok_wrong") {
		t.Errorf("Dial error %q shows the token", err)
	}
}

func TestDialRedactsTokenOnRefusedConnection(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := listener.Addr().String()
	listener.Close()

	dialer, err := NewDialer("http://"+addr, 1, 5*time.Second)
	if err != nil {
		t.Fatalf("NewDialer: %v", err)
	}
	_, err = dialer.Dial(t.Context(), "pxtok_secret")
	if err == nil {
		t.Fatal("Dial to a closed port returned no error")
	}
	if strings.Contains(err.Error(), "pxtok_secret") {
		t.Errorf("Dial error %q shows the token", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Dial error %v does not unwrap to ECONNREFUSED", err)
	}
}
