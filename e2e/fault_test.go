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

	s.injectFaults(t, book, sent)
	checkAllPersisted(t, book, sent)
	s.checkHistory(t, book)
}

// injectFaults kills the consumer with SIGKILL and restarts it twice and
// restarts chatsvc once, each step once the senders have a given number
// of persisted acks. It fails the test if sent reports the end of the
// senders first.
func (s *system) injectFaults(t *testing.T, book *ledger, sent <-chan error) {
	t.Helper()
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
}

// TestFaultsLoseNothingOverWebSocket is [TestFaultsLoseNothing] with
// WebSocket clients as senders: each user has a session on one of the
// three gateways, and the record holds what the Persisted acks name.
func TestFaultsLoseNothingOverWebSocket(t *testing.T) {
	auth := startAuthsvc(t)
	chat := startChatsvc(t, "chatsvc", t.TempDir())
	nodes := startGatewayCluster(t, 3,
		"PEROXO_GATEWAY_AUTH_URL="+auth.URL(),
		"PEROXO_GATEWAY_CHAT_URL="+chat.URL(),
		"PEROXO_GATEWAY_MESSAGES_PER_SECOND=100000",
		"PEROXO_GATEWAY_MESSAGE_BURST=100000",
	)
	_, js := connectJetStream(t, nodes[0].natsURL)
	waitStream(t, js)
	s := &system{
		nodes: nodes, js: js, chat: chat, project: auth.projectID,
		consumer: startConsumer(t, natsURLs(nodes), chat.URL()),
	}
	work := newWorkload(s.project, 60, 6, faultMessages)
	senders := work.connectSenders(t, auth, nodes)
	book := newLedger(s.project)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		work.runWebSocket(ctx, t, book, senders)
		sent <- ctx.Err()
	}()
	s.injectFaults(t, book, sent)
	checkAllPersisted(t, book, sent)
	s.checkHistory(t, book)
}

// checkAllPersisted waits for the senders to finish and fails the test
// unless every one of the fault test's messages got a Persisted ack, as
// NATS stays up throughout.
func checkAllPersisted(t *testing.T, book *ledger, sent <-chan error) {
	t.Helper()
	if err := <-sent; err != nil {
		t.Fatalf("send messages: %v", err)
	}
	if failed := book.failedCount(); failed != 0 {
		t.Errorf("%d sends failed with NATS up; want 0", failed)
	}
	if persisted := book.persistedCount(); persisted != faultMessages {
		t.Errorf("%d messages acknowledged as persisted, want %d", persisted, faultMessages)
	}
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
