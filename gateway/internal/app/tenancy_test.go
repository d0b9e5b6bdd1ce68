package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

func TestProjectsAreIsolated(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	otherProject, otherKey := authsvc.createTenant(t)
	project := authsvc.projectID
	aliceToken := authsvc.token(t, "alice")
	alice := gateway.dial(t, aliceToken, "alice")
	bob := gateway.dial(t, authsvc.token(t, "bob"), "bob")
	eveToken := authsvc.tokenFor(t, otherProject, otherKey, "eve")
	eve := gateway.dial(t, eveToken, "eve")
	// A user id that exists in both projects.
	otherBob := gateway.dial(t, authsvc.tokenFor(t, otherProject, otherKey, "bob"), "other-bob")

	for _, member := range []*client{alice, eve} {
		member.send("JoinRoom", map[string]string{"room_id": "lobby"})
		joined := member.expect("RoomJoined")
		if members, _ := joined["members"].([]any); len(members) != 1 {
			t.Errorf("%s sees room members %v, want only itself", member.name, members)
		}
	}
	alice.send("RoomMessage", map[string]string{"room_id": "lobby", "from": "alice",
		"content": "project one only", "message_id": newID()})
	alice.expect("MessageAck")

	// eve names alice's project and conversation: rejected.
	conversation := gateway.conversationID(t, aliceToken, project, "alice", "bob")
	eve.send("SendDirectMessage", directMessage(project, "bob", conversation, "x", newID()))
	eve.expectError(int(wire.CodeForbiddenProject))
	eve.send("GetPaginatedMessages", map[string]any{"project_id": project,
		"conversation_id": conversation})
	eve.expectError(int(wire.CodeForbiddenProject))
	status, _ := gateway.getConversation(t, eveToken, project, "eve", "bob")
	if status != http.StatusForbidden {
		t.Errorf("eve's conversation lookup in another project: status %d, want 403", status)
	}

	// alice's DM to bob reaches bob of her project, not bob of eve's.
	alice.send("SendDirectMessage", directMessage(project, "bob", conversation, "hi", newID()))
	alice.expect("MessageAck")
	bob.expect("DirectMessage")
	// Markers prove nothing from project one arrived before them.
	otherConversation := gateway.conversationID(t, eveToken, otherProject, "eve", "bob")
	eve.send("SendDirectMessage", directMessage(otherProject, "bob", otherConversation,
		"marker", newID()))
	eve.expect("MessageAck")
	if body := otherBob.expect("DirectMessage"); body["content"] != "marker" {
		t.Errorf("bob of the other project received %v", body)
	}
	eve.send("RoomMessage", map[string]string{"room_id": "lobby", "from": "eve",
		"content": "marker", "message_id": newID()})
	eve.expect("MessageAck")
	alice.send("GetOnlineUsers", map[string]any{})
	online := alice.expect("OnlineUsers")
	for _, user := range online["users"].([]any) {
		if user == "eve" {
			t.Errorf("alice sees eve of another project online: %v", online)
		}
	}
}
