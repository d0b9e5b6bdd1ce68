package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLiteFile is the name of the embedded store's database file inside the
// data directory.
const SQLiteFile = "chat.db"

// sqliteSchema creates the embedded store's tables. Message ids are stored
// as lowercase hyphenated text, whose byte order equals the UUID's byte
// order and so, for UUIDv7, time order.
const sqliteSchema = `
CREATE TABLE IF NOT EXISTS messages (
	project_id        TEXT    NOT NULL,
	message_id        TEXT    NOT NULL,
	kind              INTEGER NOT NULL,
	channel_id        TEXT    NOT NULL,
	client_message_id TEXT    NOT NULL,
	sender_id         TEXT    NOT NULL,
	recipient_id      TEXT    NOT NULL,
	content           TEXT    NOT NULL,
	ts                INTEGER NOT NULL,
	PRIMARY KEY (project_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_channel
	ON messages (project_id, kind, channel_id, message_id);
CREATE TABLE IF NOT EXISTS conversations (
	project_id      TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	peer_user_id    TEXT NOT NULL,
	last_message_id TEXT NOT NULL,
	PRIMARY KEY (project_id, user_id, conversation_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS conversations_by_recency
	ON conversations (project_id, user_id, last_message_id);
CREATE TABLE IF NOT EXISTS rooms (
	project_id      TEXT NOT NULL,
	room_id         TEXT NOT NULL,
	last_message_id TEXT NOT NULL,
	PRIMARY KEY (project_id, room_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rooms_by_recency
	ON rooms (project_id, last_message_id);
`

// The ON CONFLICT ... WHERE clauses move a last message only forward, so a
// message that arrives after a newer one leaves the list unchanged.
const (
	sqliteInsertMessage = `INSERT INTO messages (project_id, message_id, kind,
		channel_id, client_message_id, sender_id, recipient_id, content, ts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqliteUpsertConversation = `INSERT INTO conversations (project_id, user_id,
		conversation_id, peer_user_id, last_message_id) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (project_id, user_id, conversation_id) DO UPDATE
		SET last_message_id = excluded.last_message_id
		WHERE excluded.last_message_id > conversations.last_message_id`
	sqliteUpsertRoom = `INSERT INTO rooms (project_id, room_id, last_message_id)
		VALUES (?, ?, ?) ON CONFLICT (project_id, room_id) DO UPDATE
		SET last_message_id = excluded.last_message_id
		WHERE excluded.last_message_id > rooms.last_message_id`
	sqliteMessageColumns = `m.project_id, m.message_id, m.kind, m.channel_id,
		m.client_message_id, m.sender_id, m.recipient_id, m.content, m.ts`
)

// SQLite is the embedded [Store] on one SQLite file in WAL mode. Writes go
// through a pool of one connection, so appends queue in Go, where they
// honour their context, instead of spinning on SQLite's busy timeout.
// Reads use a separate pool and run concurrently with the writer.
type SQLite struct {
	writer    *sql.DB
	reader    *sql.DB
	closeOnce sync.Once
	closeErr  error
}

// OpenSQLite opens or creates the database file dir/[SQLiteFile] and its
// tables.
func OpenSQLite(ctx context.Context, dir string) (*SQLite, error) {
	path := filepath.Join(dir, SQLiteFile)
	writer, err := openSQLiteDB(path)
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	if _, err := writer.ExecContext(ctx, sqliteSchema); err != nil {
		writer.Close()
		return nil, fmt.Errorf("create sqlite schema in %s: %w", path, err)
	}
	reader, err := openSQLiteDB(path)
	if err != nil {
		writer.Close()
		return nil, err
	}
	return &SQLite{writer: writer, reader: reader}, nil
}

func openSQLiteDB(path string) (*sql.DB, error) {
	// _txlock=immediate takes the write lock at BEGIN, so a transaction
	// cannot fail halfway when it upgrades a read lock. busy_timeout waits
	// for another process that holds the lock. synchronous(FULL) syncs the
	// WAL at every commit, so an acknowledged append survives a power loss
	// on a disk that honours fsync. The consumer acks the event log only
	// after Append returns.
	query := url.Values{}
	query.Add("_pragma", "journal_mode(WAL)")
	query.Add("_pragma", "busy_timeout(10000)")
	query.Add("_pragma", "synchronous(FULL)")
	query.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+query.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// Append stores messages in one transaction. See [Store.Append]. Write
// transactions run one at a time, so the counts are exact even for
// concurrent calls.
func (s *SQLite) Append(ctx context.Context, messages []Message) (AppendResult, error) {
	var result AppendResult
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return result, fmt.Errorf("begin append: %w", err)
	}
	defer tx.Rollback()

	insert, err := tx.PrepareContext(ctx, sqliteInsertMessage)
	if err != nil {
		return result, fmt.Errorf("prepare insert message: %w", err)
	}
	defer insert.Close()
	for _, message := range messages {
		channel := message.Channel
		outcome, err := insert.ExecContext(ctx, channel.ProjectID, message.ID.String(),
			int(channel.Kind), channel.ID, message.ClientMessageID, message.SenderID,
			message.RecipientID, message.Content, message.TimestampMS)
		if err != nil {
			return result, fmt.Errorf("insert message %s: %w", message.ID, err)
		}
		inserted, err := outcome.RowsAffected()
		if err != nil {
			return result, fmt.Errorf("count inserted message %s: %w", message.ID, err)
		}
		if inserted == 0 {
			result.Duplicates++
			continue
		}
		result.Appended++
		if err := s.updateLastMessage(ctx, tx, message); err != nil {
			return result, err
		}
	}
	if err := tx.Commit(); err != nil {
		return AppendResult{}, fmt.Errorf("commit append: %w", err)
	}
	return result, nil
}

func (s *SQLite) updateLastMessage(ctx context.Context, tx *sql.Tx, message Message) error {
	channel := message.Channel
	id := message.ID.String()
	if channel.Kind == KindRoom {
		_, err := tx.ExecContext(ctx, sqliteUpsertRoom, channel.ProjectID, channel.ID, id)
		if err != nil {
			return fmt.Errorf("update room %s: %w", channel.ID, err)
		}
		return nil
	}
	for _, side := range conversationSides(message) {
		_, err := tx.ExecContext(ctx, sqliteUpsertConversation,
			channel.ProjectID, side[0], channel.ID, side[1], id)
		if err != nil {
			return fmt.Errorf("update conversation %s: %w", channel.ID, err)
		}
	}
	return nil
}

// History returns a channel's messages older than the cursor, newest first.
func (s *SQLite) History(ctx context.Context, query PageQuery) (Page, error) {
	return s.page(ctx, query, "<", "DESC")
}

// Sync returns a channel's messages newer than the cursor, oldest first.
func (s *SQLite) Sync(ctx context.Context, query PageQuery) (Page, error) {
	return s.page(ctx, query, ">", "ASC")
}

// page reads limit+1 rows so HasMore is exact at page boundaries.
func (s *SQLite) page(ctx context.Context, query PageQuery, compare, order string) (Page, error) {
	channel := query.Channel
	statement := `SELECT ` + sqliteMessageColumns + ` FROM messages m
		WHERE m.project_id = ? AND m.kind = ? AND m.channel_id = ?`
	args := []any{channel.ProjectID, int(channel.Kind), channel.ID}
	if query.Cursor != uuid.Nil {
		if err := s.checkCursor(ctx, channel, query.Cursor); err != nil {
			return Page{}, err
		}
		statement += ` AND m.message_id ` + compare + ` ?`
		args = append(args, query.Cursor.String())
	}
	statement += ` ORDER BY m.message_id ` + order + ` LIMIT ?`
	args = append(args, query.Limit+1)

	rows, err := s.reader.QueryContext(ctx, statement, args...)
	if err != nil {
		return Page{}, fmt.Errorf("query channel %s: %w", channel.ID, err)
	}
	messages, err := scanSQLiteMessages(rows)
	if err != nil {
		return Page{}, fmt.Errorf("read channel %s: %w", channel.ID, err)
	}
	page := Page{Messages: messages}
	if len(messages) > query.Limit {
		page.Messages = messages[:query.Limit]
		page.HasMore = true
	}
	return page, nil
}

func (s *SQLite) checkCursor(ctx context.Context, channel Channel, cursor uuid.UUID) error {
	var found int
	err := s.reader.QueryRowContext(ctx, `SELECT 1 FROM messages
		WHERE project_id = ? AND message_id = ? AND kind = ? AND channel_id = ?`,
		channel.ProjectID, cursor.String(), int(channel.Kind), channel.ID).Scan(&found)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("look up cursor %s: %w", cursor, ErrCursorNotFound)
	}
	if err != nil {
		return fmt.Errorf("look up cursor %s: %w", cursor, err)
	}
	return nil
}

// Conversations returns a user's conversations, newest last message first.
func (s *SQLite) Conversations(
	ctx context.Context,
	projectID, userID string,
	limit int,
) ([]Conversation, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT c.conversation_id, c.peer_user_id, `+
		sqliteMessageColumns+` FROM conversations c
		JOIN messages m ON m.project_id = c.project_id
			AND m.message_id = c.last_message_id
		WHERE c.project_id = ? AND c.user_id = ?
		ORDER BY c.last_message_id DESC LIMIT ?`, projectID, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("query conversations of user %s: %w", userID, err)
	}
	defer rows.Close()
	var conversations []Conversation
	for rows.Next() {
		var conversation Conversation
		destinations := append([]any{&conversation.ConversationID,
			&conversation.PeerUserID}, sqliteMessageFields(&conversation.LastMessage)...)
		if err := rows.Scan(destinations...); err != nil {
			return nil, fmt.Errorf("read conversations of user %s: %w", userID, err)
		}
		conversations = append(conversations, conversation)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read conversations of user %s: %w", userID, err)
	}
	return conversations, nil
}

// Rooms returns a project's rooms, newest last message first.
func (s *SQLite) Rooms(ctx context.Context, projectID string, limit int) ([]Room, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT r.room_id, `+sqliteMessageColumns+`
		FROM rooms r JOIN messages m ON m.project_id = r.project_id
			AND m.message_id = r.last_message_id
		WHERE r.project_id = ? ORDER BY r.last_message_id DESC LIMIT ?`,
		projectID, limit)
	if err != nil {
		return nil, fmt.Errorf("query rooms of project %s: %w", projectID, err)
	}
	defer rows.Close()
	var rooms []Room
	for rows.Next() {
		var room Room
		destinations := append([]any{&room.RoomID}, sqliteMessageFields(&room.LastMessage)...)
		if err := rows.Scan(destinations...); err != nil {
			return nil, fmt.Errorf("read rooms of project %s: %w", projectID, err)
		}
		rooms = append(rooms, room)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rooms of project %s: %w", projectID, err)
	}
	return rooms, nil
}

// Ping checks that a connection to the database file can be opened.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes the database. It is idempotent.
func (s *SQLite) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.writer.Close(), s.reader.Close())
	})
	return s.closeErr
}

// sqliteMessageFields returns scan destinations for sqliteMessageColumns.
// The uuid.UUID and Kind fields scan through their sql.Scanner support
// and an int8 conversion respectively.
func sqliteMessageFields(message *Message) []any {
	return []any{
		&message.Channel.ProjectID, &message.ID, (*kindScanner)(&message.Channel.Kind),
		&message.Channel.ID, &message.ClientMessageID, &message.SenderID,
		&message.RecipientID, &message.Content, &message.TimestampMS,
	}
}

func scanSQLiteMessages(rows *sql.Rows) ([]Message, error) {
	defer rows.Close()
	var messages []Message
	for rows.Next() {
		var message Message
		if err := rows.Scan(sqliteMessageFields(&message)...); err != nil {
			return nil, err
		}
		messages = append(messages, message)
	}
	return messages, rows.Err()
}

// kindScanner scans an INTEGER column into a [Kind].
type kindScanner Kind

func (k *kindScanner) Scan(value any) error {
	number, ok := value.(int64)
	if !ok {
		return fmt.Errorf("scan channel kind: got %T, expected int64", value)
	}
	*k = kindScanner(number)
	return nil
}
