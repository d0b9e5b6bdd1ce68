package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const project = "peroxo_pj_test"

func dm(to, content, clientID string) wire.SendDirectMessage {
	return wire.SendDirectMessage{
		ConversationID:  conversation.ID(project, "alice", to),
		To:              wire.UserRef{ProjectID: project, UserID: to},
		Content:         content,
		ClientMessageID: clientID,
	}
}

const clientID = "0190a8f0-0000-7000-8000-000000000001"

func TestDirectMessageDeliveryAndAck(t *testing.T) {
	bus := newMemoryBus()
	r := startRouter(t, testSettings(), bus)
	alice, aliceOther := newClient(project, "alice", 16), newClient(project, "alice", 16)
	bob := newClient(project, "bob", 16)
	for _, client := range []*memoryClient{alice, aliceOther, bob} {
		register(t, r, client)
	}
	// Presence of later sessions reaches earlier ones.
	aliceOther.expect(t, "Presence")
	alice.expect(t, "Presence")

	ctx := context.Background()
	if err := r.SendDirect(ctx, alice, dm("bob", "hi", clientID), time.Now()); err != nil {
		t.Fatal(err)
	}
	delivered := bob.expect(t, "DirectMessage")
	if delivered["from"] != "alice" || delivered["content"] != "hi" {
		t.Errorf("bob received %v", delivered)
	}
	copied := aliceOther.expect(t, "DirectMessage")
	if copied["server_message_id"] != delivered["server_message_id"] {
		t.Errorf("copy id %v, delivered id %v", copied["server_message_id"],
			delivered["server_message_id"])
	}
	ack := alice.expect(t, "MessageAck")
	if ack["status"] != "Persisted" {
		t.Errorf("ack status = %v, want Persisted", ack["status"])
	}
	if ack["message_id"] != delivered["server_message_id"] {
		t.Errorf("ack id %v, delivered id %v", ack["message_id"], delivered["server_message_id"])
	}
	if ack["client_message_id"] != clientID {
		t.Errorf("ack client id = %v", ack["client_message_id"])
	}
	alice.expectNone(t)
}

func TestDirectMessageResendIsIdempotent(t *testing.T) {
	bus := newMemoryBus()
	r := startRouter(t, testSettings(), bus)
	alice, bob := newClient(project, "alice", 16), newClient(project, "bob", 16)
	register(t, r, alice)
	register(t, r, bob)
	alice.expect(t, "Presence")

	ctx := context.Background()
	_ = r.SendDirect(ctx, alice, dm("bob", "hi", clientID), time.Now())
	first := alice.expect(t, "MessageAck")
	bob.expect(t, "DirectMessage")
	_ = r.SendDirect(ctx, alice, dm("bob", "hi", clientID), time.Now())
	second := alice.expect(t, "MessageAck")
	if first["message_id"] != second["message_id"] {
		t.Errorf("resend got id %v, first got %v", second["message_id"], first["message_id"])
	}
	bob.expectNone(t)
	ids := bus.publishedIDs()
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("published ids %v, want the same id twice for the stream to deduplicate", ids)
	}
}

func TestDirectMessageRejections(t *testing.T) {
	r := startRouter(t, testSettings(), newMemoryBus())
	alice, bob := newClient(project, "alice", 16), newClient(project, "bob", 16)
	register(t, r, alice)
	register(t, r, bob)
	alice.expect(t, "Presence")
	otherProject := dm("bob", "hi", clientID)
	otherProject.To.ProjectID = "peroxo_pj_other"
	wrongConversation := dm("bob", "hi", clientID)
	wrongConversation.ConversationID = conversation.ID(project, "alice", "carol")
	tests := []struct {
		name    string
		message wire.SendDirectMessage
		code    float64
	}{
		{"other project", otherProject, float64(wire.CodeForbiddenProject)},
		{"wrong conversation", wrongConversation, float64(wire.CodeConversationMismatch)},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_ = r.SendDirect(context.Background(), alice, test.message, time.Now())
			body := alice.expect(t, "Error")
			if body["code"] != test.code {
				t.Errorf("code = %v, want %v", body["code"], test.code)
			}
			if body["request"] != wire.TypeSendDirectMessage {
				t.Errorf("request = %v", body["request"])
			}
			bob.expectNone(t)
		})
	}
}

func TestPublishFailureAcksFailed(t *testing.T) {
	tests := []struct {
		name    string
		failed  bool // the publish fails after the bus took it
		dropped float64
	}{
		{"failed after attempts", true, 0},
		{"rejected by the bus", false, 1},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			bus := newMemoryBus()
			if test.failed {
				bus.failWith = errors.New("no responders")
			} else {
				bus.rejectWith = errors.New("event log publish window full")
			}
			m := metrics.New(prometheus.NewRegistry())
			r := runRouter(t, New(testSettings(), bus, m, discardLogger()))
			alice, bob := newClient(project, "alice", 16), newClient(project, "bob", 16)
			register(t, r, alice)
			register(t, r, bob)
			alice.expect(t, "Presence")
			_ = r.SendDirect(context.Background(), alice, dm("bob", "hi", clientID),
				time.Now())
			bob.expect(t, "DirectMessage")
			ack := alice.expect(t, "MessageAck")
			status, ok := ack["status"].(map[string]any)
			if !ok || status["Failed"] == "" {
				t.Errorf("ack status = %v, want {Failed: reason}", ack["status"])
			}
			if got := testutil.ToFloat64(m.PublishResults.WithLabelValues("failed")); got != 1 {
				t.Errorf("failed publishes = %v, want 1", got)
			}
			if got := testutil.ToFloat64(m.Dropped.WithLabelValues("publish")); got != test.dropped {
				t.Errorf("dropped publishes = %v, want %v", got, test.dropped)
			}
		})
	}
}

func TestSessionsPerUserCap(t *testing.T) {
	settings := testSettings()
	settings.SessionsPerUser = 2
	r := startRouter(t, settings, newMemoryBus())
	register(t, r, newClient(project, "alice", 16))
	register(t, r, newClient(project, "alice", 16))
	err := r.Register(context.Background(), newClient(project, "alice", 16))
	if !errors.Is(err, ErrTooManySessions) {
		t.Errorf("third session: err = %v, want ErrTooManySessions", err)
	}
	if err := r.Register(context.Background(), newClient("peroxo_pj_other", "alice", 16)); err != nil {
		t.Errorf("same user id in another project: %v", err)
	}
}

func TestPresenceOnlineAndOffline(t *testing.T) {
	bus := newMemoryBus()
	r := startRouter(t, testSettings(), bus)
	alice := newClient(project, "alice", 16)
	register(t, r, alice)
	bob := newClient(project, "bob", 16)
	register(t, r, bob)
	online := alice.expect(t, "Presence")
	if online["user"] != "bob" || online["status"] != "Online" {
		t.Errorf("presence = %v", online)
	}
	outsider := newClient("peroxo_pj_other", "carol", 16)
	register(t, r, outsider)
	r.Unregister(bob)
	offline := alice.expect(t, "Presence")
	if offline["user"] != "bob" || offline["status"] != "Offline" {
		t.Errorf("presence = %v", offline)
	}
	outsider.expectNone(t)
}
