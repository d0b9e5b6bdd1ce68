package router

import (
	"context"

	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// Bus is the part of the NATS bridge (package natsbus) that the router
// uses: the event log publisher, live cross-node subscriptions and
// cluster presence. Implementations are safe for concurrent use.
type Bus interface {
	// PublishAsync starts appending event to the event log without
	// blocking. done is called once, on any goroutine and possibly before
	// PublishAsync returns, with nil only after JetStream acknowledged the
	// event. done must not block. PublishAsync returns an error, and never
	// calls done, when it rejects the event, for example because too many
	// publishes are pending.
	PublishAsync(event *eventsv1.ChatEvent, done func(error)) error
	// SubscribeUser starts live delivery of the user's direct messages
	// from other nodes. Idempotent, like the three methods after it.
	SubscribeUser(project, user string) error
	// UnsubscribeUser stops what SubscribeUser started.
	UnsubscribeUser(project, user string) error
	// SubscribeRoom starts live delivery of the room's messages from
	// other nodes.
	SubscribeRoom(project, room string) error
	// UnsubscribeRoom stops what SubscribeRoom started.
	UnsubscribeRoom(project, room string) error
	// SetOnline announces that the user's first local session opened
	// (true) or its last closed (false).
	SetOnline(project, user string, online bool)
	// OnlineUsers returns the users of project online on any node, sorted.
	OnlineUsers(ctx context.Context, project string) ([]string, error)
}
