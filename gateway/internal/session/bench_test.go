package session

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/peroxo/peroxo/gateway/internal/auth"
	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/router"
	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// BenchmarkWrite measures one frame from Send through the write loop and
// a loopback WebSocket connection to a client that reads every frame.
func BenchmarkWrite(b *testing.B) {
	settings := testSettings()
	settings.QueueLength = b.N + 16
	sessions := make(chan *Session, 1)
	url := serveBench(b, startRouter(b), settings, func(session *Session) { sessions <- session })
	conn, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.CloseNow()
	session := <-sessions
	frame := wire.MustEncode(wire.Presence{User: "bob", Status: wire.StatusOnline})
	read := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		for range b.N {
			if _, _, err := conn.Read(context.Background()); err != nil {
				read <- err
				return
			}
		}
		read <- nil
	}()
	for range b.N {
		session.Send(frame)
	}
	if err := <-read; err != nil {
		b.Fatal(err)
	}
}

// startRouter runs a router for the benchmark's sessions until it ends.
func startRouter(b *testing.B) *router.Router {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(router.Settings{
		NodeID: "node", SessionsPerUser: 2, RoomsPerSession: 2, RoomMembersPerNode: 10,
		RecentIDs: 8, RecentIDBytes: 1 << 16, RecentIDTTL: time.Minute, InboxLength: 64, RoomInboxLength: 8,
		PresenceFanoutMax: 8,
	}, localBus{}, metrics.New(prometheus.NewRegistry()), logger)
	routerDone := make(chan error, 1)
	go func() { routerDone <- r.Run(context.Background()) }()
	b.Cleanup(func() {
		r.Close()
		<-routerDone
	})
	return r
}

// BenchmarkIdleConnections opens b.N idle sessions on a loopback server in
// this process and reports heap, Go runtime memory and goroutines per
// connection. The figures include the client ends of the connections.
func BenchmarkIdleConnections(b *testing.B) {
	// The queue length is the default of PEROXO_GATEWAY_QUEUE_LENGTH.
	settings := testSettings()
	settings.QueueLength = 256
	ctx := context.Background()
	url := serveBench(b, startRouter(b), settings, nil) + "?user="
	before := memoryInUse()
	goroutines := runtime.NumGoroutine()
	conns := make([]*websocket.Conn, b.N)
	for i := range conns {
		conn, _, err := websocket.Dial(ctx, url+strconv.Itoa(i), nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
	}
	// NOTE: the sessions' goroutines start after the handshake, so a short
	// wait lets the last ones settle; this is a measurement, not a test.
	time.Sleep(200 * time.Millisecond)
	after := memoryInUse()
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(b.N), "heap-B/conn")
	b.ReportMetric(float64(after.StackInuse-before.StackInuse)/float64(b.N),
		"stack-B/conn")
	b.ReportMetric(float64(after.Sys-before.Sys)/float64(b.N), "sys-B/conn")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/float64(b.N),
		"goroutines/conn")
	for _, conn := range conns {
		conn.CloseNow()
	}
}

func memoryInUse() runtime.MemStats {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats
}

// serveBench runs a session with settings per WebSocket connection until
// the benchmark ends and returns the server URL. The user id is the "user"
// query parameter, or alice. Each session is passed to started, if set.
func serveBench(b *testing.B, r *router.Router, settings Settings,
	started func(*Session)) string {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New(prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	server := httptest.NewServer(http.HandlerFunc(
		func(writer http.ResponseWriter, request *http.Request) {
			conn, err := acceptTest(writer, request, settings)
			if err != nil {
				return
			}
			identity := auth.Identity{ProjectID: "p", UserID: "alice"}
			if user := request.URL.Query().Get("user"); user != "" {
				identity.UserID = user
			}
			deps := Dependencies{Router: r, Presence: localBus{}, Metrics: m, Logger: logger}
			session := New(identity, "1", settings, deps)
			if started != nil {
				started(session)
			}
			_ = session.Run(ctx, conn)
		}))
	b.Cleanup(func() {
		cancel()
		server.Close()
	})
	return "ws" + strings.TrimPrefix(server.URL, "http")
}
