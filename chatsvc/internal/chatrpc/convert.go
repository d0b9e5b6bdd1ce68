package chatrpc

import (
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"

	"github.com/peroxo/peroxo/chatsvc/internal/store"
)

func toProtoKind(kind store.Kind) chatv1.ChannelKind {
	switch kind {
	case store.KindDirect:
		return chatv1.ChannelKind_CHANNEL_KIND_DIRECT
	case store.KindRoom:
		return chatv1.ChannelKind_CHANNEL_KIND_ROOM
	}
	return chatv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED
}

func toProtoMessage(message store.Message) *chatv1.Message {
	return &chatv1.Message{
		ProjectId:       message.Channel.ProjectID,
		Kind:            toProtoKind(message.Channel.Kind),
		ChannelId:       message.Channel.ID,
		MessageId:       message.ID.String(),
		ClientMessageId: message.ClientMessageID,
		SenderId:        message.SenderID,
		RecipientId:     message.RecipientID,
		Content:         message.Content,
		TimestampMs:     message.TimestampMS,
	}
}

func toProtoMessages(messages []store.Message) []*chatv1.Message {
	converted := make([]*chatv1.Message, len(messages))
	for i, message := range messages {
		converted[i] = toProtoMessage(message)
	}
	return converted
}

// nextCursor returns the id of the page's last message when another page
// exists, and "" otherwise.
func nextCursor(page store.Page) string {
	if !page.HasMore || len(page.Messages) == 0 {
		return ""
	}
	return page.Messages[len(page.Messages)-1].ID.String()
}
