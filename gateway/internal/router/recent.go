package router

import (
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// recentIDs maps a user's recent client message ids to the events they
// produced, so a resend gets the original message id. Entries expire after
// a fixed TTL, so insertion order is expiry order and a FIFO queue evicts
// both the oldest entry past the size bound and expired entries. Only the
// router goroutine touches it.
type recentIDs struct {
	entries map[string]recentEntry
	order   []orderedKey
	next    uint64
	// bytes is the encoded size of the stored events.
	bytes int
}

type recentEntry struct {
	event   *eventsv1.ChatEvent
	expires time.Time
	seq     uint64
	size    int
}

// orderedKey is a queue slot. An expired key that is added again gets a
// second slot; seq tells which slot is current.
type orderedKey struct {
	key string
	seq uint64
}

func newRecentIDs() *recentIDs {
	return &recentIDs{entries: make(map[string]recentEntry)}
}

// lookup returns the event stored under key if it has not expired.
func (r *recentIDs) lookup(key string, now time.Time) (*eventsv1.ChatEvent, bool) {
	entry, ok := r.entries[key]
	if !ok || now.After(entry.expires) {
		return nil, false
	}
	return entry.event, true
}

// add stores event under key and evicts the oldest entries while more
// than maxEntries are stored or their events take more than maxBytes
// encoded. The newest entry always stays.
func (r *recentIDs) add(key string, event *eventsv1.ChatEvent, expires time.Time,
	maxEntries, maxBytes int) {
	if old, ok := r.entries[key]; ok {
		r.bytes -= old.size
	}
	r.next++
	size := proto.Size(event)
	r.entries[key] = recentEntry{event: event, expires: expires, seq: r.next, size: size}
	r.bytes += size
	r.order = append(r.order, orderedKey{key: key, seq: r.next})
	for (len(r.entries) > maxEntries || r.bytes > maxBytes) && len(r.entries) > 1 {
		r.popOldest()
	}
}

// expire removes expired entries and reports whether the cache is empty.
func (r *recentIDs) expire(now time.Time) bool {
	for len(r.order) > 0 {
		slot := r.order[0]
		entry, ok := r.entries[slot.key]
		if ok && entry.seq == slot.seq && !now.After(entry.expires) {
			break
		}
		r.popOldest()
	}
	return len(r.entries) == 0
}

func (r *recentIDs) popOldest() {
	slot := r.order[0]
	r.order[0] = orderedKey{}
	r.order = r.order[1:]
	if entry, ok := r.entries[slot.key]; ok && entry.seq == slot.seq {
		delete(r.entries, slot.key)
		r.bytes -= entry.size
	}
	if len(r.order) == 0 {
		r.order = nil
	}
}
