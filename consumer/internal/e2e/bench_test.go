package e2e

import (
	"testing"
	"time"

	"github.com/peroxo/peroxo/consumer/internal/consumertest"
	"github.com/peroxo/peroxo/platform/testenv"
)

// batchSize is PEROXO_CONSUMER_BATCH_SIZE's default.
const batchSize = 200

// BenchmarkProjection measures how fast one projector moves events from the
// stream into a store. Each iteration is one event; the events are stored
// in the stream before the timer starts.
func BenchmarkProjection(b *testing.B) {
	targets := []struct {
		name  string
		start func(b *testing.B) string
	}{
		{"memory", func(b *testing.B) string {
			return consumertest.StartChatServer(b, nil).URL
		}},
		{"chatsvc-embedded", func(b *testing.B) string {
			return consumertest.StartChatsvc(b).URL
		}},
		{"chatsvc-cassandra", func(b *testing.B) string {
			hosts := testenv.Service(b, "PEROXO_TEST_CASSANDRA_HOSTS")
			keyspace := consumertest.CassandraKeyspace(b, hosts)
			return consumertest.StartChatsvc(b, "PEROXO_CHAT_CQL_HOSTS="+hosts,
				"PEROXO_CHAT_CQL_KEYSPACE="+keyspace).URL
		}},
	}
	for _, target := range targets {
		b.Run(target.name, func(b *testing.B) {
			natsServer := consumertest.StartNATS(b)
			js := consumertest.Connect(b, natsServer.ClientURL())
			consumertest.EnsureStreams(b, js)
			chatURL := target.start(b)
			consumertest.PublishMany(b, js, project, b.N)

			b.ResetTimer()
			start := time.Now()
			startProjectorWith(b, js, chatURL, batchSize)
			waitSettled(b, js)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}
