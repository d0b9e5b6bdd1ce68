package router

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peroxo/peroxo/gateway/internal/metrics"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// memoryBus is a Bus test double that records what the router asks of it.
// PublishAsync completes at once, failing while failWith is set, and
// rejects events while rejectWith is set.
type memoryBus struct {
	mu         sync.Mutex
	published  []*eventsv1.ChatEvent
	online     map[string]bool
	failWith   error
	rejectWith error
}

func newMemoryBus() *memoryBus {
	return &memoryBus{online: make(map[string]bool)}
}

func (b *memoryBus) PublishAsync(event *eventsv1.ChatEvent, done func(error)) error {
	b.mu.Lock()
	if b.rejectWith != nil {
		b.mu.Unlock()
		return b.rejectWith
	}
	err := b.failWith
	if err == nil {
		b.published = append(b.published, event)
	}
	b.mu.Unlock()
	done(err)
	return nil
}

func (b *memoryBus) publishedIDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, 0, len(b.published))
	for _, event := range b.published {
		ids = append(ids, event.GetMessage().GetMessageId())
	}
	return ids
}

func (b *memoryBus) SubscribeUser(string, string) error   { return nil }
func (b *memoryBus) UnsubscribeUser(string, string) error { return nil }
func (b *memoryBus) SubscribeRoom(string, string) error   { return nil }
func (b *memoryBus) UnsubscribeRoom(string, string) error { return nil }

func (b *memoryBus) SetOnline(project, user string, online bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.online[project+"/"+user] = online
}

func (b *memoryBus) OnlineUsers(context.Context, string) ([]string, error) {
	return nil, errors.New("not used")
}

// memoryClient is a session whose queue is a buffered channel.
type memoryClient struct {
	project, user string
	frames        chan []byte
}

func newClient(project, user string, queue int) *memoryClient {
	return &memoryClient{project: project, user: user, frames: make(chan []byte, queue)}
}

func (c *memoryClient) Project() string { return c.project }
func (c *memoryClient) User() string    { return c.user }

func (c *memoryClient) Send(frame []byte) bool {
	select {
	case c.frames <- frame:
		return true
	default:
		return false
	}
}

// next returns the next frame's type and body, failing after a generous
// guard timeout.
func (c *memoryClient) next(t testing.TB) (string, map[string]any) {
	t.Helper()
	select {
	case frame := <-c.frames:
		var envelope map[string]map[string]any
		if err := json.Unmarshal(frame, &envelope); err != nil {
			t.Fatalf("frame %s is not an object of objects: %v", frame, err)
		}
		for name, body := range envelope {
			return name, body
		}
		t.Fatalf("empty frame %s", frame)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s/%s received no frame", c.project, c.user)
	}
	return "", nil
}

// expect returns the body of the next frame and fails unless its type is
// name.
func (c *memoryClient) expect(t testing.TB, name string) map[string]any {
	t.Helper()
	got, body := c.next(t)
	if got != name {
		t.Fatalf("%s/%s received %s %v, want %s", c.project, c.user, got, body, name)
	}
	return body
}

// expectNone fails if a frame is queued.
func (c *memoryClient) expectNone(t testing.TB) {
	t.Helper()
	select {
	case frame := <-c.frames:
		t.Fatalf("%s/%s received unexpected %s", c.project, c.user, frame)
	default:
	}
}

func testSettings() Settings {
	return Settings{
		NodeID:             "node-test",
		SessionsPerUser:    3,
		RoomsPerSession:    4,
		RoomMembersPerNode: 100,
		RecentIDs:          16,
		RecentIDBytes:      1 << 20,
		RecentIDTTL:        time.Minute,
		InboxLength:        64,
		RoomInboxLength:    64,
		PresenceFanoutMax:  100,
	}
}

func discardLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startRouter runs a router until the test ends.
func startRouter(t testing.TB, settings Settings, bus Bus) *Router {
	t.Helper()
	m := metrics.New(prometheus.NewRegistry())
	return runRouter(t, New(settings, bus, m, discardLogger()))
}

// runRouter runs r until the test ends.
func runRouter(t testing.TB, r *Router) *Router {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	t.Cleanup(func() {
		r.Close()
		if err := <-done; err != nil {
			t.Errorf("router Run: %v", err)
		}
	})
	return r
}

func register(t testing.TB, r *Router, client *memoryClient) {
	t.Helper()
	if err := r.Register(context.Background(), client); err != nil {
		t.Fatalf("register %s: %v", client.user, err)
	}
}
