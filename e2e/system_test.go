package e2e

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	"github.com/peroxo/peroxo/platform/testenv/process"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// system is the event path under test: gateway nodes with their embedded
// NATS cluster, chatsvc on its embedded store and the projecting
// consumer, with one publisher per node.
type system struct {
	nodes      []*gatewayNode
	js         jetstream.JetStream
	chat       *chatService
	consumer   *process.Process
	publishers []*publisher
	project    string
}

// startSystem starts nodes gateways, the streams with one replica per
// node, chatsvc and the consumer, each in the test's temporary
// directories. consumerEnv overrides consumer settings.
func startSystem(t testing.TB, nodes int, consumerEnv ...string) *system {
	t.Helper()
	s := &system{nodes: startGatewayCluster(t, nodes)}
	_, s.js = connectJetStream(t, s.nodes[0].natsURL)
	ensureStreams(t, s.js, nodes)
	s.chat = startChatsvc(t, "chatsvc", t.TempDir())
	s.consumer = startConsumer(t, natsURLs(s.nodes), s.chat.URL(), consumerEnv...)
	for _, node := range s.nodes {
		_, nodeJS := connectJetStream(t, node.natsURL)
		s.publishers = append(s.publishers, &publisher{
			js: nodeJS, node: node.id, timeout: 5 * time.Second, attempts: 5,
		})
	}
	s.project = "peroxo_pj_e2e" + rand.Text()[:10]
	return s
}

// checkHistory waits until the consumer projected every event, then
// reads every channel of book from chatsvc and fails the test unless
// history holds each persisted message exactly once and nothing else. It
// returns the history it read.
func (s *system) checkHistory(t testing.TB, book *ledger) map[channelKey][]*chatv1.Message {
	t.Helper()
	waitProjected(t, s.js, s.consumer, 5*time.Minute)
	if dead := streamMessages(t, s.js, eventlog.DeadLetterStreamName); dead != 0 {
		t.Errorf("%d events dead-lettered, want 0", dead)
	}
	history := readHistory(t, s.chat.client, s.project, book.channelList())
	reportProblems(t, book.check(history))
	stored := 0
	for _, messages := range history {
		stored += len(messages)
	}
	t.Logf("%d messages in %d channels", stored, len(history))
	return history
}
