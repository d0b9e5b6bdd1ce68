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
	receivedSub, err := b.conn.ChanSubscribe(received, b.events)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", received, err)
	}
	sentSub, err := b.conn.ChanSubscribe(sent, b.events)
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
	for _, sub := range subs {
		b.droppedRemoved += dropped(sub)
	}
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
	sub, err := b.conn.ChanSubscribe(subject, b.events)
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
	if ok {
		b.droppedRemoved += dropped(sub)
	}
	b.mu.Unlock()
	if !ok {
		return nil
	}
	if err := ignoreClosed(sub.Unsubscribe()); err != nil {
		return fmt.Errorf("unsubscribe from %s: %w", sub.Subject, err)
	}
	return nil
}

// deliverEvents passes the messages of every user and room subscription
// to receiveEvent until Close. It is the only reader of b.events.
func (b *Bus) deliverEvents() {
	defer close(b.deliveryDone)
	for {
		select {
		case <-b.stopDelivery:
			return
		case msg := <-b.events:
			b.receiveEvent(msg)
		}
	}
}

// receiveEvent decodes a chat event and passes it to OnEvent unless this
// node published it. A direct message matches both the recipient's and
// the sender's subscription when both users are on this node. A retried
// publish reaches subscribers once per attempt. The recent ids drop those
// repeats.
func (b *Bus) receiveEvent(msg *nats.Msg) {
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

// reportDroppedEvents passes the number of live events NATS dropped since
// the previous call to OnEventsDropped. NATS drops a message instead of
// blocking its reader when the shared channel is full and counts it on
// the subscription.
func (b *Bus) reportDroppedEvents() {
	b.mu.Lock()
	total := b.droppedRemoved
	for _, subs := range b.users {
		for _, sub := range subs {
			total += dropped(sub)
		}
	}
	for _, sub := range b.rooms {
		total += dropped(sub)
	}
	count := total - b.droppedReported
	b.droppedReported = total
	b.mu.Unlock()
	if count == 0 {
		return
	}
	b.logger.Warn("dropped live events because the queue was full",
		"count", count, "queue_length", cap(b.events))
	if b.handlers.OnEventsDropped != nil {
		b.handlers.OnEventsDropped(count)
	}
}

// dropped returns how many messages NATS dropped for sub, or 0 when sub
// is no longer valid.
func dropped(sub *nats.Subscription) int {
	count, err := sub.Dropped()
	if err != nil {
		return 0
	}
	return count
}
