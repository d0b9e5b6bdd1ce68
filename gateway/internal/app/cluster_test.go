package app_test

import (
	"slices"
	"testing"
	"time"
)

func TestTwoNodesRouteThroughNATS(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	natsURL := startNATS(t, t.TempDir())
	nodeA := startGatewayOn(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_NODE_ID": "node-a"}), natsURL)
	nodeB := startGatewayOn(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_NODE_ID": "node-b"}), natsURL)
	project := authsvc.projectID
	aliceToken := authsvc.token(t, "alice")
	alice := nodeA.dial(t, aliceToken, "alice")
	aliceOnB := nodeB.dial(t, authsvc.token(t, "alice"), "alice-on-b")
	bob := nodeB.dial(t, authsvc.token(t, "bob"), "bob")
	conversation := nodeA.conversationID(t, aliceToken, project, "alice", "bob")
	if other := nodeB.conversationID(t, aliceToken, project, "alice", "bob"); other != conversation {
		t.Fatalf("node B derived %s, node A %s", other, conversation)
	}

	alice.send("SendDirectMessage", directMessage(project, "bob", conversation, "across", newID()))
	ack := alice.expect("MessageAck")
	for _, receiver := range []*client{bob, aliceOnB} {
		body := receiver.expect("DirectMessage")
		if body["server_message_id"] != ack["message_id"] || body["content"] != "across" {
			t.Errorf("%s received %v, ack %v", receiver.name, body, ack)
		}
	}

	for _, member := range []*client{alice, bob} {
		member.send("JoinRoom", map[string]string{"room_id": "shared"})
		member.expect("RoomJoined")
	}
	// Node A subscribes to the room on its NATS connection without waiting
	// for the server. A publish acknowledged on the same connection proves
	// the server has processed the subscription, since it reads a
	// connection's commands in order; before that, a message from node B
	// may miss node A's live delivery.
	alice.send("SendDirectMessage", directMessage(project, "bob", conversation, "sync", newID()))
	alice.expect("MessageAck")
	bob.expect("DirectMessage")
	aliceOnB.expect("DirectMessage")
	bob.send("RoomMessage", map[string]string{"room_id": "shared", "from": "bob",
		"content": "hello node a", "message_id": newID()})
	roomAck := bob.expect("MessageAck")
	if body := alice.expect("RoomMessage"); body["message_id"] != roomAck["message_id"] {
		t.Errorf("alice received %v, ack %v", body, roomAck)
	}

	// Presence reaches the other node through heartbeats or events; poll
	// until both users show up in the cluster-wide list.
	deadline := time.Now().Add(20 * time.Second)
	for {
		alice.send("GetOnlineUsers", map[string]any{})
		body := alice.expect("OnlineUsers")
		users, _ := body["users"].([]any)
		if slices.Contains(users, any("bob")) && slices.Contains(users, any("alice")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OnlineUsers = %v, want alice and bob", users)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
