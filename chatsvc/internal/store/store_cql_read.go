package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
)

const cqlMessageColumns = `message_id, client_message_id, sender_id, recipient_id,
	content, ts`

// cqlDirection holds the statements that walk a channel one way.
type cqlDirection struct {
	// allBuckets lists the channel's buckets in walk order.
	allBuckets string
	// bucketsFrom lists buckets from the cursor's bucket on, in walk order.
	bucketsFrom string
	// messages reads one bucket in walk order without a cursor.
	messages string
	// messagesFrom reads one bucket in walk order past the cursor.
	messagesFrom string
}

var (
	cqlNewestFirst = cqlDirection{
		allBuckets: `SELECT bucket FROM channel_buckets
			WHERE project_id = ? AND kind = ? AND channel_id = ?`,
		bucketsFrom: `SELECT bucket FROM channel_buckets
			WHERE project_id = ? AND kind = ? AND channel_id = ? AND bucket <= ?`,
		messages: `SELECT ` + cqlMessageColumns + ` FROM messages
			WHERE project_id = ? AND kind = ? AND channel_id = ? AND bucket = ?
			LIMIT ?`,
		messagesFrom: `SELECT ` + cqlMessageColumns + ` FROM messages
			WHERE project_id = ? AND kind = ? AND channel_id = ? AND bucket = ?
			AND message_id < ? LIMIT ?`,
	}
	cqlOldestFirst = cqlDirection{
		allBuckets: `SELECT bucket FROM channel_buckets
			WHERE project_id = ? AND kind = ? AND channel_id = ?
			ORDER BY bucket ASC`,
		bucketsFrom: `SELECT bucket FROM channel_buckets
			WHERE project_id = ? AND kind = ? AND channel_id = ? AND bucket >= ?
			ORDER BY bucket ASC`,
		messages: `SELECT ` + cqlMessageColumns + ` FROM messages
			WHERE project_id = ? AND kind = ? AND channel_id = ? AND bucket = ?
			ORDER BY message_id ASC LIMIT ?`,
		messagesFrom: `SELECT ` + cqlMessageColumns + ` FROM messages
			WHERE project_id = ? AND kind = ? AND channel_id = ? AND bucket = ?
			AND message_id > ? ORDER BY message_id ASC LIMIT ?`,
	}
)

// History returns a channel's messages older than the cursor, newest first.
func (s *CQL) History(ctx context.Context, query PageQuery) (Page, error) {
	return s.page(ctx, query, cqlNewestFirst)
}

// Sync returns a channel's messages newer than the cursor, oldest first.
func (s *CQL) Sync(ctx context.Context, query PageQuery) (Page, error) {
	return s.page(ctx, query, cqlOldestFirst)
}

// page walks the channel's non-empty buckets in direction order, starting
// at the cursor's bucket, until it holds limit+1 messages or the index has
// no further bucket. The extra message only sets HasMore.
func (s *CQL) page(ctx context.Context, query PageQuery, direction cqlDirection) (Page, error) {
	channel := query.Channel
	key := []any{channel.ProjectID, int8(channel.Kind), channel.ID}
	var buckets *gocql.Iter
	if query.Cursor == uuid.Nil {
		buckets = s.session.Query(direction.allBuckets, key...).
			PageSize(64).IterContext(ctx)
	} else {
		if err := s.checkCursor(ctx, channel, query.Cursor); err != nil {
			return Page{}, err
		}
		buckets = s.session.Query(direction.bucketsFrom,
			append(key, s.bucketOf(query.Cursor))...).PageSize(64).IterContext(ctx)
	}

	want := query.Limit + 1
	messages := make([]Message, 0, want)
	var bucket int64
	for len(messages) < want && buckets.Scan(&bucket) {
		var err error
		messages, err = s.readBucket(ctx, direction, query, bucket, messages, want)
		if err != nil {
			buckets.Close()
			return Page{}, err
		}
	}
	if err := buckets.Close(); err != nil {
		return Page{}, fmt.Errorf("list buckets of channel %s: %w", channel.ID, err)
	}
	page := Page{Messages: messages}
	if len(messages) > query.Limit {
		page.Messages = messages[:query.Limit]
		page.HasMore = true
	}
	return page, nil
}

// readBucket appends to messages up to want in total from one bucket.
func (s *CQL) readBucket(
	ctx context.Context,
	direction cqlDirection,
	query PageQuery,
	bucket int64,
	messages []Message,
	want int,
) ([]Message, error) {
	channel := query.Channel
	remaining := want - len(messages)
	var statement *gocql.Query
	if query.Cursor == uuid.Nil {
		statement = s.session.Query(direction.messages, channel.ProjectID,
			int8(channel.Kind), channel.ID, bucket, remaining)
	} else {
		statement = s.session.Query(direction.messagesFrom, channel.ProjectID,
			int8(channel.Kind), channel.ID, bucket, query.Cursor[:], remaining)
	}
	iter := statement.PageSize(remaining).IterContext(ctx)
	var (
		id      []byte
		message = Message{Channel: channel}
	)
	for iter.Scan(&id, &message.ClientMessageID, &message.SenderID,
		&message.RecipientID, &message.Content, &message.TimestampMS) {
		message.ID = uuid.UUID(id)
		messages = append(messages, message)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read bucket %d of channel %s: %w", bucket, channel.ID, err)
	}
	return messages, nil
}

func (s *CQL) checkCursor(ctx context.Context, channel Channel, cursor uuid.UUID) error {
	var (
		kind      int8
		channelID string
	)
	err := s.session.Query(`SELECT kind, channel_id FROM messages_by_id
		WHERE project_id = ? AND message_id = ?`, channel.ProjectID, cursor[:]).
		ScanContext(ctx, &kind, &channelID)
	if err == gocql.ErrNotFound || err == nil && (Kind(kind) != channel.Kind ||
		channelID != channel.ID) {
		return fmt.Errorf("look up cursor %s: %w", cursor, ErrCursorNotFound)
	}
	if err != nil {
		return fmt.Errorf("look up cursor %s: %w", cursor, err)
	}
	return nil
}

// Conversations returns a user's conversations, newest last message first.
//
// NOTE: it reads the user's whole conversations_by_user partition and sorts
// in memory, because the row order is by conversation id. That is one
// small row per conversation, fine for thousands of conversations a user.
func (s *CQL) Conversations(
	ctx context.Context,
	projectID, userID string,
	limit int,
) ([]Conversation, error) {
	iter := s.session.Query(`SELECT conversation_id, last_message FROM conversations_by_user
		WHERE project_id = ? AND user_id = ?`, projectID, userID).IterContext(ctx)
	var (
		conversations  []Conversation
		conversationID string
		cell           []byte
	)
	for iter.Scan(&conversationID, &cell) {
		message, peer, err := decodeLastMessage(projectID, cell)
		if err != nil {
			iter.Close()
			return nil, fmt.Errorf("read conversation %s: %w", conversationID, err)
		}
		conversations = append(conversations, Conversation{
			ConversationID: conversationID,
			PeerUserID:     peer,
			LastMessage:    message,
		})
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read conversations of user %s: %w", userID, err)
	}
	slices.SortFunc(conversations, func(a, b Conversation) int {
		return bytes.Compare(b.LastMessage.ID[:], a.LastMessage.ID[:])
	})
	return conversations[:min(limit, len(conversations))], nil
}

// Rooms returns a project's rooms, newest last message first.
//
// NOTE: like Conversations it reads the project's whole rooms_by_project
// partition, one small row per room, and sorts in memory.
func (s *CQL) Rooms(ctx context.Context, projectID string, limit int) ([]Room, error) {
	iter := s.session.Query(`SELECT room_id, last_message FROM rooms_by_project
		WHERE project_id = ?`, projectID).IterContext(ctx)
	var (
		rooms  []Room
		roomID string
		cell   []byte
	)
	for iter.Scan(&roomID, &cell) {
		message, _, err := decodeLastMessage(projectID, cell)
		if err != nil {
			iter.Close()
			return nil, fmt.Errorf("read room %s: %w", roomID, err)
		}
		rooms = append(rooms, Room{RoomID: roomID, LastMessage: message})
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read rooms of project %s: %w", projectID, err)
	}
	slices.SortFunc(rooms, func(a, b Room) int {
		return bytes.Compare(b.LastMessage.ID[:], a.LastMessage.ID[:])
	})
	return rooms[:min(limit, len(rooms))], nil
}
