package natsbus

import "sync"

// recentIDs remembers the last capacity message ids passed to OnEvent. A
// publish that is retried after a lost ack reaches core subscribers once
// per attempt, although the stream stores it once; recentIDs drops those
// repeats. It is safe for concurrent use.
type recentIDs struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

func newRecentIDs(capacity int) *recentIDs {
	return &recentIDs{ids: make(map[string]struct{}, capacity), ring: make([]string, capacity)}
}

// add records id and reports whether it was new.
func (r *recentIDs) add(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, seen := r.ids[id]; seen {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.ids[id] = struct{}{}
	return true
}
