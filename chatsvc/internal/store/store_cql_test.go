package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// reopenCQL opens a second CQL store on the keyspace of store with bucket.
func reopenCQL(tb testing.TB, store *CQL, bucket time.Duration) (*CQL, error) {
	tb.Helper()
	return OpenCQL(context.Background(), testCQLConfig(tb, store.keyspace, bucket))
}

func TestCQLReopenKeepsSchema(t *testing.T) {
	store := openCQLForTest(t)
	var clock testClock
	message := roomMessage(&clock, newProjectID(), "r", "alice", baseTime)
	mustAppend(t, store, []Message{message})

	again, err := reopenCQL(t, store, testBucket)
	if err != nil {
		t.Fatalf("reopen with the same bucket: %v", err)
	}
	defer again.Close()
	page, err := again.History(context.Background(),
		PageQuery{Channel: message.Channel, Limit: 10})
	if err != nil {
		t.Fatalf("history after reopen: %v", err)
	}
	if len(page.Messages) != 1 || page.Messages[0] != message {
		t.Errorf("history after reopen = %+v, expected the stored message", page.Messages)
	}

	var versions int
	err = store.session.Query(`SELECT COUNT(*) FROM schema_migrations`).
		ScanContext(context.Background(), &versions)
	if err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if versions != 1 {
		t.Errorf("schema_migrations has %d rows, expected 1", versions)
	}
}

func TestCQLRejectsChangedBucket(t *testing.T) {
	store := openCQLForTest(t)
	again, err := reopenCQL(t, store, time.Hour)
	if err == nil {
		again.Close()
		t.Fatal("reopen with another bucket size succeeded, expected an error")
	}
	if !strings.Contains(err.Error(), "bucket") {
		t.Errorf("error %q does not mention the bucket size", err)
	}
}

// TestCQLDuplicateRepairsInterruptedAppend covers an append that wrote
// the messages_by_id row and failed before the other tables: the retry
// is a duplicate, and it must still make the message readable.
func TestCQLDuplicateRepairsInterruptedAppend(t *testing.T) {
	store := openCQLForTest(t)
	var clock testClock
	message := directMessage(&clock, newProjectID(), "ab", "alice", "bob", baseTime)
	if err := store.runWrites(context.Background(), byIDWrites([]Message{message})); err != nil {
		t.Fatalf("write messages_by_id row: %v", err)
	}

	result := mustAppend(t, store, []Message{message})
	if result != (AppendResult{Duplicates: 1}) {
		t.Errorf("retry = %+v, expected 1 duplicate", result)
	}
	page, err := store.History(context.Background(),
		PageQuery{Channel: message.Channel, Limit: 10})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(page.Messages) != 1 || page.Messages[0] != message {
		t.Errorf("history = %+v, expected the repaired message", page.Messages)
	}
	conversations, err := store.Conversations(context.Background(),
		message.Channel.ProjectID, "bob", 10)
	if err != nil {
		t.Fatalf("conversations: %v", err)
	}
	if len(conversations) != 1 || conversations[0].LastMessage != message {
		t.Errorf("conversations of bob = %+v, expected the repaired message", conversations)
	}
}
