package router

import (
	"strings"
	"testing"
	"time"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

func event(id string) *eventsv1.ChatEvent {
	return &eventsv1.ChatEvent{Message: &chatv1.Message{MessageId: id}}
}

func TestRecentIDsEvictsOldestBeyondSize(t *testing.T) {
	cache := newRecentIDs()
	now := time.Unix(1000, 0)
	for _, key := range []string{"a", "b", "c"} {
		cache.add(key, event(key), now.Add(time.Minute), 2, 1<<20)
	}
	if _, ok := cache.lookup("a", now); ok {
		t.Error("oldest entry a survived past the size bound")
	}
	for _, key := range []string{"b", "c"} {
		if got, ok := cache.lookup(key, now); !ok || got.GetMessage().GetMessageId() != key {
			t.Errorf("lookup(%s) = %v, %v", key, got, ok)
		}
	}
}

func TestRecentIDsExpire(t *testing.T) {
	cache := newRecentIDs()
	start := time.Unix(1000, 0)
	cache.add("a", event("first"), start.Add(time.Second), 8, 1<<20)
	later := start.Add(2 * time.Second)
	if _, ok := cache.lookup("a", later); ok {
		t.Error("expired entry found")
	}
	// Re-adding an expired key must survive the removal of its old slot.
	cache.add("a", event("second"), later.Add(time.Second), 8, 1<<20)
	if cache.expire(later) {
		t.Error("expire reported empty while a live entry exists")
	}
	if got, ok := cache.lookup("a", later); !ok || got.GetMessage().GetMessageId() != "second" {
		t.Errorf("lookup after re-add = %v, %v; want second", got, ok)
	}
	if !cache.expire(later.Add(time.Minute)) {
		t.Error("expire did not report empty after every entry expired")
	}
}

func TestRecentIDsEvictsOldestBeyondBytes(t *testing.T) {
	cache := newRecentIDs()
	now := time.Unix(1000, 0)
	large := func(id string) *eventsv1.ChatEvent {
		ev := event(id)
		ev.Message.Content = strings.Repeat("x", 1000)
		return ev
	}
	for _, key := range []string{"a", "b", "c"} {
		cache.add(key, large(key), now.Add(time.Minute), 100, 2500)
	}
	if _, ok := cache.lookup("a", now); ok {
		t.Error("oldest entry a survived past the byte bound")
	}
	for _, key := range []string{"b", "c"} {
		if _, ok := cache.lookup(key, now); !ok {
			t.Errorf("entry %s was evicted within the byte bound", key)
		}
	}
	// One event larger than the bound is still kept, alone.
	huge := event("d")
	huge.Message.Content = strings.Repeat("x", 5000)
	cache.add("d", huge, now.Add(time.Minute), 100, 2500)
	if _, ok := cache.lookup("d", now); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := cache.lookup("c", now); ok {
		t.Error("entry c survived next to an entry over the byte bound")
	}
}
