package natsbus_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// benchEvents returns n direct-message events with distinct message ids.
func benchEvents(n int) []*eventsv1.ChatEvent {
	events := make([]*eventsv1.ChatEvent, n)
	for i := range events {
		events[i] = directEvent("alice", "bob")
		events[i].Message.MessageId = fmt.Sprintf("bench-%d", i)
	}
	return events
}

// latencies collects per-publish ack latencies from many goroutines.
type latencies struct {
	mu      sync.Mutex
	samples []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.samples = append(l.samples, d)
	l.mu.Unlock()
}

// report adds the p50 and p99 ack latency in milliseconds to b's output.
func (l *latencies) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return
	}
	slices.Sort(l.samples)
	quantile := func(q float64) float64 {
		return float64(l.samples[int(q*float64(len(l.samples)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(quantile(0.50), "p50-ms")
	b.ReportMetric(quantile(0.99), "p99-ms")
}

// publishTimed starts publishing event, records its ack latency in acks
// and then calls then.
func publishTimed(
	b *testing.B,
	bus *natsbus.Bus,
	event *eventsv1.ChatEvent,
	acks *latencies,
	then func(),
) {
	start := time.Now()
	err := bus.PublishAsync(event, func(err error) {
		if err != nil {
			b.Error(err)
		}
		acks.add(time.Since(start))
		then()
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPublish measures one direct-message event appended to the chat
// stream of an embedded NATS server, file store in a temporary directory,
// with the given number of concurrent publishers, each waiting for its
// JetStream ack before the next publish. It reports the ack latency.
func BenchmarkPublish(b *testing.B) {
	for _, publishers := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			nats := startNATS(b, "127.0.0.1:0", b.TempDir())
			ensureStreams(b, nats.ClientURL())
			n := startNode(b, nats.ClientURL(), testOptions("node-a"))
			events := benchEvents(b.N)
			var next atomic.Int64
			var acks latencies
			b.SetParallelism(max(publishers/runtime.GOMAXPROCS(0), 1))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					event := events[next.Add(1)-1]
					start := time.Now()
					if err := n.bus.Publish(context.Background(), event); err != nil {
						b.Error(err)
						return
					}
					acks.add(time.Since(start))
				}
			})
			b.StopTimer()
			acks.report(b)
		})
	}
}

// BenchmarkPublishAsync measures direct-message events appended to the
// chat stream with up to the given number of publishes waiting for their
// JetStream ack, from one goroutine as the router publishes. It reports
// the ack latency, from PublishAsync to done.
func BenchmarkPublishAsync(b *testing.B) {
	for _, inFlight := range []int{64, 256, 1024} {
		b.Run(fmt.Sprintf("in_flight=%d", inFlight), func(b *testing.B) {
			nats := startNATS(b, "127.0.0.1:0", b.TempDir())
			ensureStreams(b, nats.ClientURL())
			n := startNode(b, nats.ClientURL(), testOptions("node-a"))
			events := benchEvents(b.N)
			slots := make(chan struct{}, inFlight)
			var acks latencies
			var completed sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			for _, event := range events {
				slots <- struct{}{}
				completed.Add(1)
				publishTimed(b, n.bus, event, &acks, func() {
					<-slots
					completed.Done()
				})
			}
			completed.Wait()
			b.StopTimer()
			acks.report(b)
		})
	}
}

// BenchmarkPublishAsyncRate publishes direct-message events at a fixed
// rate, in batches every millisecond, and reports the ack latency at that
// rate. Its ns/op is the pacing, not the cost.
func BenchmarkPublishAsyncRate(b *testing.B) {
	for _, rate := range []int{2000, 10000} {
		b.Run(fmt.Sprintf("per_second=%d", rate), func(b *testing.B) {
			nats := startNATS(b, "127.0.0.1:0", b.TempDir())
			ensureStreams(b, nats.ClientURL())
			n := startNode(b, nats.ClientURL(), testOptions("node-a"))
			events := benchEvents(b.N)
			perTick := max(rate/1000, 1)
			ticker := time.NewTicker(time.Millisecond)
			defer ticker.Stop()
			var acks latencies
			var completed sync.WaitGroup
			completed.Add(len(events))
			b.ResetTimer()
			for i, event := range events {
				if i%perTick == 0 {
					<-ticker.C
				}
				publishTimed(b, n.bus, event, &acks, completed.Done)
			}
			completed.Wait()
			b.StopTimer()
			acks.report(b)
		})
	}
}
