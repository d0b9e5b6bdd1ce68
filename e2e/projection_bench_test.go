package e2e

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/peroxo/peroxo/platform/testenv"
)

// BenchmarkProjectionThroughput fills the chat stream of one gateway node
// with b.N events, then starts the consumer and measures the time until
// every event is acknowledged, with chatsvc on each store. The three
// service processes and the benchmark share the machine. Run it with a
// fixed count, e.g. -benchtime 20000x.
func BenchmarkProjectionThroughput(b *testing.B) {
	stores := []struct {
		name string
		env  func(b *testing.B) []string
	}{
		{name: "embedded", env: func(*testing.B) []string { return nil }},
		{name: "cassandra", env: func(b *testing.B) []string {
			hosts := testenv.Service(b, "PEROXO_TEST_CASSANDRA_HOSTS")
			return []string{
				"PEROXO_CHAT_CQL_HOSTS=" + hosts,
				"PEROXO_CHAT_CQL_KEYSPACE=" + cassandraKeyspace(b, hosts),
			}
		}},
	}
	for _, store := range stores {
		b.Run(store.name, func(b *testing.B) {
			nodes := startGatewayCluster(b, 1)
			_, js := connectJetStream(b, nodes[0].natsURL)
			ensureStreams(b, js, 1)
			chat := startChatsvc(b, "chatsvc", b.TempDir(), store.env(b)...)
			s := &system{nodes: nodes, js: js, chat: chat}
			for _, node := range nodes {
				_, nodeJS := connectJetStream(b, node.natsURL)
				s.publishers = append(s.publishers, &publisher{
					js: nodeJS, node: node.id, timeout: 5 * time.Second, attempts: 5,
				})
			}
			project := "peroxo_pj_bench" + rand.Text()[:10]
			book := newLedger(project)
			ctx, cancel := context.WithTimeout(b.Context(), 10*time.Minute)
			defer cancel()
			if err := newWorkload(project, 60, 6, b.N).run(ctx, book, s.publishers); err != nil {
				b.Fatalf("publish events: %v", err)
			}

			b.ResetTimer()
			start := time.Now()
			startConsumer(b, nodes[0].natsURL, chat.URL())
			waitAcked(ctx, b, js)
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// cassandraKeyspace returns a new random keyspace name for chatsvc and
// drops the keyspace when the benchmark ends, because several engineers
// share the Cassandra server.
func cassandraKeyspace(b *testing.B, hosts string) string {
	b.Helper()
	keyspace := "e2e_bench_" + strings.ToLower(rand.Text()[:12])
	b.Cleanup(func() {
		cluster := gocql.NewCluster(strings.Split(hosts, ",")...)
		cluster.Timeout = time.Minute
		session, err := cluster.CreateSession()
		if err != nil {
			b.Errorf("connect to cassandra to drop %s: %v", keyspace, err)
			return
		}
		defer session.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := session.Query("DROP KEYSPACE IF EXISTS " + keyspace).ExecContext(ctx); err != nil {
			b.Errorf("drop keyspace %s: %v", keyspace, err)
		}
	})
	return keyspace
}
