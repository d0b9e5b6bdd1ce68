package natsbus

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/peroxo/peroxo/platform/eventlog"
)

// SubscribeUser starts live delivery of the direct messages that user
// receives or sends on other nodes, so all of the user's local sessions
// get them. It is idempotent and fails after Close.
func (b *Bus) SubscribeUser(project, user string) error {
	key := userKey{project: project, user: user}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	if _, ok := b.users[key]; ok {
		return nil
	}
	received, sent := eventlog.UserSubjects(project, user)
	receivedSub, err := b.conn.Subscribe(received, b.receiveEvent())
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", received, err)
	}
	sentSub, err := b.conn.Subscribe(sent, b.receiveEvent())
	if err != nil {
		_ = receivedSub.Unsubscribe()
		return fmt.Errorf("subscribe to %s: %w", sent, err)
	}
	b.users[key] = []*nats.Subscription{receivedSub, sentSub}
	return nil
}

// UnsubscribeUser stops what SubscribeUser started. It is idempotent.
func (b *Bus) UnsubscribeUser(project, user string) error {
	key := userKey{project: project, user: user}
	b.mu.Lock()
	subs := b.users[key]
	delete(b.users, key)
	b.mu.Unlock()
	for _, sub := range subs {
		if err := ignoreClosed(sub.Unsubscribe()); err != nil {
			return fmt.Errorf("unsubscribe from %s: %w", sub.Subject, err)
		}
	}
	return nil
}

// SubscribeRoom starts live delivery of the room's messages published on
// other nodes. It is idempotent and fails after Close.
func (b *Bus) SubscribeRoom(project, room string) error {
	key := roomKey{project: project, room: room}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	if _, ok := b.rooms[key]; ok {
		return nil
	}
	subject := eventlog.RoomSubject(project, room)
	sub, err := b.conn.Subscribe(subject, b.receiveEvent())
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", subject, err)
	}
	b.rooms[key] = sub
	return nil
}

// UnsubscribeRoom stops what SubscribeRoom started. It is idempotent.
func (b *Bus) UnsubscribeRoom(project, room string) error {
	key := roomKey{project: project, room: room}
	b.mu.Lock()
	sub, ok := b.rooms[key]
	delete(b.rooms, key)
	b.mu.Unlock()
	if !ok {
		return nil
	}
	if err := ignoreClosed(sub.Unsubscribe()); err != nil {
		return fmt.Errorf("unsubscribe from %s: %w", sub.Subject, err)
	}
	return nil
}

// receiveEvent returns a message handler that decodes chat events and
// passes those of other nodes to OnEvent. A direct message matches both
// the recipient's and the sender's subscription when both users are on
// this node; the recent ids drop the second copy.
func (b *Bus) receiveEvent() nats.MsgHandler {
	return func(msg *nats.Msg) {
		event, err := eventlog.UnmarshalEvent(msg.Data)
		if err != nil {
			b.logger.Warn("dropped undecodable chat event", "subject", msg.Subject, "err", err)
			return
		}
		if event.GetOriginNode() == b.options.NodeID {
			return
		}
		if !b.recent.add(event.GetMessage().GetMessageId()) {
			return
		}
		if b.handlers.OnEvent != nil {
			b.handlers.OnEvent(event)
		}
	}
}
