package router

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/peroxo/peroxo/gateway/internal/conversation"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

type directRequest struct {
	client   Client
	message  wire.SendDirectMessage
	received time.Time
}

// SendDirect routes a validated SendDirectMessage from client. The answer
// (MessageAck or Error) arrives on the client's queue. received is when
// the frame was read, for the processing-time metric.
func (r *Router) SendDirect(ctx context.Context, client Client,
	message wire.SendDirectMessage, received time.Time) error {
	return r.submit(ctx, directRequest{client: client, message: message, received: received})
}

func (r *Router) sendDirect(request directRequest) {
	client, message := request.client, request.message
	project, sender := client.Project(), client.User()
	if message.To.ProjectID != project {
		r.sendError(client, wire.CodeForbiddenProject, wire.TypeSendDirectMessage,
			message.ClientMessageID, "to.project_id must be the project of your token")
		return
	}
	expected := conversation.ID(project, sender, message.To.UserID)
	if message.ConversationID != expected {
		r.sendError(client, wire.CodeConversationMismatch, wire.TypeSendDirectMessage,
			message.ClientMessageID,
			"conversation_id is not the conversation of you and to.user_id; "+
				"GET /conversations returns it")
		return
	}
	if r.resend(client, "dm:"+message.ClientMessageID) {
		return
	}
	now := r.now()
	event := &eventsv1.ChatEvent{
		OriginNode: r.settings.NodeID,
		Message: &chatv1.Message{
			ProjectId:       project,
			Kind:            chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
			ChannelId:       expected,
			MessageId:       newMessageID(),
			ClientMessageId: message.ClientMessageID,
			SenderId:        sender,
			RecipientId:     message.To.UserID,
			Content:         message.Content,
			TimestampMs:     now.UnixMilli(),
		},
	}
	r.remember(client, "dm:"+message.ClientMessageID, event, now)
	r.deliverDirect(event.Message, client)
	r.publish(client, event)
	r.metrics.ChatMessages.WithLabelValues("direct").Inc()
	r.metrics.Processing.Observe(time.Since(request.received).Seconds())
}

// deliverDirect sends a direct message to every local session of the
// recipient and of the sender except skip, once each.
func (r *Router) deliverDirect(message *chatv1.Message, skip Client) {
	frame := wire.MustEncode(wire.DirectMessage{
		From:            message.GetSenderId(),
		To:              message.GetRecipientId(),
		Content:         message.GetContent(),
		ServerMessageID: message.GetMessageId(),
		Timestamp:       message.GetTimestampMs(),
		ConversationID:  message.GetChannelId(),
	})
	project := message.GetProjectId()
	deliver := func(client Client) {
		if client != skip {
			r.send(client, "DirectMessage", frame)
		}
	}
	r.localClients(project, message.GetRecipientId(), deliver)
	if message.GetSenderId() != message.GetRecipientId() {
		r.localClients(project, message.GetSenderId(), deliver)
	}
}

// resend handles a client message id seen recently: it publishes the
// stored event again, which JetStream's duplicate window absorbs, so the
// client gets an ack with the original message id and nobody gets a
// second copy. It reports whether key was known.
func (r *Router) resend(client Client, key string) bool {
	cache := r.recent[userKey{client.Project(), client.User()}]
	if cache == nil {
		return false
	}
	event, ok := cache.lookup(key, r.now())
	if !ok {
		return false
	}
	r.publish(client, event)
	return true
}

func (r *Router) remember(client Client, key string, event *eventsv1.ChatEvent,
	now time.Time) {
	user := userKey{client.Project(), client.User()}
	cache := r.recent[user]
	if cache == nil {
		cache = newRecentIDs()
		r.recent[user] = cache
	}
	cache.add(key, event, now.Add(r.settings.RecentIDTTL), r.settings.RecentIDs,
		r.settings.RecentIDBytes)
}

func (r *Router) expireRecentIDs() {
	now := r.now()
	for user, cache := range r.recent {
		if cache.expire(now) {
			delete(r.recent, user)
		}
	}
}

// newMessageID returns a UUIDv7, whose time-ordered bits make message ids
// sort by acceptance time.
func newMessageID() string {
	return uuid.Must(uuid.NewV7()).String()
}
