package natsbus_test

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkSubscribeUser measures what live subscriptions cost per online
// user: 10,000 users subscribe on one node, then goroutines, live heap
// bytes after a GC and goroutine stack bytes are compared with the state
// before. The heap includes the embedded server's per-subscription state,
// which runs in the same process.
func BenchmarkSubscribeUser(b *testing.B) {
	const users = 10000
	nats := startNATS(b, "127.0.0.1:0", b.TempDir())
	n := startNode(b, nats.ClientURL(), testOptions("node-a"))
	names := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("user-%d", i)
	}
	var goroutines, heapBytes, stackBytes float64
	for b.Loop() {
		before := liveState(b, n)
		for _, name := range names {
			if err := n.bus.SubscribeUser(project, name); err != nil {
				b.Fatal(err)
			}
		}
		after := liveState(b, n)
		goroutines += float64(after.goroutines-before.goroutines) / users
		heapBytes += float64(int64(after.heap)-int64(before.heap)) / users
		stackBytes += float64(int64(after.stack)-int64(before.stack)) / users
		for _, name := range names {
			if err := n.bus.UnsubscribeUser(project, name); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(goroutines/float64(b.N), "goroutines/user")
	b.ReportMetric(heapBytes/float64(b.N), "heap-B/user")
	b.ReportMetric(stackBytes/float64(b.N), "stack-B/user")
}

type processState struct {
	goroutines  int
	heap, stack uint64
}

// liveState flushes n's subscriptions to the server, collects garbage and
// returns the number of goroutines, the live heap bytes and the bytes of
// goroutine stacks.
func liveState(b *testing.B, n *node) processState {
	b.Helper()
	flush(b, n)
	runtime.GC()
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return processState{
		goroutines: runtime.NumGoroutine(),
		heap:       stats.HeapAlloc,
		stack:      stats.StackInuse,
	}
}
