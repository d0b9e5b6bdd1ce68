package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/peroxo/peroxo/gateway/internal/metrics"
)

// startBatchingRouter runs a router whose presence flushes happen when
// the test calls the returned function. A flush has finished when the
// function returns.
func startBatchingRouter(t *testing.T, settings Settings) (*Router, func()) {
	t.Helper()
	settings.PresenceBatchInterval = time.Hour
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := New(settings, newMemoryBus(), metrics.New(prometheus.NewRegistry()), logger)
	ticks := make(chan time.Time)
	r.presenceTicks = ticks
	runRouter(t, r)
	flush := func() {
		ticks <- time.Now()
		// The router answers IsMember only after the flush ended.
		if _, err := r.IsMember(context.Background(), newClient(project, "x", 1),
			"lobby"); err != nil {
			t.Fatal(err)
		}
	}
	return r, flush
}

// presenceOf reads count Presence frames and returns status by user.
func presenceOf(t *testing.T, client *memoryClient, count int) map[string]any {
	t.Helper()
	statuses := make(map[string]any)
	for range count {
		body := client.expect(t, "Presence")
		statuses[body["user"].(string)] = body["status"]
	}
	client.expectNone(t)
	return statuses
}

func TestPresenceBatchSendsLatestStatusPerUser(t *testing.T) {
	r, flush := startBatchingRouter(t, testSettings())
	alice, bob := newClient(project, "alice", 16), newClient(project, "bob", 16)
	carol, dave := newClient(project, "carol", 16), newClient(project, "dave", 16)
	for _, client := range []*memoryClient{alice, bob, carol} {
		register(t, r, client)
	}
	r.Unregister(carol)
	// Register is answered after the router handled the Unregister.
	register(t, r, dave)
	alice.expectNone(t)
	flush()

	want := map[string]any{"bob": "Online", "carol": "Offline", "dave": "Online"}
	if got := presenceOf(t, alice, len(want)); !maps.Equal(got, want) {
		t.Errorf("alice received %v, want %v", got, want)
	}
	carol.expectNone(t)
	flush()
	alice.expectNone(t)
}

func TestPresenceBatchLimits(t *testing.T) {
	tests := []struct {
		name       string
		fanoutMax  int
		others     int
		firstFlush int
		later      int
	}{
		{"spreads many changes over flushes", 100, presenceChangesPerFlush + 2,
			presenceChangesPerFlush, 2},
		{"skips projects above the fanout max", presenceChangesPerFlush,
			presenceChangesPerFlush + 2, 0, 0},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			settings := testSettings()
			settings.PresenceFanoutMax = test.fanoutMax
			r, flush := startBatchingRouter(t, settings)
			alice := newClient(project, "alice", 2*presenceChangesPerFlush)
			register(t, r, alice)
			flush()
			for i := range test.others {
				register(t, r, newClient(project, fmt.Sprintf("user%d", i), 1))
			}
			flush()
			presenceOf(t, alice, test.firstFlush)
			flush()
			presenceOf(t, alice, test.later)
		})
	}
}
