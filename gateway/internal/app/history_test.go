package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/peroxo/peroxo/gateway/internal/wire"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// seed stores messages in chatsvc the way the consumer does.
func seed(t testing.TB, chatURL string, messages ...*chatv1.Message) {
	t.Helper()
	client := chatv1connect.NewChatServiceClient(http.DefaultClient, chatURL)
	_, err := client.AppendMessages(context.Background(),
		connect.NewRequest(&chatv1.AppendMessagesRequest{Messages: messages}))
	if err != nil {
		t.Fatal(err)
	}
}

func TestHistoryRequests(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	chatURL := startChat(t)
	gateway := startGateway(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_CHAT_URL": chatURL}))
	project := authsvc.projectID
	aliceToken := authsvc.token(t, "alice")
	conversation := gateway.conversationID(t, aliceToken, project, "alice", "bob")
	now := time.Now().UnixMilli()
	var seeded []*chatv1.Message
	for i := range 3 {
		seeded = append(seeded, &chatv1.Message{
			ProjectId: project, Kind: chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
			ChannelId: conversation, MessageId: newID(), ClientMessageId: newID(),
			SenderId: "alice", RecipientId: "bob", Content: "dm", TimestampMs: now + int64(i),
		})
	}
	seeded = append(seeded, &chatv1.Message{
		ProjectId: project, Kind: chatv1.ChannelKind_CHANNEL_KIND_ROOM, ChannelId: "lobby",
		MessageId: newID(), ClientMessageId: newID(), SenderId: "bob", Content: "room",
		TimestampMs: now,
	})
	seed(t, chatURL, seeded...)

	alice := gateway.dial(t, aliceToken, "alice")
	alice.send("GetPaginatedMessages", map[string]any{"project_id": project,
		"conversation_id": conversation, "message_id": "", "limit": 2})
	page := alice.expect("ChatHistoryResponse")
	if messages, _ := page["messages"].([]any); len(messages) != 2 || page["has_more"] != true {
		t.Errorf("first page = %v, want 2 messages and has_more", page)
	}
	alice.send("SyncMessages", map[string]any{"project_id": project,
		"conversation_id": conversation, "message_id": seeded[0].MessageId})
	synced := alice.expect("SyncMessagesResponse")
	if messages, _ := synced["messages"].([]any); len(messages) != 2 {
		t.Errorf("sync = %v, want the 2 messages after the first", synced)
	}
	alice.send("GetConversations", map[string]any{})
	list := alice.expect("ConversationList")
	if items, _ := list["conversations"].([]any); len(items) != 1 {
		t.Errorf("conversations = %v, want one", list)
	}
	alice.send("JoinRoom", map[string]string{"room_id": "lobby"})
	alice.expect("RoomJoined")
	alice.send("GetRoomHistory", map[string]any{"room_id": "lobby"})
	room := alice.expect("RoomHistoryResponse")
	if messages, _ := room["messages"].([]any); len(messages) != 1 {
		t.Errorf("room history = %v, want one message", room)
	}
	alice.send("GetPaginatedMessages", map[string]any{"project_id": "peroxo_pj_other",
		"conversation_id": conversation})
	alice.expectError(int(wire.CodeForbiddenProject))
	for _, frame := range []string{"GetPaginatedMessages", "SyncMessages"} {
		alice.send(frame, map[string]any{"project_id": project,
			"conversation_id": conversation, "message_id": newID()})
		alice.expectError(int(wire.CodeUnknownCursor))
	}

	mallory := gateway.dial(t, authsvc.token(t, "mallory"), "mallory")
	for _, frame := range []string{"GetPaginatedMessages", "SyncMessages"} {
		mallory.send(frame, map[string]any{"project_id": project,
			"conversation_id": conversation})
		mallory.expectError(int(wire.CodeNotParticipant))
	}
}

func TestHistoryUnavailableGetsError(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_CHAT_URL": "http://" + freeAddr(t)}))
	alice := gateway.dial(t, authsvc.token(t, "alice"), "alice")
	alice.send("GetConversations", map[string]any{})
	alice.expectError(int(wire.CodeHistoryUnavailable))
}
