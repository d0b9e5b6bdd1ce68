package store

import "testing"

func TestIndexCacheClearsWhenFull(t *testing.T) {
	channel := Channel{ProjectID: "p", Kind: KindRoom, ID: "r"}
	cache := newIndexCache(2)
	first, second, third := cqlPartition{channel, 1}, cqlPartition{channel, 2},
		cqlPartition{channel, 3}

	cache.add([]cqlPartition{first, second})
	if !cache.contains(first) || !cache.contains(second) {
		t.Fatalf("cache of size 2 lost an entry after 2 adds")
	}
	if cache.contains(third) {
		t.Errorf("cache contains bucket 3, which was never added")
	}
	cache.add([]cqlPartition{third})
	if !cache.contains(third) {
		t.Errorf("cache lacks bucket 3 right after adding it")
	}
	if cache.contains(first) {
		t.Errorf("cache contains bucket 1 after it outgrew its size, expected it cleared")
	}
}
