// Package store keeps chat message history behind the [Store] interface.
//
// Two implementations sit beside it: [CQL] for ScyllaDB or Cassandra and
// [SQLite], an embedded file for single-machine deployments. Both order a
// channel's messages by message id. Ids are UUIDv7, whose first 48 bits
// are the Unix time in milliseconds, so id order is time order.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Kind is the type of a channel: a direct-message conversation or a room.
type Kind int8

// Channel kinds. The values match peroxo.chat.v1.ChannelKind and are
// stored, so they must never change.
const (
	KindDirect Kind = 1
	KindRoom   Kind = 2
)

// String returns "direct" or "room".
func (k Kind) String() string {
	switch k {
	case KindDirect:
		return "direct"
	case KindRoom:
		return "room"
	}
	return fmt.Sprintf("Kind(%d)", int8(k))
}

// Channel names a conversation or a room inside one project.
type Channel struct {
	ProjectID string
	Kind      Kind
	// ID is the conversation id of a direct channel or the room id.
	ID string
}

// Message is one stored chat message.
type Message struct {
	Channel Channel
	// ID is a UUIDv7 assigned by the gateway. It orders the channel.
	ID              uuid.UUID
	ClientMessageID string
	SenderID        string
	// RecipientID is set for direct messages only.
	RecipientID string
	Content     string
	// TimestampMS is the acceptance time, milliseconds since the Unix epoch.
	TimestampMS int64
}

// AppendResult counts the outcome of one [Store.Append] call. Every
// message of the call is counted once, in one of the two fields. The
// counts are exact for calls that do not overlap in time. [Store.Append]
// describes overlapping calls.
type AppendResult struct {
	// Appended is the number of messages whose id was not stored when the
	// call started and not repeated earlier in the call.
	Appended int
	// Duplicates is the number of the other messages: ids already stored,
	// and repeats within the call.
	Duplicates int
}

// PageQuery selects one page of a channel.
type PageQuery struct {
	Channel Channel
	// Cursor is the exclusive starting message id; [uuid.Nil] starts at
	// the newest message (history) or the oldest one (sync).
	Cursor uuid.UUID
	// Limit is the page size, at least 1.
	Limit int
}

// Page is one page of messages.
type Page struct {
	Messages []Message
	// HasMore is true only when at least one more message lies beyond the
	// last one in Messages, in the direction of the query.
	HasMore bool
}

// Conversation is one direct-message conversation from one user's view.
type Conversation struct {
	ConversationID string
	PeerUserID     string
	LastMessage    Message
}

// Room is one room of a project with its last message.
type Room struct {
	RoomID      string
	LastMessage Message
}

// ErrCursorNotFound is returned by History and Sync when the cursor names
// no message of the queried channel.
var ErrCursorNotFound = errors.New("cursor message not found in channel")

// Store is durable chat history. Implementations are safe for concurrent
// use and confine every read to the project it names.
type Store interface {
	// Append stores messages, idempotently by (project, message id): a
	// message whose id is already stored is counted as a duplicate and
	// the stored copy is kept. It also moves the last message of each
	// touched conversation and room forward, never backward. Concurrent
	// calls with the same new id store it once. More than one of them may
	// count it as appended, and at least one of them does. A retry of a
	// failed call completes what the failed call stored in part and may
	// count those messages as duplicates.
	Append(ctx context.Context, messages []Message) (AppendResult, error)
	// History returns a channel's messages older than the cursor, newest
	// first.
	History(ctx context.Context, query PageQuery) (Page, error)
	// Sync returns a channel's messages newer than the cursor, oldest
	// first.
	Sync(ctx context.Context, query PageQuery) (Page, error)
	// Conversations returns up to limit direct conversations of a user,
	// the one with the newest last message first.
	Conversations(ctx context.Context, projectID, userID string, limit int) ([]Conversation, error)
	// Rooms returns up to limit rooms of a project that have messages,
	// the one with the newest last message first.
	Rooms(ctx context.Context, projectID string, limit int) ([]Room, error)
	// Ping checks that the store is usable.
	Ping(ctx context.Context) error
	// Close releases the store's connections. It is idempotent.
	Close() error
}

// IDTime returns the Unix time in milliseconds held in the first 48 bits of
// a UUIDv7.
func IDTime(id uuid.UUID) int64 {
	var buf [8]byte
	copy(buf[2:], id[:6])
	return int64(binary.BigEndian.Uint64(buf[:]))
}

// conversationSides returns the (user, peer) pairs whose conversation list
// a direct message updates: both participants, or one row for a message
// a user sends to themself.
func conversationSides(message Message) [][2]string {
	if message.SenderID == message.RecipientID {
		return [][2]string{{message.SenderID, message.RecipientID}}
	}
	return [][2]string{
		{message.SenderID, message.RecipientID},
		{message.RecipientID, message.SenderID},
	}
}
