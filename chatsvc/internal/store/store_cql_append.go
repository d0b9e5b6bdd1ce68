package store

import (
	"bytes"
	"context"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

// cqlBatchBytes bounds the content of one unlogged batch. The batches here
// stay within one partition, which Cassandra and ScyllaDB apply as one
// mutation and exempt from batch_size_fail_threshold. The bound keeps that
// mutation small, so one append of long messages never becomes a
// multi-megabyte write.
const cqlBatchBytes = 48 << 10

// cqlBatchRows bounds the rows of one unlogged batch.
const cqlBatchRows = 100

const (
	cqlClaim = `INSERT INTO messages_by_id (project_id, message_id, kind, channel_id,
		client_message_id, sender_id, recipient_id, content, ts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`
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

// Append stores messages. See [Store.Append].
//
// Each message is first claimed in messages_by_id with INSERT ... IF NOT
// EXISTS, a lightweight transaction, so concurrent appends of one id count
// it once. Then the claimed copies are written to the bucket index, the
// messages table and the conversation and room lists. A duplicate writes
// the stored copy again instead of its own: this completes an earlier
// append that failed after its claim, and keeps the stored copy unchanged.
//
// NOTE: after a failed call, a retry counts the messages that the failed
// call claimed as duplicates, so the counts of the two calls together may
// show fewer appended messages than were stored.
func (s *CQL) Append(ctx context.Context, messages []Message) (AppendResult, error) {
	stored := make([]Message, len(messages))
	fresh := make([]bool, len(messages))
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(s.writeConcurrency)
	for i, message := range messages {
		group.Go(func() error {
			var err error
			stored[i], fresh[i], err = s.claim(groupCtx, message)
			return err
		})
	}
	if err := group.Wait(); err != nil {
		return AppendResult{}, err
	}
	if err := s.project(ctx, stored); err != nil {
		return AppendResult{}, err
	}
	var result AppendResult
	for _, isFresh := range fresh {
		if isFresh {
			result.Appended++
		} else {
			result.Duplicates++
		}
	}
	return result, nil
}

// claim inserts message into messages_by_id unless its id is stored. It
// returns the stored copy and whether this call stored it.
func (s *CQL) claim(ctx context.Context, message Message) (Message, bool, error) {
	channel := message.Channel
	existing := make(map[string]any)
	applied, err := s.session.Query(cqlClaim, channel.ProjectID, message.ID[:],
		int8(channel.Kind), channel.ID, message.ClientMessageID, message.SenderID,
		message.RecipientID, message.Content, message.TimestampMS).
		MapScanCASContext(ctx, existing)
	if err != nil {
		return Message{}, false, fmt.Errorf("claim message %s: %w", message.ID, err)
	}
	if applied {
		return message, true, nil
	}
	kind, _ := existing["kind"].(int8)
	channelID, _ := existing["channel_id"].(string)
	clientMessageID, _ := existing["client_message_id"].(string)
	sender, _ := existing["sender_id"].(string)
	recipient, _ := existing["recipient_id"].(string)
	content, _ := existing["content"].(string)
	timestamp, _ := existing["ts"].(int64)
	return Message{
		Channel:         Channel{ProjectID: channel.ProjectID, Kind: Kind(kind), ID: channelID},
		ID:              message.ID,
		ClientMessageID: clientMessageID,
		SenderID:        sender,
		RecipientID:     recipient,
		Content:         content,
		TimestampMS:     timestamp,
	}, false, nil
}

// project writes claimed messages to the bucket index, then the messages
// table, then the lists. The index goes first so that no stored message
// sits in a bucket that paging cannot find.
func (s *CQL) project(ctx context.Context, messages []Message) error {
	if err := s.writeBuckets(ctx, messages); err != nil {
		return err
	}
	if err := s.writeMessages(ctx, messages); err != nil {
		return err
	}
	return s.writeLists(ctx, messages)
}

type cqlPartition struct {
	channel Channel
	bucket  int64
}

func (s *CQL) writeBuckets(ctx context.Context, messages []Message) error {
	seen := make(map[cqlPartition]bool)
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(s.writeConcurrency)
	for _, message := range messages {
		partition := cqlPartition{message.Channel, s.bucketOf(message.ID)}
		if seen[partition] {
			continue
		}
		seen[partition] = true
		group.Go(func() error {
			channel := partition.channel
			err := s.session.Query(cqlInsertBucket, channel.ProjectID, int8(channel.Kind),
				channel.ID, partition.bucket).ExecContext(groupCtx)
			if err != nil {
				return fmt.Errorf("index bucket %d of channel %s: %w",
					partition.bucket, channel.ID, err)
			}
			return nil
		})
	}
	return group.Wait()
}

// writeMessages groups rows by partition into unlogged batches. A batch
// within one partition is applied as one mutation on one replica set, so it
// costs one round trip instead of one per row.
func (s *CQL) writeMessages(ctx context.Context, messages []Message) error {
	byPartition := make(map[cqlPartition][]Message)
	var order []cqlPartition
	for _, message := range messages {
		partition := cqlPartition{message.Channel, s.bucketOf(message.ID)}
		if _, ok := byPartition[partition]; !ok {
			order = append(order, partition)
		}
		byPartition[partition] = append(byPartition[partition], message)
	}

	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(s.writeConcurrency)
	for _, partition := range order {
		for _, chunk := range chunkMessages(byPartition[partition]) {
			group.Go(func() error {
				return s.writeMessageBatch(groupCtx, partition.bucket, chunk)
			})
		}
	}
	return group.Wait()
}

func (s *CQL) writeMessageBatch(ctx context.Context, bucket int64, messages []Message) error {
	batch := s.session.Batch(gocql.UnloggedBatch)
	for _, message := range messages {
		channel := message.Channel
		batch.Query(cqlInsertMessage, channel.ProjectID, int8(channel.Kind), channel.ID,
			bucket, message.ID[:], message.ClientMessageID, message.SenderID,
			message.RecipientID, message.Content, message.TimestampMS)
	}
	if err := batch.ExecContext(ctx); err != nil {
		return fmt.Errorf("write %d messages to bucket %d of channel %s: %w",
			len(messages), bucket, messages[0].Channel.ID, err)
	}
	return nil
}

// chunkMessages splits one partition's messages into batches of at most
// cqlBatchRows rows and about cqlBatchBytes of content. A single larger
// message gets a batch of its own.
func chunkMessages(messages []Message) [][]Message {
	var chunks [][]Message
	start, size := 0, 0
	for i, message := range messages {
		if i > start && (i-start == cqlBatchRows || size+len(message.Content) > cqlBatchBytes) {
			chunks = append(chunks, messages[start:i])
			start, size = i, 0
		}
		size += len(message.Content)
	}
	if start < len(messages) {
		chunks = append(chunks, messages[start:])
	}
	return chunks
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

// writeLists writes, for each conversation side and room the batch
// touches, only the newest message of the batch; older ones would lose to
// it anyway.
func (s *CQL) writeLists(ctx context.Context, messages []Message) error {
	newest := make(map[cqlListKey]cqlListEntry)
	offer := func(key cqlListKey, entry cqlListEntry) {
		current, ok := newest[key]
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

	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(s.writeConcurrency)
	for key, entry := range newest {
		group.Go(func() error { return s.writeListEntry(groupCtx, key, entry) })
	}
	return group.Wait()
}

func (s *CQL) writeListEntry(ctx context.Context, key cqlListKey, entry cqlListEntry) error {
	cell, err := encodeLastMessage(entry.message, entry.peer)
	if err != nil {
		return err
	}
	writeTime := cqlWriteTime(entry.message.ID)
	var query *gocql.Query
	if key.user == "" {
		query = s.session.Query(cqlUpsertRoom, key.projectID, key.channelID, cell, writeTime)
	} else {
		query = s.session.Query(cqlUpsertConversation, key.projectID, key.user,
			key.channelID, cell, writeTime)
	}
	if err := query.ExecContext(ctx); err != nil {
		return fmt.Errorf("update last message of channel %s: %w", key.channelID, err)
	}
	return nil
}

func uuidLess(a, b uuid.UUID) bool {
	return bytes.Compare(a[:], b[:]) < 0
}
