package store

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

// TestConformance runs every behaviour the [Store] interface promises
// against each implementation. Cases share one store per implementation
// and keep apart by using their own random project ids.
func TestConformance(t *testing.T) {
	backends := []struct {
		name string
		open func(testing.TB) Store
	}{
		{"sqlite", func(tb testing.TB) Store { return openSQLiteForTest(tb) }},
		{"cql", func(tb testing.TB) Store { return openCQLForTest(tb) }},
	}
	cases := []struct {
		name string
		run  func(*testing.T, Store)
	}{
		{"round trip keeps fields", testRoundTrip},
		{"paging across buckets", testPagingAcrossBuckets},
		{"has_more at page boundaries", testHasMoreAtBoundaries},
		{"cursor is exclusive", testCursorExclusive},
		{"concurrent duplicates stored once", testConcurrentDuplicates},
		{"duplicate keeps stored copy", testDuplicateKeepsStoredCopy},
		{"same id in two projects", testSameIDInTwoProjects},
		{"unicode and long content", testUnicodeLongContent},
		{"ten thousand messages", testTenThousandMessages},
		{"projects are isolated", testProjectIsolation},
		{"conversation list", testConversationList},
		{"room list", testRoomList},
		{"unknown cursor", testUnknownCursor},
	}
	for _, backend := range backends {
		t.Run(backend.name, func(t *testing.T) {
			store := backend.open(t)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, store)
				})
			}
		})
	}
}

func testRoundTrip(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	direct := directMessage(&clock, project, "conv-1", "alice", "bob", baseTime)
	room := roomMessage(&clock, project, "lobby", "carol", baseTime+1)
	result := mustAppend(t, store, []Message{direct, room})
	if result != (AppendResult{Appended: 2}) {
		t.Fatalf("append result = %+v, expected 2 appended", result)
	}
	for _, want := range []Message{direct, room} {
		page, err := store.History(context.Background(),
			PageQuery{Channel: want.Channel, Limit: 10})
		if err != nil {
			t.Fatalf("history of %s: %v", want.Channel.ID, err)
		}
		if len(page.Messages) != 1 || page.HasMore {
			t.Fatalf("history of %s = %d messages, has_more %t; expected 1, false",
				want.Channel.ID, len(page.Messages), page.HasMore)
		}
		if page.Messages[0] != want {
			t.Errorf("stored message = %+v, expected %+v", page.Messages[0], want)
		}
	}
}

func testPagingAcrossBuckets(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	channel := Channel{ProjectID: project, Kind: KindRoom, ID: "buckets"}
	// Groups of messages in buckets separated by empty stretches of 1 to
	// 500 buckets, so paging must skip empty buckets in both directions.
	bucketMS := testBucket.Milliseconds()
	groups := []struct{ bucket, count int64 }{
		{0, 3}, {1, 1}, {7, 5}, {8, 2}, {500, 4}, {1000, 1}, {1001, 6},
	}
	var messages []Message
	for _, group := range groups {
		for i := range group.count {
			ms := baseTime + group.bucket*bucketMS + i*(bucketMS/10)
			messages = append(messages, roomMessage(&clock, project, channel.ID, "u", ms))
		}
	}
	mustAppend(t, store, messages)

	oldestFirst := messageIDs(messages)
	newestFirst := reversed(oldestFirst)
	for _, limit := range []int{1, 2, 3, 5, 22, 50} {
		history := messageIDs(readAll(t, store.History, channel, limit))
		if !slices.Equal(history, newestFirst) {
			t.Errorf("history with limit %d = %v, expected %v", limit, history, newestFirst)
		}
		synced := messageIDs(readAll(t, store.Sync, channel, limit))
		if !slices.Equal(synced, oldestFirst) {
			t.Errorf("sync with limit %d = %v, expected %v", limit, synced, oldestFirst)
		}
	}
}

func testHasMoreAtBoundaries(t *testing.T, store Store) {
	const limit = 5
	var clock testClock
	project := newProjectID()
	for _, count := range []int{0, 1, 4, 5, 6, 10, 11, 15} {
		channel := Channel{ProjectID: project, Kind: KindDirect,
			ID: "boundary-" + string(rune('a'+count))}
		var messages []Message
		for i := range count {
			// 400 ms apart, so pages and buckets end at different messages.
			messages = append(messages, directMessage(&clock, project, channel.ID,
				"alice", "bob", baseTime+int64(i)*400))
		}
		if count > 0 {
			mustAppend(t, store, messages)
		}
		wantPages := max(1, (count+limit-1)/limit)
		for _, direction := range []struct {
			name string
			read func(context.Context, PageQuery) (Page, error)
		}{{"history", store.History}, {"sync", store.Sync}} {
			cursor := uuid.Nil
			for page := 1; ; page++ {
				got, err := direction.read(context.Background(),
					PageQuery{Channel: channel, Cursor: cursor, Limit: limit})
				if err != nil {
					t.Fatalf("%s page %d of %d messages: %v", direction.name, page, count, err)
				}
				wantMore := page < wantPages
				if got.HasMore != wantMore {
					t.Errorf("%s page %d of %d messages: has_more = %t, expected %t",
						direction.name, page, count, got.HasMore, wantMore)
				}
				wantLen := min(limit, count-(page-1)*limit)
				if len(got.Messages) != wantLen {
					t.Errorf("%s page %d of %d messages: %d messages, expected %d",
						direction.name, page, count, len(got.Messages), wantLen)
				}
				if !got.HasMore || page > wantPages {
					break
				}
				cursor = got.Messages[len(got.Messages)-1].ID
			}
		}
	}
}

func testCursorExclusive(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	channel := Channel{ProjectID: project, Kind: KindRoom, ID: "cursor"}
	var messages []Message
	for i := range 10 {
		messages = append(messages,
			roomMessage(&clock, project, channel.ID, "u", baseTime+int64(i)*300))
	}
	mustAppend(t, store, messages)

	cases := []struct {
		name    string
		read    func(context.Context, PageQuery) (Page, error)
		cursor  uuid.UUID
		want    []uuid.UUID
		hasMore bool
	}{
		{"history before middle", store.History, messages[5].ID,
			[]uuid.UUID{messages[4].ID, messages[3].ID}, true},
		{"sync after middle", store.Sync, messages[5].ID,
			[]uuid.UUID{messages[6].ID, messages[7].ID}, true},
		{"history before oldest", store.History, messages[0].ID, nil, false},
		{"sync after newest", store.Sync, messages[9].ID, nil, false},
		{"history before second", store.History, messages[1].ID,
			[]uuid.UUID{messages[0].ID}, false},
		{"sync after second newest", store.Sync, messages[8].ID,
			[]uuid.UUID{messages[9].ID}, false},
	}
	for _, c := range cases {
		page, err := c.read(context.Background(),
			PageQuery{Channel: channel, Cursor: c.cursor, Limit: 2})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := messageIDs(page.Messages); !slices.Equal(got, c.want) {
			t.Errorf("%s: ids = %v, expected %v", c.name, got, c.want)
		}
		if page.HasMore != c.hasMore {
			t.Errorf("%s: has_more = %t, expected %t", c.name, page.HasMore, c.hasMore)
		}
	}
}

func testConcurrentDuplicates(t *testing.T, store Store) {
	const (
		writers  = 16
		messages = 50
	)
	var clock testClock
	project := newProjectID()
	channel := Channel{ProjectID: project, Kind: KindDirect, ID: "dups"}
	var batch []Message
	for i := range messages {
		batch = append(batch, directMessage(&clock, project, channel.ID, "alice", "bob",
			baseTime+int64(i)*100))
	}

	var (
		mu    sync.Mutex
		total AppendResult
	)
	start := make(chan struct{})
	group := new(errgroup.Group)
	for writer := range writers {
		// Each writer sends the batch rotated, so writers collide on
		// different ids at different moments.
		rotated := append(slices.Clone(batch[writer%messages:]), batch[:writer%messages]...)
		group.Go(func() error {
			<-start
			result, err := store.Append(context.Background(), rotated)
			mu.Lock()
			total.Appended += result.Appended
			total.Duplicates += result.Duplicates
			mu.Unlock()
			return err
		})
	}
	close(start)
	if err := group.Wait(); err != nil {
		t.Fatalf("concurrent append: %v", err)
	}
	// Overlapping calls may each count a new id as appended, but at least
	// one of them counts it, and every message of every call is counted
	// once. See [Store.Append].
	if total.Appended < messages {
		t.Errorf("appended = %d, expected at least %d", total.Appended, messages)
	}
	if sum := total.Appended + total.Duplicates; sum != messages*writers {
		t.Errorf("appended + duplicates = %d, expected %d", sum, messages*writers)
	}
	stored := messageIDs(readAll(t, store.Sync, channel, 500))
	if !slices.Equal(stored, messageIDs(batch)) {
		t.Errorf("stored ids = %v, expected %v", stored, messageIDs(batch))
	}
}

func testDuplicateKeepsStoredCopy(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	original := roomMessage(&clock, project, "dup-room", "alice", baseTime)
	if result := mustAppend(t, store, []Message{original, original}); result !=
		(AppendResult{Appended: 1, Duplicates: 1}) {
		t.Errorf("append with a repeated id = %+v, expected 1 appended, 1 duplicate", result)
	}
	changed := original
	changed.Content = "edited"
	if result := mustAppend(t, store, []Message{changed}); result !=
		(AppendResult{Duplicates: 1}) {
		t.Errorf("append of a changed copy = %+v, expected 1 duplicate", result)
	}
	page, err := store.History(context.Background(),
		PageQuery{Channel: original.Channel, Limit: 10})
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	if len(page.Messages) != 1 {
		t.Fatalf("history has %d messages, expected 1", len(page.Messages))
	}
	if page.Messages[0] != original {
		t.Errorf("stored message = %+v, expected the original %+v", page.Messages[0], original)
	}
}

func testSameIDInTwoProjects(t *testing.T, store Store) {
	var clock testClock
	first := roomMessage(&clock, newProjectID(), "shared-id", "alice", baseTime)
	second := first
	second.Channel.ProjectID = newProjectID()
	second.Content = "the other project's message"
	result := mustAppend(t, store, []Message{first, second})
	if result != (AppendResult{Appended: 2}) {
		t.Errorf("append of one id in two projects = %+v, expected 2 appended", result)
	}
	for _, want := range []Message{first, second} {
		page, err := store.History(context.Background(),
			PageQuery{Channel: want.Channel, Limit: 10})
		if err != nil {
			t.Fatalf("history in project %s: %v", want.Channel.ProjectID, err)
		}
		if len(page.Messages) != 1 || page.Messages[0] != want {
			t.Errorf("history in project %s = %+v, expected only %+v",
				want.Channel.ProjectID, page.Messages, want)
		}
	}
}

func testUnicodeLongContent(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	// Mixed scripts, an emoji with a skin-tone modifier, a combining
	// accent and right-to-left text, repeated to 64 KiB.
	unit := "héllo wörld 日本語 🙂👍🏽 e\u0301 שלום مرحبا "
	content := strings.Repeat(unit, 64<<10/len(unit)+1)
	if !utf8.ValidString(content) || len(content) < 64<<10 {
		t.Fatalf("test content is %d bytes, expected valid UTF-8 of at least 64 KiB",
			len(content))
	}
	message := directMessage(&clock, project, "会話-🙂", "ユーザー", "Ωmega", baseTime)
	message.Content = content
	message.ClientMessageID = "クライアント-1"
	short := roomMessage(&clock, project, "комната", "ユーザー", baseTime+5)
	short.Content = "🙂"
	mustAppend(t, store, []Message{message, short})

	for _, want := range []Message{message, short} {
		page, err := store.History(context.Background(),
			PageQuery{Channel: want.Channel, Limit: 1})
		if err != nil {
			t.Fatalf("history of %s: %v", want.Channel.ID, err)
		}
		if len(page.Messages) != 1 {
			t.Fatalf("history of %s has %d messages, expected 1",
				want.Channel.ID, len(page.Messages))
		}
		if page.Messages[0] != want {
			t.Errorf("message in %s changed: content %d bytes, expected %d",
				want.Channel.ID, len(page.Messages[0].Content), len(want.Content))
		}
	}
	conversations, err := store.Conversations(context.Background(), project, "Ωmega", 10)
	if err != nil {
		t.Fatalf("conversations: %v", err)
	}
	if len(conversations) != 1 || conversations[0].LastMessage != message {
		t.Errorf("conversation list does not hold the long message unchanged")
	}
}

func testTenThousandMessages(t *testing.T, store Store) {
	const (
		total     = 10_000
		batchSize = 250
	)
	var clock testClock
	project := newProjectID()
	channel := Channel{ProjectID: project, Kind: KindDirect, ID: "busy"}
	messages := make([]Message, total)
	for i := range messages {
		// 3 ms apart: 30 s of messages, crossing 30 one-second buckets.
		messages[i] = directMessage(&clock, project, channel.ID, "alice", "bob",
			baseTime+int64(i)*3)
	}
	group := new(errgroup.Group)
	group.SetLimit(4)
	var (
		mu       sync.Mutex
		appended int
	)
	for start := 0; start < total; start += batchSize {
		batch := messages[start:min(start+batchSize, total)]
		group.Go(func() error {
			result, err := store.Append(context.Background(), batch)
			mu.Lock()
			appended += result.Appended
			mu.Unlock()
			return err
		})
	}
	if err := group.Wait(); err != nil {
		t.Fatalf("append %d messages: %v", total, err)
	}
	if appended != total {
		t.Fatalf("appended = %d, expected %d", appended, total)
	}

	oldestFirst := messageIDs(messages)
	history := messageIDs(readAll(t, store.History, channel, 200))
	checkSameIDs(t, "history", history, reversed(oldestFirst))
	synced := messageIDs(readAll(t, store.Sync, channel, 500))
	checkSameIDs(t, "sync", synced, oldestFirst)
}

// checkSameIDs reports the first gap or duplicate instead of two long
// lists.
func checkSameIDs(t *testing.T, name string, got, want []uuid.UUID) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s returned %d messages, expected %d", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%s message %d = %s, expected %s", name, i, got[i], want[i])
			return
		}
	}
}

func testProjectIsolation(t *testing.T, store Store) {
	var clock testClock
	projects := []string{newProjectID(), newProjectID()}
	var rooms, directs []Message
	for i, project := range projects {
		ms := baseTime + int64(i)*10
		rooms = append(rooms, roomMessage(&clock, project, "lobby", "alice", ms))
		directs = append(directs,
			directMessage(&clock, project, "alice-bob", "alice", "bob", ms+1))
	}
	mustAppend(t, store, append(slices.Clone(rooms), directs...))

	for i, project := range projects {
		for _, want := range []Message{rooms[i], directs[i]} {
			page, err := store.History(context.Background(),
				PageQuery{Channel: want.Channel, Limit: 10})
			if err != nil {
				t.Fatalf("history of %s in project %d: %v", want.Channel.ID, i, err)
			}
			if got := messageIDs(page.Messages); !slices.Equal(got, []uuid.UUID{want.ID}) {
				t.Errorf("history of %s in project %d = %v, expected only %s",
					want.Channel.ID, i, got, want.ID)
			}
		}
		conversations, err := store.Conversations(context.Background(), project, "alice", 10)
		if err != nil {
			t.Fatalf("conversations in project %d: %v", i, err)
		}
		if len(conversations) != 1 || conversations[0].LastMessage != directs[i] {
			t.Errorf("conversations of alice in project %d = %+v, expected only %s",
				i, conversations, directs[i].ID)
		}
		roomList, err := store.Rooms(context.Background(), project, 10)
		if err != nil {
			t.Fatalf("rooms in project %d: %v", i, err)
		}
		if len(roomList) != 1 || roomList[0].LastMessage != rooms[i] {
			t.Errorf("rooms in project %d = %+v, expected only %s", i, roomList, rooms[i].ID)
		}
	}

	// A cursor from the other project is unknown here.
	_, err := store.History(context.Background(), PageQuery{
		Channel: rooms[0].Channel, Cursor: rooms[1].ID, Limit: 10,
	})
	if !errors.Is(err, ErrCursorNotFound) {
		t.Errorf("history with another project's cursor: err = %v, expected %v",
			err, ErrCursorNotFound)
	}
}

func testConversationList(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	at := func(offset int64) int64 { return baseTime + offset*700 }
	aliceBob1 := directMessage(&clock, project, "ab", "alice", "bob", at(1))
	aliceCarol := directMessage(&clock, project, "ac", "carol", "alice", at(2))
	aliceBob2 := directMessage(&clock, project, "ab", "bob", "alice", at(3))
	bobCarol := directMessage(&clock, project, "bc", "bob", "carol", at(4))
	mustAppend(t, store, []Message{aliceBob1, aliceCarol})
	mustAppend(t, store, []Message{bobCarol, aliceBob2})

	type entry struct {
		conversation, peer string
		last               uuid.UUID
	}
	check := func(user string, limit int, want []entry) {
		t.Helper()
		conversations, err := store.Conversations(context.Background(), project, user, limit)
		if err != nil {
			t.Fatalf("conversations of %s: %v", user, err)
		}
		var got []entry
		for _, conversation := range conversations {
			got = append(got, entry{conversation.ConversationID, conversation.PeerUserID,
				conversation.LastMessage.ID})
		}
		if !slices.Equal(got, want) {
			t.Errorf("conversations of %s (limit %d) = %+v, expected %+v",
				user, limit, got, want)
		}
	}
	check("alice", 10, []entry{{"ab", "bob", aliceBob2.ID}, {"ac", "carol", aliceCarol.ID}})
	check("bob", 10, []entry{{"bc", "carol", bobCarol.ID}, {"ab", "alice", aliceBob2.ID}})
	check("carol", 10, []entry{{"bc", "bob", bobCarol.ID}, {"ac", "alice", aliceCarol.ID}})
	check("nobody", 10, nil)

	// A message older than the last one, arriving late, leaves it.
	late := directMessage(&clock, project, "ab", "alice", "bob", at(0))
	late.ID = idAt(at(0))
	mustAppend(t, store, []Message{late})
	check("alice", 10, []entry{{"ab", "bob", aliceBob2.ID}, {"ac", "carol", aliceCarol.ID}})

	newer := directMessage(&clock, project, "ac", "alice", "carol", at(5))
	self := directMessage(&clock, project, "aa", "alice", "alice", at(6))
	mustAppend(t, store, []Message{self, newer})
	check("alice", 10, []entry{
		{"aa", "alice", self.ID}, {"ac", "carol", newer.ID}, {"ab", "bob", aliceBob2.ID},
	})
	check("alice", 2, []entry{{"aa", "alice", self.ID}, {"ac", "carol", newer.ID}})

	conversations, err := store.Conversations(context.Background(), project, "alice", 1)
	if err != nil {
		t.Fatalf("conversations of alice: %v", err)
	}
	if len(conversations) != 1 || conversations[0].LastMessage != self {
		t.Errorf("last message of alice's newest conversation = %+v, expected %+v",
			conversations, self)
	}
}

func testRoomList(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	at := func(offset int64) int64 { return baseTime + offset*700 }
	first := roomMessage(&clock, project, "r1", "alice", at(1))
	third := roomMessage(&clock, project, "r3", "bob", at(2))
	second := roomMessage(&clock, project, "r2", "carol", at(3))
	mustAppend(t, store, []Message{second, first, third})
	late := roomMessage(&clock, project, "r2", "alice", at(0))
	late.ID = idAt(at(0))
	mustAppend(t, store, []Message{late})

	check := func(limit int, want []Message) {
		t.Helper()
		rooms, err := store.Rooms(context.Background(), project, limit)
		if err != nil {
			t.Fatalf("rooms: %v", err)
		}
		if len(rooms) != len(want) {
			t.Fatalf("rooms (limit %d) = %d rooms, expected %d", limit, len(rooms), len(want))
		}
		for i, room := range rooms {
			if room.RoomID != want[i].Channel.ID || room.LastMessage != want[i] {
				t.Errorf("room %d (limit %d) = %s with last %s, expected %s with last %s",
					i, limit, room.RoomID, room.LastMessage.ID, want[i].Channel.ID, want[i].ID)
			}
		}
	}
	check(10, []Message{second, third, first})
	check(2, []Message{second, third})
	rooms, err := store.Rooms(context.Background(), newProjectID(), 10)
	if err != nil {
		t.Fatalf("rooms of an empty project: %v", err)
	}
	if len(rooms) != 0 {
		t.Errorf("rooms of an empty project = %+v, expected none", rooms)
	}
}

func testUnknownCursor(t *testing.T, store Store) {
	var clock testClock
	project := newProjectID()
	message := roomMessage(&clock, project, "known", "alice", baseTime)
	other := roomMessage(&clock, project, "other", "alice", baseTime+1)
	mustAppend(t, store, []Message{message, other})

	cases := []struct {
		name   string
		cursor uuid.UUID
	}{
		{"id never stored", idAt(baseTime + 2)},
		{"id of another channel", other.ID},
	}
	for _, c := range cases {
		for _, direction := range []struct {
			name string
			read func(context.Context, PageQuery) (Page, error)
		}{{"history", store.History}, {"sync", store.Sync}} {
			_, err := direction.read(context.Background(),
				PageQuery{Channel: message.Channel, Cursor: c.cursor, Limit: 10})
			if !errors.Is(err, ErrCursorNotFound) {
				t.Errorf("%s with %s: err = %v, expected %v",
					direction.name, c.name, err, ErrCursorNotFound)
			}
		}
	}
}

func TestIDOrderIsTimeOrder(t *testing.T) {
	earlier, later := idAt(baseTime), idAt(baseTime+1)
	if bytes.Compare(earlier[:], later[:]) >= 0 {
		t.Errorf("id at %d sorts after id at %d", baseTime, baseTime+1)
	}
	if got := IDTime(later); got != baseTime+1 {
		t.Errorf("IDTime = %d, expected %d", got, baseTime+1)
	}
	if earlier.String() >= later.String() {
		t.Errorf("text id %s sorts after %s", earlier, later)
	}
}
