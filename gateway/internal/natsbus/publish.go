package natsbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// EventSubject returns the stream subject of a chat event's message.
func EventSubject(message *chatv1.Message) (string, error) {
	if message == nil {
		return "", errors.New("chat event has no message")
	}
	if message.GetMessageId() == "" {
		return "", errors.New("chat event message has no message id")
	}
	switch message.GetKind() {
	case chatv1.ChannelKind_CHANNEL_KIND_DIRECT:
		return eventlog.DirectSubject(message.GetProjectId(), message.GetRecipientId(),
			message.GetSenderId()), nil
	case chatv1.ChannelKind_CHANNEL_KIND_ROOM:
		return eventlog.RoomSubject(message.GetProjectId(), message.GetChannelId()), nil
	}
	return "", fmt.Errorf("chat event message %s has channel kind %s, want DIRECT or ROOM",
		message.GetMessageId(), message.GetKind())
}

// Publish appends one event to the chat stream on its subject, with
// Nats-Msg-Id set to the message id, so a repeated publish within the
// stream's duplicate window stores the event once, and with origin_node
// set to this node. It returns nil only after JetStream acknowledged the
// event. Each attempt is bounded by PublishTimeout; after PublishAttempts
// failed attempts, or when ctx ends, it returns an error that names the
// cause. Attempts are skipped while the connection is down, so an event
// reported as failed is rarely stored later from the client's reconnect
// buffer. When it is, a resend with the same message id is deduplicated.
//
// Publish blocks and is safe for concurrent use. It does not modify event.
func (b *Bus) Publish(ctx context.Context, event *eventsv1.ChatEvent) error {
	subject, err := EventSubject(event.GetMessage())
	if err != nil {
		return fmt.Errorf("publish chat event: %w", err)
	}
	data, err := eventlog.MarshalEvent(&eventsv1.ChatEvent{
		Message:    event.GetMessage(),
		OriginNode: b.options.NodeID,
	})
	if err != nil {
		return err
	}
	messageID := event.GetMessage().GetMessageId()
	var lastErr error
	for attempt := range b.options.PublishAttempts {
		if attempt > 0 {
			delay := backoff(attempt-1, b.options.PublishTimeout/4, b.options.PublishTimeout)
			if err := sleep(ctx, delay); err != nil {
				break
			}
		}
		lastErr = b.publishOnce(ctx, subject, messageID, data)
		if lastErr == nil {
			return nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil && lastErr == nil {
		lastErr = ctx.Err()
	}
	return fmt.Errorf("publish message %s to %s: %w", messageID, eventlog.StreamName, lastErr)
}

func (b *Bus) publishOnce(ctx context.Context, subject, messageID string, data []byte) error {
	if status := b.conn.Status(); status != nats.CONNECTED {
		return fmt.Errorf("nats connection is %s", status)
	}
	attemptCtx, cancel := context.WithTimeout(ctx, b.options.PublishTimeout)
	defer cancel()
	_, err := b.js.Publish(attemptCtx, subject, data,
		jetstream.WithMsgID(messageID),
		jetstream.WithExpectStream(eventlog.StreamName))
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("no acknowledgement from jetstream within %s", b.options.PublishTimeout)
	}
	return err
}
