package e2e

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// channelKey names one history channel.
type channelKey struct {
	kind chatv1.ChannelKind
	id   string
}

// ledger is the senders' record: every message they tried to send and,
// by client message id, the message id of each one acknowledged as
// persisted. Senders add to it concurrently, so a mutex guards it.
type ledger struct {
	mu        sync.Mutex
	attempted map[string]*chatv1.Message // by message id
	persisted map[string]string          // client message id to message id
	failed    int
	channels  map[channelKey]bool
	project   string
	// waiters are closed once persisted holds at least their count.
	waiters map[int][]chan struct{}
}

func newLedger(project string) *ledger {
	return &ledger{
		attempted: make(map[string]*chatv1.Message),
		persisted: make(map[string]string),
		channels:  make(map[channelKey]bool),
		project:   project,
		waiters:   make(map[int][]chan struct{}),
	}
}

// attempt records a message before its first send.
func (l *ledger) attempt(message *chatv1.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempted[message.GetMessageId()] = message
	l.channels[channelKey{message.GetKind(), message.GetChannelId()}] = true
}

// ack records the result of a send: a persisted ack with its message id,
// or a failure.
func (l *ledger) ack(clientMessageID, messageID string, persisted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !persisted {
		l.failed++
		return
	}
	l.persisted[clientMessageID] = messageID
	for count, channels := range l.waiters {
		if len(l.persisted) < count {
			continue
		}
		for _, reached := range channels {
			close(reached)
		}
		delete(l.waiters, count)
	}
}

// reached returns a channel that is closed once count messages are
// acknowledged as persisted.
func (l *ledger) reached(count int) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	reached := make(chan struct{})
	if len(l.persisted) >= count {
		close(reached)
		return reached
	}
	l.waiters[count] = append(l.waiters[count], reached)
	return reached
}

// failedCount returns how many sends ended without a persisted ack.
func (l *ledger) failedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failed
}

// persistedCount returns how many messages were acknowledged as persisted.
func (l *ledger) persistedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.persisted)
}

// channelList returns every channel a message was sent to, sorted.
func (l *ledger) channelList() []channelKey {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]channelKey, 0, len(l.channels))
	for key := range l.channels {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b channelKey) int {
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return cmp.Compare(a.id, b.id)
	})
	return keys
}

// check compares the stored history, every message of every channel, with
// the record and returns one line per problem: an acknowledged message
// missing or stored under another id, a message stored twice, a stored
// message nobody sent or whose fields differ from what was sent.
func (l *ledger) check(stored map[channelKey][]*chatv1.Message) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var problems []string
	seen := make(map[string]int)
	clientIDs := make(map[string]string)
	for key, messages := range stored {
		for _, message := range messages {
			id := message.GetMessageId()
			seen[id]++
			if seen[id] == 2 {
				problems = append(problems, fmt.Sprintf("message %s stored twice", id))
			}
			sent, found := l.attempted[id]
			if !found {
				problems = append(problems, fmt.Sprintf(
					"channel %s holds message %s that nobody sent", key.id, id))
				continue
			}
			if !sameMessage(sent, message) {
				problems = append(problems, fmt.Sprintf(
					"message %s stored as %v, sent as %v", id, message, sent))
			}
			clientID := message.GetClientMessageId()
			if other, dup := clientIDs[clientID]; dup && other != id {
				problems = append(problems, fmt.Sprintf(
					"client message %s stored twice, as %s and %s", clientID, other, id))
			}
			clientIDs[clientID] = id
		}
	}
	for clientID, messageID := range l.persisted {
		if seen[messageID] == 0 {
			problems = append(problems, fmt.Sprintf(
				"acknowledged message %s (client id %s) is missing", messageID, clientID))
		}
	}
	return problems
}

// sameMessage reports whether two messages are equal in every field.
func sameMessage(a, b *chatv1.Message) bool {
	return proto.Equal(a, b)
}
