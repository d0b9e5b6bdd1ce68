package natsbus_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// BenchmarkPublish measures one direct-message event appended to the chat
// stream of an embedded NATS server, file store in a temporary directory,
// with the given number of concurrent publishers, each waiting for its
// JetStream ack as the gateway's publish workers do.
func BenchmarkPublish(b *testing.B) {
	for _, publishers := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("publishers=%d", publishers), func(b *testing.B) {
			nats := startNATS(b, "127.0.0.1:0", b.TempDir())
			ensureStreams(b, nats.ClientURL())
			n := startNode(b, nats.ClientURL(), testOptions("node-a"))
			events := make([]*eventsv1.ChatEvent, b.N)
			for i := range events {
				events[i] = directEvent("alice", "bob")
				events[i].Message.MessageId = fmt.Sprintf("bench-%d", i)
			}
			var next atomic.Int64
			b.SetParallelism(max(publishers/runtime.GOMAXPROCS(0), 1))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					event := events[next.Add(1)-1]
					if err := n.bus.Publish(context.Background(), event); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
