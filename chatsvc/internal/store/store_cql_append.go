package store

import (
	"bytes"
	"context"
	"fmt"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

const (
	cqlSelectStored = `SELECT message_id, kind, channel_id, client_message_id, sender_id,
		recipient_id, content, ts FROM messages_by_id
		WHERE project_id = ? AND message_id IN ?`
	cqlInsertByID = `INSERT INTO messages_by_id (project_id, message_id, kind, channel_id,
		client_message_id, sender_id, recipient_id, content, ts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	cqlInsertBucket = `INSERT INTO channel_buckets (project_id, kind, channel_id, bucket)
		VALUES (?, ?, ?, ?)`
	cqlInsertMessage = `INSERT INTO messages (project_id, kind, channel_id, bucket,
		message_id, client_message_id, sender_id, recipient_id, content, ts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	cqlUpsertConversation = `INSERT INTO conversations_by_user (project_id, user_id,
		conversation_id, last_message) VALUES (?, ?, ?, ?) USING TIMESTAMP ?`
	cqlUpsertRoom = `INSERT INTO rooms_by_project (project_id, room_id, last_message)
		VALUES (?, ?, ?) USING TIMESTAMP ?`
)

// cqlMaxInValues bounds the ids of one IN query. ScyllaDB rejects a
// query with more partition keys than max_partition_key_restrictions_per_query,
// 100 by default.
const cqlMaxInValues = 100

// cqlMessageKey identifies a stored message: ids are unique per project.
type cqlMessageKey struct {
	projectID string
	id        uuid.UUID
}

// Append stores messages. See [Store.Append].
//
// It runs no lightweight transaction. It reads which ids messages_by_id
// already holds, one IN query per project and per 100 ids, and replaces each
// such message by its stored copy. Then it writes, with plain upserts,
// the bucket index and the messages_by_id rows of new messages, and after
// them the messages table and the conversation and room lists. Upserts
// are idempotent by primary key, so concurrent appends of one id store one
// row. Writing a duplicate's stored copy again completes an earlier append
// that failed after its messages_by_id row, and changes nothing otherwise.
//
// The counts come from the read, so two calls that overlap in time may
// both count an id as appended. The call whose read finishes first always
// counts it, because every write of the id starts after that read.
//
// NOTE: concurrent appends of one new id with different content store one
// row per table, but each cell keeps the value of the write with the later
// server time, so a row may mix the two copies. Appends from the event log
// always carry the same copy of an id.
//
// NOTE: after a failed call, a retry counts the messages whose
// messages_by_id row the failed call wrote as duplicates, so the counts of
// the two calls together may show fewer appended messages than were stored.
func (s *CQL) Append(ctx context.Context, messages []Message) (AppendResult, error) {
	unique, result := uniqueMessages(messages)
	stored, err := s.readStored(ctx, unique)
	if err != nil {
		return AppendResult{}, err
	}
	var fresh []Message
	for i, message := range unique {
		key := cqlMessageKey{message.Channel.ProjectID, message.ID}
		if storedCopy, ok := stored[key]; ok {
			unique[i] = storedCopy
			result.Duplicates++
			continue
		}
		fresh = append(fresh, message)
		result.Appended++
	}

	// The bucket index goes before the messages table so that no stored
	// message sits in a bucket that paging cannot find. messages_by_id goes
	// before it too, so that a retry of a call that fails later finds the
	// stored copy and rewrites it.
	first, indexed := s.bucketWrites(unique)
	first = append(first, byIDWrites(fresh)...)
	if err := s.runWrites(ctx, first); err != nil {
		return AppendResult{}, err
	}
	s.indexed.add(indexed)
	second, err := listWrites(unique)
	if err != nil {
		return AppendResult{}, err
	}
	second = append(s.messageWrites(unique), second...)
	if err := s.runWrites(ctx, second); err != nil {
		return AppendResult{}, err
	}
	return result, nil
}

// uniqueMessages returns the first message of each (project, id) in
// messages, and counts the later ones as duplicates.
func uniqueMessages(messages []Message) ([]Message, AppendResult) {
	seen := make(map[cqlMessageKey]bool, len(messages))
	unique := make([]Message, 0, len(messages))
	var result AppendResult
	for _, message := range messages {
		key := cqlMessageKey{message.Channel.ProjectID, message.ID}
		if seen[key] {
			result.Duplicates++
			continue
		}
		seen[key] = true
		unique = append(unique, message)
	}
	return unique, result
}

// readStored returns the stored copies of the messages whose id
// messages_by_id holds.
func (s *CQL) readStored(ctx context.Context, messages []Message) (
	map[cqlMessageKey]Message, error,
) {
	idsByProject := make(map[string][][]byte)
	var projects []string
	for _, message := range messages {
		project := message.Channel.ProjectID
		if _, ok := idsByProject[project]; !ok {
			projects = append(projects, project)
		}
		idsByProject[project] = append(idsByProject[project], message.ID[:])
	}
	type lookup struct {
		projectID string
		ids       [][]byte
	}
	var lookups []lookup
	for _, project := range projects {
		ids := idsByProject[project]
		for start := 0; start < len(ids); start += cqlMaxInValues {
			lookups = append(lookups,
				lookup{project, ids[start:min(start+cqlMaxInValues, len(ids))]})
		}
	}

	found := make([][]Message, len(lookups))
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(s.writeConcurrency)
	for i, lookup := range lookups {
		group.Go(func() error {
			var err error
			found[i], err = s.selectStored(groupCtx, lookup.projectID, lookup.ids)
			return err
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	stored := make(map[cqlMessageKey]Message)
	for _, messages := range found {
		for _, message := range messages {
			stored[cqlMessageKey{message.Channel.ProjectID, message.ID}] = message
		}
	}
	return stored, nil
}

func (s *CQL) selectStored(ctx context.Context, projectID string, ids [][]byte) (
	[]Message, error,
) {
	iter := s.session.Query(cqlSelectStored, projectID, ids).IterContext(ctx)
	var (
		found   []Message
		id      []byte
		kind    int8
		message = Message{Channel: Channel{ProjectID: projectID}}
	)
	for iter.Scan(&id, &kind, &message.Channel.ID, &message.ClientMessageID,
		&message.SenderID, &message.RecipientID, &message.Content, &message.TimestampMS) {
		message.ID = uuid.UUID(id)
		message.Channel.Kind = Kind(kind)
		found = append(found, message)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read stored ids of project %s: %w", projectID, err)
	}
	return found, nil
}

func byIDWrites(messages []Message) []cqlWrite {
	writes := make([]cqlWrite, 0, len(messages))
	for _, message := range messages {
		channel := message.Channel
		writes = append(writes, cqlWrite{
			partition: cqlMessageKey{channel.ProjectID, message.ID},
			target:    "message " + message.ID.String(),
			statement: cqlInsertByID,
			values: []any{channel.ProjectID, message.ID[:], int8(channel.Kind), channel.ID,
				message.ClientMessageID, message.SenderID, message.RecipientID,
				message.Content, message.TimestampMS},
			size: len(message.Content),
		})
	}
	return writes
}

type cqlPartition struct {
	channel Channel
	bucket  int64
}

// bucketWrites returns one channel_buckets row for each bucket that
// messages touch and that s.indexed does not contain, and those buckets.
// The rows of one channel share a partition.
func (s *CQL) bucketWrites(messages []Message) ([]cqlWrite, []cqlPartition) {
	seen := make(map[cqlPartition]bool)
	var (
		writes     []cqlWrite
		partitions []cqlPartition
	)
	for _, message := range messages {
		channel := message.Channel
		partition := cqlPartition{channel, s.bucketOf(message.ID)}
		if seen[partition] || s.indexed.contains(partition) {
			continue
		}
		seen[partition] = true
		partitions = append(partitions, partition)
		writes = append(writes, cqlWrite{
			partition: channel,
			target:    "bucket index of channel " + channel.ID,
			statement: cqlInsertBucket,
			values: []any{channel.ProjectID, int8(channel.Kind), channel.ID,
				partition.bucket},
		})
	}
	return writes, partitions
}

func (s *CQL) messageWrites(messages []Message) []cqlWrite {
	writes := make([]cqlWrite, 0, len(messages))
	for _, message := range messages {
		channel := message.Channel
		bucket := s.bucketOf(message.ID)
		writes = append(writes, cqlWrite{
			partition: cqlPartition{channel, bucket},
			target:    fmt.Sprintf("bucket %d of channel %s", bucket, channel.ID),
			statement: cqlInsertMessage,
			values: []any{channel.ProjectID, int8(channel.Kind), channel.ID, bucket,
				message.ID[:], message.ClientMessageID, message.SenderID,
				message.RecipientID, message.Content, message.TimestampMS},
			size: len(message.Content),
		})
	}
	return writes
}

type cqlListKey struct {
	projectID string
	user      string // empty for a room
	channelID string
}

type cqlListEntry struct {
	message Message
	peer    string
}

// listWrites returns, for each conversation side and room that messages
// touch, a write of only the newest of those messages, because older ones
// would lose to it anyway. The write time comes from the message id, see
// [cqlWriteTime].
func listWrites(messages []Message) ([]cqlWrite, error) {
	newest := make(map[cqlListKey]cqlListEntry)
	var order []cqlListKey
	offer := func(key cqlListKey, entry cqlListEntry) {
		current, ok := newest[key]
		if !ok {
			order = append(order, key)
		}
		if !ok || uuidLess(current.message.ID, entry.message.ID) {
			newest[key] = entry
		}
	}
	for _, message := range messages {
		channel := message.Channel
		if channel.Kind == KindRoom {
			offer(cqlListKey{channel.ProjectID, "", channel.ID}, cqlListEntry{message: message})
			continue
		}
		for _, side := range conversationSides(message) {
			offer(cqlListKey{channel.ProjectID, side[0], channel.ID},
				cqlListEntry{message: message, peer: side[1]})
		}
	}

	writes := make([]cqlWrite, 0, len(order))
	for _, key := range order {
		entry := newest[key]
		cell, err := encodeLastMessage(entry.message, entry.peer)
		if err != nil {
			return nil, err
		}
		writeTime := cqlWriteTime(entry.message.ID)
		write := cqlWrite{
			// A user's conversations share a partition, and so do a
			// project's rooms.
			partition: cqlListKey{projectID: key.projectID, user: key.user},
			target:    "last message of channel " + key.channelID,
			size:      len(cell),
		}
		if key.user == "" {
			write.statement = cqlUpsertRoom
			write.values = []any{key.projectID, key.channelID, cell, writeTime}
		} else {
			write.statement = cqlUpsertConversation
			write.values = []any{key.projectID, key.user, key.channelID, cell, writeTime}
		}
		writes = append(writes, write)
	}
	return writes, nil
}

func uuidLess(a, b uuid.UUID) bool {
	return bytes.Compare(a[:], b[:]) < 0
}
