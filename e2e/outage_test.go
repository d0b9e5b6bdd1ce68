package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestChatsvcOutageCatchesUp stops chatsvc, sends messages, keeps chatsvc
// down while the consumer retries, then starts it again: history must
// catch up with every message acknowledged as persisted, none
// dead-lettered. Each case keeps chatsvc down until the consumer has
// made a number of redeliveries. During an outage the consumer writes
// redelivered events in small batches, each after three write attempts,
// so it makes a few redeliveries a second.
func TestChatsvcOutageCatchesUp(t *testing.T) {
	tests := []struct {
		name         string
		messages     int
		maxDeliver   int
		redeliveries int
	}{
		{name: "shorter than max deliveries", messages: 2_000, maxDeliver: 10,
			redeliveries: 50},
		// Every event reaches its third delivery while chatsvc is down.
		{name: "longer than max deliveries", messages: 20, maxDeliver: 3,
			redeliveries: 40},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			s := startSystem(t, 1, fmt.Sprintf("PEROXO_CONSUMER_MAX_DELIVER=%d", test.maxDeliver))
			if err := s.chat.Stop(); err != nil {
				t.Fatalf("stop chatsvc: %v", err)
			}
			book := newLedger(s.project)
			work := newWorkload(s.project, 20, 2, test.messages)
			if err := work.run(t.Context(), book, s.publishers); err != nil {
				t.Fatalf("send messages: %v", err)
			}
			if failed := book.failedCount(); failed != 0 {
				t.Fatalf("%d sends failed while only chatsvc was down; want 0", failed)
			}

			waitMetric(t, s.consumer.URL(), "consumer_redeliveries_total",
				float64(test.redeliveries))
			if projected, err := readMetric(s.consumer.URL(),
				"consumer_messages_projected_total"); err != nil || projected != 0 {
				t.Errorf("consumer projected %v events with chatsvc down (%v); want 0",
					projected, err)
			}

			s.chat.Restart(t)
			s.checkHistory(t, book)
		})
	}
}

// waitMetric waits until a service's unlabelled counter reaches at least
// want, failing after two minutes.
func waitMetric(t testing.TB, baseURL, name string, want float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for {
		value, err := readMetric(baseURL, name)
		if err == nil && value >= want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s reached %v (%v), want at least %v", name, value, err, want)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
