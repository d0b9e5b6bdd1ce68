package router

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peroxo/peroxo/gateway/internal/metrics"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

func TestRemoteEventsReachLocalSessions(t *testing.T) {
	r := startRouter(t, testSettings(), newMemoryBus())
	bob, alice := newClient(project, "bob", 16), newClient(project, "alice", 16)
	outsider := newClient("peroxo_pj_other", "bob", 16)
	for _, client := range []*memoryClient{bob, alice, outsider} {
		register(t, r, client)
	}
	drainPresence(bob, alice, outsider)
	joinRoom(t, r, bob, "lobby")

	r.HandleRemoteEvent(&eventsv1.ChatEvent{OriginNode: "other", Message: &chatv1.Message{
		ProjectId: project, Kind: chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
		ChannelId: conversation.ID(project, "alice", "bob"), MessageId: "m1",
		SenderId: "alice", RecipientId: "bob", Content: "from afar",
	}})
	if body := bob.expect(t, "DirectMessage"); body["content"] != "from afar" {
		t.Errorf("bob received %v", body)
	}
	// The sender's sessions on this node get the copy as well.
	alice.expect(t, "DirectMessage")

	r.HandleRemoteEvent(&eventsv1.ChatEvent{OriginNode: "other", Message: &chatv1.Message{
		ProjectId: project, Kind: chatv1.ChannelKind_CHANNEL_KIND_ROOM, ChannelId: "lobby",
		MessageId: "m2", SenderId: "carol", Content: "room from afar",
	}})
	if body := bob.expect(t, "RoomMessage"); body["from"] != "carol" {
		t.Errorf("bob received %v", body)
	}

	r.HandleRemotePresence(&eventsv1.PresenceEvent{ProjectId: project, UserId: "carol",
		Status: eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE, OriginNode: "other"})
	for _, client := range []*memoryClient{bob, alice} {
		if body := client.expect(t, "Presence"); body["user"] != "carol" {
			t.Errorf("%s received %v", client.user, body)
		}
	}
	outsider.expectNone(t)
}

func TestDroppedRemoteEventsAreCounted(t *testing.T) {
	m := metrics.New(prometheus.NewRegistry())
	r := New(testSettings(), newMemoryBus(), m, discardLogger())
	r.HandleDroppedRemoteEvents(3)
	r.HandleDroppedRemoteEvents(2)
	if got := testutil.ToFloat64(m.Dropped.WithLabelValues("remote_event")); got != 5 {
		t.Errorf("dropped remote events = %v, want 5", got)
	}
}
