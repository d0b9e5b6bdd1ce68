package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchBackends opens each store for a benchmark. The CQL store uses the
// tests' one-second buckets.
var benchBackends = []struct {
	name string
	open func(testing.TB) Store
}{
	{"sqlite", func(tb testing.TB) Store { return openSQLiteForTest(tb) }},
	{"cql", func(tb testing.TB) Store { return openCQLForTest(tb) }},
}

// BenchmarkAppendBatch measures Append throughput for batches of 100 new
// direct messages spread over 10 conversations, as the consumer sends them.
func BenchmarkAppendBatch(b *testing.B) {
	const (
		batchSize     = 100
		conversations = 10
	)
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			store := backend.open(b)
			project := newProjectID()
			var clock testClock
			start := time.Now().UnixMilli()
			batch := make([]Message, batchSize)
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				for i := range batch {
					conversation := fmt.Sprintf("conv-%d", i%conversations)
					batch[i] = directMessage(&clock, project, conversation, "alice", "bob", start)
				}
				b.StartTimer()
				result, err := store.Append(context.Background(), batch)
				if err != nil {
					b.Fatalf("append: %v", err)
				}
				if result.Appended != batchSize {
					b.Fatalf("appended %d, expected %d", result.Appended, batchSize)
				}
			}
			b.ReportMetric(float64(b.N*batchSize)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkHistoryPage measures History pages of 50 messages from a random
// cursor in a channel of 5,000 messages, 20 ms apart, and reports the
// median and 99th percentile latency of one page.
func BenchmarkHistoryPage(b *testing.B) {
	const (
		stored   = 5_000
		pageSize = 50
	)
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			store := backend.open(b)
			project := newProjectID()
			var clock testClock
			channel := Channel{ProjectID: project, Kind: KindDirect, ID: "bench"}
			messages := make([]Message, stored)
			for i := range messages {
				messages[i] = directMessage(&clock, project, channel.ID, "alice", "bob",
					baseTime+int64(i)*20)
			}
			for start := 0; start < stored; start += 250 {
				mustAppend(b, store, messages[start:min(start+250, stored)])
			}

			var latencies []time.Duration
			b.ResetTimer()
			for b.Loop() {
				cursor := messages[pageSize+rand.IntN(stored-pageSize)].ID
				began := time.Now()
				page, err := store.History(context.Background(),
					PageQuery{Channel: channel, Cursor: cursor, Limit: pageSize})
				latencies = append(latencies, time.Since(began))
				if err != nil {
					b.Fatalf("history: %v", err)
				}
				if len(page.Messages) != pageSize {
					b.Fatalf("page has %d messages, expected %d", len(page.Messages), pageSize)
				}
			}
			slices.Sort(latencies)
			percentile := func(p float64) float64 {
				index := min(int(p*float64(len(latencies))), len(latencies)-1)
				return float64(latencies[index].Microseconds()) / 1000
			}
			b.ReportMetric(percentile(0.50), "p50-ms")
			b.ReportMetric(percentile(0.99), "p99-ms")
		})
	}
}
