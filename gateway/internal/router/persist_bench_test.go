package router

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	"github.com/peroxo/peroxo/platform/eventlog"
)

// ackClient is a sender session that records the time from SendDirect to
// its MessageAck, by client message id.
type ackClient struct {
	project, user string
	acks          *ackLatencies
}

func (c *ackClient) Project() string { return c.project }
func (c *ackClient) User() string    { return c.user }

func (c *ackClient) Send(frame []byte) bool {
	if bytes.HasPrefix(frame, []byte(`{"MessageAck"`)) {
		c.acks.received(frame)
	}
	return true
}

// ackLatencies records the send times of pending messages and the ack
// latencies of completed ones. It is safe for concurrent use.
type ackLatencies struct {
	mu      sync.Mutex
	sent    map[string]time.Time
	samples []time.Duration
	failed  int
	done    sync.WaitGroup
}

func (a *ackLatencies) sending(clientMessageID string) {
	a.mu.Lock()
	a.sent[clientMessageID] = time.Now()
	a.mu.Unlock()
	a.done.Add(1)
}

func (a *ackLatencies) received(frame []byte) {
	var ack struct {
		MessageAck struct {
			ClientMessageID string          `json:"client_message_id"`
			Status          json.RawMessage `json:"status"`
		}
	}
	if err := json.Unmarshal(frame, &ack); err != nil {
		panic(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	start, ok := a.sent[ack.MessageAck.ClientMessageID]
	if !ok {
		return
	}
	delete(a.sent, ack.MessageAck.ClientMessageID)
	if string(ack.MessageAck.Status) != `"Persisted"` {
		a.failed++
	}
	a.samples = append(a.samples, time.Since(start))
	a.done.Done()
}

// startNATSBus starts an embedded NATS server with the chat stream and a
// Bus on it, all closed when the benchmark ends. It returns the Bus's
// connection too.
func startNATSBus(b *testing.B) (*natsbus.Bus, *nats.Conn) {
	b.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	embedded, err := natsbus.StartEmbedded(natsbus.EmbeddedOptions{
		ListenAddr: "127.0.0.1:0", StoreDir: b.TempDir(), ServerName: "bench",
	}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(embedded.Close)

	conn, err := nats.Connect(embedded.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(conn.Close)

	js, err := jetstream.New(conn)
	if err != nil {
		b.Fatal(err)
	}
	_, err = eventlog.EnsureStreams(context.Background(), js,
		eventlog.StreamSettings{DuplicateWindow: 2 * time.Minute, Replicas: 1})
	if err != nil {
		b.Fatal(err)
	}

	bus, err := natsbus.New(conn, natsbus.Options{
		NodeID:            "bench",
		Stream:            eventlog.StreamSettings{DuplicateWindow: 2 * time.Minute, Replicas: 1},
		PublishTimeout:    2 * time.Second,
		PublishAttempts:   3,
		PresenceTTL:       15 * time.Second,
		HeartbeatInterval: 5 * time.Second,
	}, natsbus.Handlers{}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bus.Close() })
	return bus, conn
}

// BenchmarkDirectMessagePersisted sends direct messages at a fixed rate
// over many sender and recipient pairs through the router and a Bus on an
// embedded NATS server, file store in a temporary directory. It reports
// the time from SendDirect to the sender's MessageAck. Every user
// is registered, so the bus holds two live subscriptions per user. Its
// ns/op is the pacing, not the cost.
func BenchmarkDirectMessagePersisted(b *testing.B) {
	const pairs = 5000
	for _, rate := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("per_second=%d", rate), func(b *testing.B) {
			bus, conn := startNATSBus(b)
			r := startRouter(b, benchSettings(), bus)
			acks := &ackLatencies{sent: make(map[string]time.Time)}
			ctx := context.Background()
			senders := make([]*ackClient, pairs)
			messages := make([]wire.SendDirectMessage, pairs)
			for i := range pairs {
				senders[i] = &ackClient{project: project, user: fmt.Sprintf("sender-%d", i),
					acks: acks}
				recipient := &signalClient{project: project,
					user: fmt.Sprintf("recipient-%d", i), want: -1}
				for _, client := range []Client{senders[i], recipient} {
					if err := r.Register(ctx, client); err != nil {
						b.Fatal(err)
					}
				}
				messages[i] = wire.SendDirectMessage{
					ConversationID: conversation.ID(project, senders[i].user, recipient.user),
					To:             wire.UserRef{ProjectID: project, UserID: recipient.user},
					Content:        "hello",
				}
			}
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = newMessageID()
			}
			// The server has registered every subscription once the
			// connection is flushed.
			if err := conn.Flush(); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			perTick := max(rate/1000, 1)
			ticker := time.NewTicker(time.Millisecond)
			defer ticker.Stop()
			b.ResetTimer()
			for i := range b.N {
				if i%perTick == 0 {
					<-ticker.C
				}
				message := messages[i%pairs]
				message.ClientMessageID = ids[i]
				acks.sending(ids[i])
				if err := r.SendDirect(ctx, senders[i%pairs], message, time.Now()); err != nil {
					b.Fatal(err)
				}
			}
			acks.done.Wait()
			b.StopTimer()
			slices.Sort(acks.samples)
			quantile := func(q float64) float64 {
				sample := acks.samples[int(q*float64(len(acks.samples)-1))]
				return float64(sample) / float64(time.Millisecond)
			}
			b.ReportMetric(quantile(0.50), "p50-ms")
			b.ReportMetric(quantile(0.99), "p99-ms")
			b.ReportMetric(float64(acks.failed), "failed")
		})
	}
}
