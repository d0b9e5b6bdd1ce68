package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// discardBus acknowledges every publish at once, so benchmarks measure
// the router and not NATS.
type discardBus struct{ memoryBus }

func newDiscardBus() *discardBus {
	return &discardBus{memoryBus{online: make(map[string]bool)}}
}

func (*discardBus) PublishAsync(_ *eventsv1.ChatEvent, done func(error)) error {
	done(nil)
	return nil
}

// signalClient counts frames and closes done at the want-th one. It is an
// in-memory session queue that never fills.
type signalClient struct {
	project, user string
	count         atomic.Int64
	want          int64
	done          chan struct{}
}

func (c *signalClient) Project() string { return c.project }
func (c *signalClient) User() string    { return c.user }

func (c *signalClient) Send([]byte) bool {
	if c.count.Add(1) == c.want {
		close(c.done)
	}
	return true
}

func benchSettings() Settings {
	settings := testSettings()
	settings.InboxLength = 4096
	settings.RoomMembersPerNode = 1 << 20
	settings.RecentIDs = 256
	settings.PresenceFanoutMax = 0
	return settings
}

// BenchmarkDirectMessage measures routing one direct message: validation
// against the derived conversation id, id assignment, the recent-id cache,
// encoding, delivery to the recipient's queue and the publish hand-off.
func BenchmarkDirectMessage(b *testing.B) {
	r := startRouter(b, benchSettings(), newDiscardBus())
	alice := &signalClient{project: project, user: "alice", want: -1}
	bob := &signalClient{project: project, user: "bob", want: int64(b.N),
		done: make(chan struct{})}
	for _, client := range []Client{alice, bob} {
		if err := r.Register(context.Background(), client); err != nil {
			b.Fatal(err)
		}
	}
	conversationID := conversation.ID(project, "alice", "bob")
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = newMessageID()
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_ = r.SendDirect(ctx, alice, wire.SendDirectMessage{
			ConversationID:  conversationID,
			To:              wire.UserRef{ProjectID: project, UserID: "bob"},
			Content:         "hello",
			ClientMessageID: ids[i],
		}, time.Now())
	}
	<-bob.done
}

// BenchmarkRoomMessage measures one room message through the router and
// the room actor to every other member's queue.
func BenchmarkRoomMessage(b *testing.B) {
	for _, members := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			r := startRouter(b, benchSettings(), newDiscardBus())
			sender := &signalClient{project: project, user: "sender", want: int64(b.N),
				done: make(chan struct{})}
			last := sender
			register := func(client *signalClient) {
				if err := r.Register(context.Background(), client); err != nil {
					b.Fatal(err)
				}
				if err := r.JoinRoom(context.Background(), client, "lobby"); err != nil {
					b.Fatal(err)
				}
			}
			// The sender receives its RoomJoined and acks only; with one
			// member it is the only member, so its acks mark the end.
			sender.want = int64(b.N) + 1
			register(sender)
			for i := range members - 1 {
				member := &signalClient{project: project, user: fmt.Sprintf("user-%d", i),
					want: -1}
				if i == members-2 {
					member.want = int64(b.N) + 1
					member.done = make(chan struct{})
					last = member
				}
				register(member)
			}
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = newMessageID()
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				_ = r.SendRoom(ctx, sender, wire.RoomMessage{RoomID: "lobby", From: "sender",
					Content: "hello", MessageID: ids[i]}, time.Now())
			}
			<-last.done
			<-sender.done
		})
	}
}

// BenchmarkPresenceStorm measures one session connecting to a project of
// up to 1000 local sessions, the Presence frames it causes included.
// Sessions leave in groups of 1000 so the project stays within the fanout
// max. Batched mode flushes every 64 connects, as 256 connects a second
// would with a 250ms interval.
func BenchmarkPresenceStorm(b *testing.B) {
	for _, batched := range []bool{false, true} {
		b.Run(fmt.Sprintf("batched=%t", batched), func(b *testing.B) {
			settings := benchSettings()
			settings.PresenceFanoutMax = 1000
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			r := New(settings, newDiscardBus(), metrics.New(prometheus.NewRegistry()),
				logger)
			ticks := make(chan time.Time)
			if batched {
				r.settings.PresenceBatchInterval = time.Hour
				r.presenceTicks = ticks
			}
			runRouter(b, r)
			ctx := context.Background()
			connected := make([]Client, 0, 1000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				client := &signalClient{project: project, user: fmt.Sprintf("user-%d", i),
					want: -1}
				if err := r.Register(ctx, client); err != nil {
					b.Fatal(err)
				}
				connected = append(connected, client)
				if batched && i%64 == 63 {
					ticks <- time.Now()
				}
				if len(connected) == cap(connected) {
					for _, client := range connected {
						r.Unregister(client)
					}
					connected = connected[:0]
				}
			}
		})
	}
}
