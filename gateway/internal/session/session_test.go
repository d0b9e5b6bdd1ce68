package session

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/peroxo/peroxo/gateway/internal/auth"
	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/router"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	"github.com/peroxo/peroxo/gateway/internal/wsconn"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// localBus is a Bus test double for one node: publishes succeed at once.
type localBus struct{}

func (localBus) PublishAsync(_ *eventsv1.ChatEvent, done func(error)) error {
	done(nil)
	return nil
}
func (localBus) SubscribeUser(string, string) error   { return nil }
func (localBus) UnsubscribeUser(string, string) error { return nil }
func (localBus) SubscribeRoom(string, string) error   { return nil }
func (localBus) UnsubscribeRoom(string, string) error { return nil }
func (localBus) SetOnline(string, string, bool)       {}
func (localBus) OnlineUsers(context.Context, string) ([]string, error) {
	return []string{"alice"}, nil
}

func testSettings() Settings {
	return Settings{
		MaxFrameBytes: 4096, MaxContentBytes: 1024, QueueLength: 16,
		MessagesPerSecond: 100, MessageBurst: 100,
		PingInterval: time.Hour, PongTimeout: time.Second, IdleTimeout: time.Hour,
		WriteTimeout: time.Second, RequestTimeout: time.Second, MaxPendingRequests: 2,
	}
}

// serve runs one session per WebSocket connection with identity and
// returns the server URL. Everything stops when the test ends.
func serve(t *testing.T, identity auth.Identity) string {
	t.Helper()
	return serveWith(t, identity, testSettings())
}

// serveWith is serve with other session settings.
func serveWith(t *testing.T, identity auth.Identity, settings Settings) string {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := metrics.New(prometheus.NewRegistry())
	r := router.New(router.Settings{
		NodeID: "node", SessionsPerUser: 2, RoomsPerSession: 2, RoomMembersPerNode: 10,
		RecentIDs: 8, RecentIDBytes: 1 << 16, RecentIDTTL: time.Minute, InboxLength: 8, RoomInboxLength: 8,
		PresenceFanoutMax: 8,
	}, localBus{}, m, logger)
	routerDone := make(chan error, 1)
	go func() { routerDone <- r.Run(context.Background()) }()
	ctx, cancel := context.WithCancel(context.Background())
	server := httptest.NewServer(http.HandlerFunc(
		func(writer http.ResponseWriter, request *http.Request) {
			conn, err := acceptTest(writer, request, settings)
			if err != nil {
				return
			}
			deps := Dependencies{Router: r, Presence: localBus{}, Metrics: m, Logger: logger}
			_ = New(identity, "1", settings, deps).Run(ctx, conn)
		}))
	t.Cleanup(func() {
		cancel()
		server.Close()
		r.Close()
		<-routerDone
	})
	return "ws" + strings.TrimPrefix(server.URL, "http")
}

// acceptTest completes the handshake with the limits of settings.
func acceptTest(writer http.ResponseWriter, request *http.Request,
	settings Settings) (*wsconn.Conn, error) {
	return wsconn.Accept(writer, request, "", time.Second, wsconn.Settings{
		MaxMessageBytes: settings.MaxFrameBytes, WriteTimeout: settings.WriteTimeout,
		CloseTimeout: settings.WriteTimeout, ReadBufferBytes: 1024,
	})
}

func dial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	conn, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

func closeStatus(t *testing.T, conn *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	for {
		_, _, err := conn.Read(context.Background())
		var closeErr websocket.CloseError
		if errors.As(err, &closeErr) {
			return closeErr.Code, closeErr.Reason
		}
		if err != nil {
			t.Fatalf("read ended without a close frame: %v", err)
		}
	}
}

func TestSessionClosesWhenTokenExpires(t *testing.T) {
	url := serve(t, auth.Identity{ProjectID: "p", UserID: "alice",
		ExpiresAt: time.Now().Add(300 * time.Millisecond)})
	conn := dial(t, url)
	code, reason := closeStatus(t, conn)
	if code != websocket.StatusCode(wire.CloseTokenExpired) || reason != wire.ReasonTokenExpired {
		t.Errorf("close = %d %q, want %d %q", code, reason, wire.CloseTokenExpired,
			wire.ReasonTokenExpired)
	}
}

func TestSessionClosesIdleClient(t *testing.T) {
	settings := testSettings()
	settings.PingInterval = 10 * time.Millisecond
	settings.IdleTimeout = time.Nanosecond
	url := serveWith(t, auth.Identity{ProjectID: "p", UserID: "alice",
		ExpiresAt: time.Now().Add(time.Hour)}, settings)
	code, reason := closeStatus(t, dial(t, url))
	if code != websocket.StatusCode(wire.CloseIdleTimeout) || reason != wire.ReasonIdleTimeout {
		t.Errorf("close = %d %q, want %d %q", code, reason, wire.CloseIdleTimeout,
			wire.ReasonIdleTimeout)
	}
}

func TestSessionAnswersAndSurvivesBadFrames(t *testing.T) {
	url := serve(t, auth.Identity{ProjectID: "p", UserID: "alice",
		ExpiresAt: time.Now().Add(time.Hour)})
	conn := dial(t, url)
	ctx := context.Background()
	for _, frame := range []string{`nope`, `{"GetOnlineUsers":{}}`} {
		if err := conn.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	_, first, err := conn.Read(ctx)
	if err != nil || !strings.HasPrefix(string(first), `{"Error":{"code":1000`) {
		t.Fatalf("first answer = %s, %v; want an Error with code 1000", first, err)
	}
	_, second, err := conn.Read(ctx)
	if err != nil || string(second) != `{"OnlineUsers":{"users":["alice"]}}` {
		t.Fatalf("second answer = %s, %v", second, err)
	}
	if err := conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestSessionRejectsOversizeFrameWith1009(t *testing.T) {
	url := serve(t, auth.Identity{ProjectID: "p", UserID: "alice",
		ExpiresAt: time.Now().Add(time.Hour)})
	conn := dial(t, url)
	big := `{"JoinRoom":{"room_id":"` + strings.Repeat("x", 5000) + `"}}`
	if err := conn.Write(context.Background(), websocket.MessageText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	if code, _ := closeStatus(t, conn); code != websocket.StatusMessageTooBig {
		t.Errorf("close code = %d, want 1009", code)
	}
}

func TestSessionKeepsClientThatAnswersPings(t *testing.T) {
	tests := []struct {
		name   string
		answer bool
		// pings is how many pings a client that replies with pongs must
		// see while the session stays open.
		pings int
		// idle is the idle timeout; pongs count as activity.
		idle time.Duration
	}{
		{name: "answered", answer: true, pings: 3, idle: time.Hour},
		{name: "answered with a short idle timeout", answer: true, pings: 8,
			idle: 80 * time.Millisecond},
		{name: "ignored", answer: false, idle: time.Hour},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			settings := testSettings()
			settings.PingInterval = 20 * time.Millisecond
			settings.PongTimeout = 15 * time.Millisecond
			settings.IdleTimeout = test.idle
			url := serveWith(t, auth.Identity{ProjectID: "p", UserID: "alice"}, settings)
			conn, _, _, err := ws.Dial(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			pings := 0
			for {
				frame, err := ws.ReadFrame(conn)
				if err != nil {
					t.Fatalf("after %d pings: %v", pings, err)
				}
				if frame.Header.OpCode == ws.OpClose {
					code, _ := ws.ParseCloseFrameData(frame.Payload)
					if test.answer || code != ws.StatusCode(wire.ClosePongTimeout) {
						t.Fatalf("closed with %d after %d pings", code, pings)
					}
					return
				}
				if frame.Header.OpCode != ws.OpPing {
					continue
				}
				pings++
				if test.answer && pings == test.pings {
					return
				}
				if test.answer {
					pong := ws.MaskFrame(ws.NewPongFrame(frame.Payload))
					if err := ws.WriteFrame(conn, pong); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

func TestSessionWriteDelayDeliversEveryFrame(t *testing.T) {
	const frames = 10
	settings := testSettings()
	settings.WriteDelay = 20 * time.Millisecond
	settings.MaxPendingRequests = frames
	url := serveWith(t, auth.Identity{ProjectID: "p", UserID: "alice"}, settings)
	conn := dial(t, url)
	ctx := context.Background()
	for range frames {
		if err := conn.Write(ctx, websocket.MessageText, []byte(`{"GetOnlineUsers":{}}`)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range frames {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if string(data) != `{"OnlineUsers":{"users":["alice"]}}` {
			t.Fatalf("frame %d = %s", i, data)
		}
	}
}
