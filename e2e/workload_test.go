package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// publisher appends chat events to the log the way the gateway's bus
// does: on the message's subject, with Nats-Msg-Id set to the message id,
// retrying an attempt that failed or timed out with the same id. A nil
// error is JetStream's ack, which the gateway turns into a Persisted ack.
type publisher struct {
	js       jetstream.JetStream
	node     string
	timeout  time.Duration
	attempts int
}

func (p *publisher) publish(ctx context.Context, message *chatv1.Message) error {
	data, err := eventlog.MarshalEvent(&eventsv1.ChatEvent{Message: message, OriginNode: p.node})
	if err != nil {
		return err
	}
	subject := eventlog.RoomSubject(message.GetProjectId(), message.GetChannelId())
	if message.GetKind() == chatv1.ChannelKind_CHANNEL_KIND_DIRECT {
		subject = eventlog.DirectSubject(message.GetProjectId(), message.GetRecipientId(),
			message.GetSenderId())
	}
	var lastErr error
	for range p.attempts {
		attemptCtx, cancel := context.WithTimeout(ctx, p.timeout)
		_, lastErr = p.js.Publish(attemptCtx, subject, data,
			jetstream.WithMsgID(message.GetMessageId()))
		cancel()
		if lastErr == nil || ctx.Err() != nil {
			break
		}
	}
	return lastErr
}

// workload is a mix of direct and room messages from many concurrent
// senders. Sender i is users[i], sends through publishers[i mod n], writes
// to a few peers and to one room, and every third message goes to the
// room.
type workload struct {
	project string
	users   []string
	rooms   []string
	total   int
}

// newWorkload returns users and rooms whose ids include characters that
// NATS subjects cannot carry as they are, so subject encoding is part of
// every run.
func newWorkload(project string, users, rooms, total int) workload {
	w := workload{project: project, total: total}
	for i := range users {
		id := fmt.Sprintf("user-%d", i)
		if i%5 == 0 {
			id = fmt.Sprintf("user.%d *ü>", i)
		}
		w.users = append(w.users, id)
	}
	for i := range rooms {
		w.rooms = append(w.rooms, fmt.Sprintf("room.%d", i))
	}
	return w
}

// message builds the n-th message of sender i with new ids, as the
// gateway assigns a UUIDv7 message id and the client a client id.
func (w workload) message(sender, n int) *chatv1.Message {
	id := uuid.Must(uuid.NewV7())
	seconds, nanoseconds := id.Time().UnixTime()
	message := &chatv1.Message{
		ProjectId:       w.project,
		MessageId:       id.String(),
		ClientMessageId: uuid.NewString(),
		SenderId:        w.users[sender],
		TimestampMs:     time.Unix(seconds, nanoseconds).UnixMilli(),
	}
	if n%3 == 0 {
		message.Kind = chatv1.ChannelKind_CHANNEL_KIND_ROOM
		message.ChannelId = w.rooms[sender%len(w.rooms)]
		message.Content = fmt.Sprintf("%s to the room, message %d", w.users[sender], n)
		return message
	}
	peer := w.users[(sender+1+n%4)%len(w.users)]
	message.Kind = chatv1.ChannelKind_CHANNEL_KIND_DIRECT
	message.ChannelId = directChannel(w.users[sender], peer)
	message.RecipientId = peer
	message.Content = fmt.Sprintf("%s to %s, message %d", w.users[sender], peer, n)
	return message
}

// directChannel returns a stable conversation id for a pair of users.
func directChannel(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprintf("%d:%s%s", len(a), a, b))).String()
}

// run sends w.total messages from every user at once and records each in
// book. It returns when all are sent or ctx ends; a failed send is
// recorded and not retried, as a client would see a Failed ack.
func (w workload) run(ctx context.Context, book *ledger, publishers []*publisher) error {
	var claimed atomic.Int64
	var wait sync.WaitGroup
	for sender := range w.users {
		wait.Go(func() {
			via := publishers[sender%len(publishers)]
			for {
				n := int(claimed.Add(1))
				if n > w.total || ctx.Err() != nil {
					return
				}
				message := w.message(sender, n)
				book.attempt(message)
				err := via.publish(ctx, message)
				book.ack(message.GetClientMessageId(), message.GetMessageId(), err == nil)
			}
		})
	}
	wait.Wait()
	return ctx.Err()
}
