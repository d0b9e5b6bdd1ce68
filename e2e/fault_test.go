package e2e

import (
	"context"
	"testing"
	"time"
)

// faultMessages is how many messages the fault test sends.
const faultMessages = 100_000

// TestFaultsLoseNothing sends messages from many concurrent senders
// through the three nodes of a gateway NATS cluster. Meanwhile the
// consumer is killed with SIGKILL twice and chatsvc is restarted once.
// Afterwards history must hold every message acknowledged as persisted
// exactly once.
func TestFaultsLoseNothing(t *testing.T) {
	s := startSystem(t, 3)
	work := newWorkload(s.project, 60, 6, faultMessages)
	book := newLedger(s.project)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	sent := make(chan error, 1)
	go func() { sent <- work.run(ctx, book, s.publishers) }()

	faults := []struct {
		after  int
		name   string
		inject func()
	}{
		{15_000, "kill the consumer", s.consumer.Kill},
		{25_000, "restart the consumer", func() { s.consumer.Restart(t) }},
		{40_000, "stop chatsvc", func() {
			if err := s.chat.Stop(); err != nil {
				t.Errorf("chatsvc did not stop cleanly: %v", err)
			}
		}},
		{50_000, "restart chatsvc", func() { s.chat.Restart(t) }},
		{65_000, "kill the consumer again", s.consumer.Kill},
		{75_000, "restart the consumer again", func() { s.consumer.Restart(t) }},
	}
	for _, fault := range faults {
		select {
		case <-book.reached(fault.after):
		case err := <-sent:
			t.Fatalf("senders stopped at %d persisted acks before %q: %v",
				book.persistedCount(), fault.name, err)
		}
		t.Logf("%d persisted acks: %s", book.persistedCount(), fault.name)
		fault.inject()
	}
	if err := <-sent; err != nil {
		t.Fatalf("send messages: %v", err)
	}
	if failed := book.failedCount(); failed != 0 {
		t.Errorf("%d sends failed with NATS up; want 0", failed)
	}
	if persisted := book.persistedCount(); persisted != faultMessages {
		t.Errorf("%d messages acknowledged as persisted, want %d", persisted, faultMessages)
	}
	s.checkHistory(t, book)
}

// reportProblems fails the test with the first problems found.
func reportProblems(t testing.TB, problems []string) {
	t.Helper()
	const shown = 20
	for i, problem := range problems {
		if i == shown {
			t.Errorf("... and %d more problems", len(problems)-shown)
			break
		}
		t.Error(problem)
	}
}
