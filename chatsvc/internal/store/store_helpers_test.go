package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/peroxo/peroxo/platform/testenv"
)

// testBucket is the CQL bucket size in tests: small, so that the tests'
// message times cross many buckets.
const testBucket = time.Second

// openSQLiteForTest opens an embedded store in a temporary directory.
func openSQLiteForTest(tb testing.TB) *SQLite {
	tb.Helper()
	store, err := OpenSQLite(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() {
		if err := store.Close(); err != nil {
			tb.Errorf("close sqlite store: %v", err)
		}
	})
	return store
}

// openCQLForTest opens a CQL store in a new keyspace with a random name on
// the Cassandra at PEROXO_TEST_CASSANDRA_HOSTS and drops the keyspace in
// cleanup.
func openCQLForTest(tb testing.TB) *CQL {
	tb.Helper()
	keyspace := "chatsvc_test_" + strings.ReplaceAll(uuid.NewString()[:18], "-", "")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := OpenCQL(ctx, testCQLConfig(tb, keyspace, testBucket))
	if err != nil {
		tb.Fatalf("open cql store: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := store.session.Query("DROP KEYSPACE IF EXISTS " + keyspace).
			ExecContext(ctx)
		if err != nil {
			tb.Errorf("drop keyspace %s: %v", keyspace, err)
		}
		store.Close()
	})
	return store
}

// testCQLConfig returns the settings of a test store on keyspace.
func testCQLConfig(tb testing.TB, keyspace string, bucket time.Duration) CQLConfig {
	hosts := testenv.Service(tb, "PEROXO_TEST_CASSANDRA_HOSTS")
	return CQLConfig{
		Hosts:            strings.Split(hosts, ","),
		Keyspace:         keyspace,
		Replication:      "{'class':'SimpleStrategy','replication_factor':1}",
		Consistency:      "LOCAL_QUORUM",
		Timeout:          20 * time.Second,
		ConnectTimeout:   20 * time.Second,
		Bucket:           bucket,
		WriteConcurrency: 32,
	}
}

// testClock hands out strictly increasing UUIDv7 ids at chosen times.
type testClock struct {
	last atomic.Int64
}

// idAt returns a UUIDv7 whose time is ms and whose other bits are random.
func idAt(ms int64) uuid.UUID {
	var id uuid.UUID
	if _, err := rand.Read(id[:]); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	var timeBytes [8]byte
	binary.BigEndian.PutUint64(timeBytes[:], uint64(ms))
	copy(id[:6], timeBytes[2:])
	id[6] = 0x70 | id[6]&0x0f
	id[8] = 0x80 | id[8]&0x3f
	return id
}

// next returns an id at least one millisecond after the previous one and
// not before ms.
func (c *testClock) next(ms int64) uuid.UUID {
	for {
		last := c.last.Load()
		chosen := max(ms, last+1)
		if c.last.CompareAndSwap(last, chosen) {
			return idAt(chosen)
		}
	}
}

// baseTime is a fixed message time, so bucket numbers are reproducible.
var baseTime = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).UnixMilli()

func newProjectID() string {
	return "peroxo_pj_" + strings.ReplaceAll(uuid.NewString(), "-", "")
}

// roomMessage builds a room message at time ms.
func roomMessage(clock *testClock, project, room, sender string, ms int64) Message {
	id := clock.next(ms)
	return Message{
		Channel:         Channel{ProjectID: project, Kind: KindRoom, ID: room},
		ID:              id,
		ClientMessageID: uuid.NewString(),
		SenderID:        sender,
		Content:         "message " + id.String(),
		TimestampMS:     IDTime(id),
	}
}

// directMessage builds a direct message from sender to recipient at ms.
func directMessage(
	clock *testClock,
	project, conversation, sender, recipient string,
	ms int64,
) Message {
	message := roomMessage(clock, project, conversation, sender, ms)
	message.Channel.Kind = KindDirect
	message.RecipientID = recipient
	return message
}

func mustAppend(tb testing.TB, store Store, messages []Message) AppendResult {
	tb.Helper()
	result, err := store.Append(context.Background(), messages)
	if err != nil {
		tb.Fatalf("append %d messages: %v", len(messages), err)
	}
	return result
}

// readAll pages through a channel with read (History or Sync) and returns
// every message in page order, checking HasMore on each page.
func readAll(
	tb testing.TB,
	read func(context.Context, PageQuery) (Page, error),
	channel Channel,
	limit int,
) []Message {
	tb.Helper()
	var all []Message
	cursor := uuid.Nil
	for pages := 0; ; pages++ {
		if pages > 100_000 {
			tb.Fatalf("paging channel %s did not end", channel.ID)
		}
		page, err := read(context.Background(),
			PageQuery{Channel: channel, Cursor: cursor, Limit: limit})
		if err != nil {
			tb.Fatalf("read page %d of channel %s: %v", pages, channel.ID, err)
		}
		all = append(all, page.Messages...)
		if !page.HasMore {
			return all
		}
		if len(page.Messages) != limit {
			tb.Fatalf("page %d has %d messages and has_more, expected a full page of %d",
				pages, len(page.Messages), limit)
		}
		cursor = page.Messages[len(page.Messages)-1].ID
	}
}

func messageIDs(messages []Message) []uuid.UUID {
	ids := make([]uuid.UUID, len(messages))
	for i, message := range messages {
		ids[i] = message.ID
	}
	return ids
}

func reversed[T any](items []T) []T {
	out := make([]T, len(items))
	for i, item := range items {
		out[len(items)-1-i] = item
	}
	return out
}
