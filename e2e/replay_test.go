package e2e

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/peroxo/peroxo/platform/testenv/process"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// replayMessages is how many messages the replay test sends.
const replayMessages = 20_000

// TestReplayRebuildsHistory projects messages from one gateway node's log
// into chatsvc, then rebuilds the history with consumer replay into a
// chatsvc with an empty data directory and compares the two.
func TestReplayRebuildsHistory(t *testing.T) {
	tests := []struct {
		name  string
		nodes int
	}{
		{name: "one node", nodes: 1},
		{name: "three-node cluster", nodes: 3},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) { testReplayRebuild(t, test.nodes) })
	}
}

func testReplayRebuild(t testing.TB, nodes int) {
	s := startSystem(t, nodes)
	book := newLedger(s.project)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	work := newWorkload(s.project, 30, 3, replayMessages)
	if err := work.run(ctx, book, s.publishers); err != nil {
		t.Fatalf("send messages: %v", err)
	}
	history := s.checkHistory(t, book)
	testReplay(t, natsURLs(s.nodes), s.chat, s.project, book.channelList(), history)
}

// testReplay runs consumer replay from the first event into a chatsvc
// with an empty data directory and checks that the rebuilt history equals
// want in every channel and every field, and that the room and
// conversation lists equal those of original.
func testReplay(
	t testing.TB,
	natsURL string,
	original *chatService,
	project string,
	channels []channelKey,
	want map[channelKey][]*chatv1.Message,
) {
	rebuilt := startChatsvc(t, "chatsvc-rebuilt", t.TempDir())
	start := time.Now()
	process.Run(t, 10*time.Minute, process.Options{
		Name:   "consumer replay",
		Binary: process.Build(t, consumerPackage),
		Args:   []string{"replay"},
		Env: append([]string{
			"PEROXO_CONSUMER_ADDR=" + process.FreeAddr(t),
			"PEROXO_CONSUMER_DATA_DIR=" + t.TempDir(),
			"PEROXO_CONSUMER_NATS_URL=" + natsURL,
			"PEROXO_CONSUMER_CHAT_URL=" + rebuilt.URL(),
		}, consumerSettings...),
	})
	t.Logf("replay took %v", time.Since(start).Round(time.Millisecond))

	got := readHistory(t, rebuilt.client, project, channels)
	for _, key := range channels {
		compareMessages(t, key.id, got[key], want[key])
	}

	wantRooms := listRooms(t, original, project)
	if gotRooms := listRooms(t, rebuilt, project); !proto.Equal(gotRooms, wantRooms) {
		t.Errorf("rebuilt room list\n%v\nwant\n%v", gotRooms, wantRooms)
	}
	for _, user := range usersOf(want) {
		wantList := listConversations(t, original, project, user)
		gotList := listConversations(t, rebuilt, project, user)
		if !proto.Equal(gotList, wantList) {
			t.Errorf("rebuilt conversations of %q\n%v\nwant\n%v", user, gotList, wantList)
		}
	}
}

// compareMessages reports the first difference between two histories of
// one channel.
func compareMessages(t testing.TB, channel string, got, want []*chatv1.Message) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("channel %s: rebuilt %d messages, want %d", channel, len(got), len(want))
		return
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("channel %s message %d: rebuilt %v, want %v", channel, i, got[i], want[i])
			return
		}
	}
}

func listRooms(t testing.TB, chat *chatService, project string) *chatv1.ListRoomsResponse {
	t.Helper()
	response, err := chat.client.ListRooms(t.Context(), connect.NewRequest(
		&chatv1.ListRoomsRequest{ProjectId: project, Limit: 500}))
	if err != nil {
		t.Fatalf("list rooms of %s: %v", chat.URL(), err)
	}
	return response.Msg
}

func listConversations(
	t testing.TB,
	chat *chatService,
	project, user string,
) *chatv1.ListConversationsResponse {
	t.Helper()
	response, err := chat.client.ListConversations(t.Context(), connect.NewRequest(
		&chatv1.ListConversationsRequest{ProjectId: project, UserId: user, Limit: 500}))
	if err != nil {
		t.Fatalf("list conversations of %q at %s: %v", user, chat.URL(), err)
	}
	return response.Msg
}

// usersOf returns every sender and recipient in history.
func usersOf(history map[channelKey][]*chatv1.Message) []string {
	seen := make(map[string]bool)
	var users []string
	for _, messages := range history {
		for _, message := range messages {
			for _, user := range []string{message.GetSenderId(), message.GetRecipientId()} {
				if user != "" && !seen[user] {
					seen[user] = true
					users = append(users, user)
				}
			}
		}
	}
	return users
}
