package router

import (
	"context"
	"testing"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

const roomClientID = "0190a8f0-0000-7000-8000-0000000000aa"

func joinRoom(t testing.TB, r *Router, client *memoryClient, roomID string) map[string]any {
	t.Helper()
	if err := r.JoinRoom(context.Background(), client, roomID); err != nil {
		t.Fatal(err)
	}
	return client.expect(t, "RoomJoined")
}

// drainPresence discards queued Presence frames.
func drainPresence(clients ...*memoryClient) {
	for _, client := range clients {
		for len(client.frames) > 0 {
			<-client.frames
		}
	}
}

func TestRoomFanOutToThreeMembers(t *testing.T) {
	r := startRouter(t, testSettings(), newMemoryBus())
	alice := newClient(project, "alice", 16)
	bob := newClient(project, "bob", 16)
	carol := newClient(project, "carol", 16)
	for _, client := range []*memoryClient{alice, bob, carol} {
		register(t, r, client)
	}
	drainPresence(alice, bob, carol)
	joinRoom(t, r, alice, "lobby")
	joinRoom(t, r, bob, "lobby")
	joined := joinRoom(t, r, carol, "lobby")
	if members, _ := joined["members"].([]any); len(members) != 3 {
		t.Errorf("members = %v, want alice, bob and carol", joined["members"])
	}

	message := wire.RoomMessage{RoomID: "lobby", From: "alice", Content: "hello",
		MessageID: roomClientID}
	if err := r.SendRoom(context.Background(), alice, message, time.Now()); err != nil {
		t.Fatal(err)
	}
	ack := alice.expect(t, "MessageAck")
	for _, member := range []*memoryClient{bob, carol} {
		body := member.expect(t, "RoomMessage")
		if body["content"] != "hello" || body["from"] != "alice" {
			t.Errorf("%s received %v", member.user, body)
		}
		if body["message_id"] != ack["message_id"] {
			t.Errorf("%s got id %v, ack has %v", member.user, body["message_id"],
				ack["message_id"])
		}
	}
	alice.expectNone(t)
}

func TestRoomRejections(t *testing.T) {
	settings := testSettings()
	settings.RoomsPerSession = 1
	r := startRouter(t, settings, newMemoryBus())
	alice, mallory := newClient(project, "alice", 16), newClient(project, "mallory", 16)
	outsider := newClient("peroxo_pj_other", "eve", 16)
	for _, client := range []*memoryClient{alice, mallory, outsider} {
		register(t, r, client)
	}
	drainPresence(alice, mallory, outsider)
	joinRoom(t, r, alice, "lobby")
	joinRoom(t, r, outsider, "lobby")
	ctx := context.Background()

	tests := []struct {
		name   string
		client *memoryClient
		send   func(client *memoryClient)
		code   wire.Code
	}{
		{"post without joining", mallory, func(client *memoryClient) {
			_ = r.SendRoom(ctx, client, wire.RoomMessage{RoomID: "lobby", From: "mallory",
				Content: "x", MessageID: roomClientID}, time.Now())
		}, wire.CodeNotRoomMember},
		{"from is another user", alice, func(client *memoryClient) {
			_ = r.SendRoom(ctx, client, wire.RoomMessage{RoomID: "lobby", From: "bob",
				Content: "x", MessageID: roomClientID}, time.Now())
		}, wire.CodeNotSender},
		{"leave without joining", mallory, func(client *memoryClient) {
			_ = r.LeaveRoom(ctx, client, "lobby")
		}, wire.CodeNotRoomMember},
		{"rooms per session", alice, func(client *memoryClient) {
			_ = r.JoinRoom(ctx, client, "second")
		}, wire.CodeTooManyRooms},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			test.send(test.client)
			body := test.client.expect(t, "Error")
			if body["code"] != float64(test.code) {
				t.Errorf("code = %v, want %d", body["code"], test.code)
			}
			alice.expectNone(t)
			outsider.expectNone(t)
		})
	}
}

func TestRoomsAreSeparatedByProject(t *testing.T) {
	r := startRouter(t, testSettings(), newMemoryBus())
	alice, eve := newClient(project, "alice", 16), newClient("peroxo_pj_other", "eve", 16)
	register(t, r, alice)
	register(t, r, eve)
	joinRoom(t, r, alice, "lobby")
	joined := joinRoom(t, r, eve, "lobby")
	if members, _ := joined["members"].([]any); len(members) != 1 {
		t.Errorf("eve sees members %v, want only herself", joined["members"])
	}
	_ = r.SendRoom(context.Background(), eve, wire.RoomMessage{RoomID: "lobby", From: "eve",
		Content: "x", MessageID: roomClientID}, time.Now())
	eve.expect(t, "MessageAck")
	alice.expectNone(t)
}

func TestLeaveRoomStopsDelivery(t *testing.T) {
	r := startRouter(t, testSettings(), newMemoryBus())
	alice, bob := newClient(project, "alice", 16), newClient(project, "bob", 16)
	register(t, r, alice)
	register(t, r, bob)
	drainPresence(alice, bob)
	joinRoom(t, r, alice, "lobby")
	joinRoom(t, r, bob, "lobby")
	_ = r.LeaveRoom(context.Background(), bob, "lobby")
	bob.expect(t, "RoomLeft")
	_ = r.SendRoom(context.Background(), alice, wire.RoomMessage{RoomID: "lobby",
		From: "alice", Content: "x", MessageID: roomClientID}, time.Now())
	alice.expect(t, "MessageAck")
	bob.expectNone(t)
}
