package store

import "sync"

// cqlIndexCacheSize bounds the bucket index entries one [CQL] remembers.
// An entry is a channel and a bucket number, an estimated 100 bytes.
const cqlIndexCacheSize = 1 << 16

// indexCache remembers the channel_buckets rows that this process wrote,
// so that later appends to the same bucket skip the write. A store never
// deletes an index row, so a remembered row stays written.
//
// NOTE: rows deleted by hand while the process runs, for example by a
// TRUNCATE, stay remembered until the cache is cleared, and messages
// appended meanwhile into those buckets are missing from paging. Restart
// chatsvc after such a change.
type indexCache struct {
	mu      sync.Mutex
	entries map[cqlPartition]struct{}
	size    int
}

func newIndexCache(size int) *indexCache {
	return &indexCache{entries: make(map[cqlPartition]struct{}), size: size}
}

func (c *indexCache) contains(partition cqlPartition) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[partition]
	return ok
}

// add remembers partitions. When the cache would outgrow its size it is
// cleared first, which only costs rewrites of rows already written.
func (c *indexCache) add(partitions []cqlPartition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries)+len(partitions) > c.size {
		clear(c.entries)
	}
	for _, partition := range partitions {
		c.entries[partition] = struct{}{}
	}
}
