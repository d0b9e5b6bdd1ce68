package e2e

import (
	"context"
	"sync"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// syncPageSize is the largest SyncMessages page chatsvc serves.
const syncPageSize = 500

// readChannel pages through a channel's whole history with SyncMessages,
// oldest first, and returns every message as stored.
func readChannel(
	ctx context.Context,
	client chatv1connect.ChatServiceClient,
	project string,
	key channelKey,
) ([]*chatv1.Message, error) {
	var messages []*chatv1.Message
	cursor := ""
	for {
		response, err := client.SyncMessages(ctx, connect.NewRequest(&chatv1.SyncMessagesRequest{
			ProjectId:      project,
			Kind:           key.kind,
			ChannelId:      key.id,
			AfterMessageId: cursor,
			Limit:          syncPageSize,
		}))
		if err != nil {
			return nil, err
		}
		page := response.Msg.GetMessages()
		messages = append(messages, page...)
		if !response.Msg.GetHasMore() {
			return messages, nil
		}
		cursor = response.Msg.GetNextCursor()
		if cursor == "" {
			cursor = page[len(page)-1].GetMessageId()
		}
	}
}

// readHistory reads every channel in keys with a few concurrent readers.
func readHistory(
	t testing.TB,
	client chatv1connect.ChatServiceClient,
	project string,
	keys []channelKey,
) map[channelKey][]*chatv1.Message {
	t.Helper()
	const readers = 4
	var (
		mu      sync.Mutex
		history = make(map[channelKey][]*chatv1.Message, len(keys))
		failed  bool
		wait    sync.WaitGroup
		next    = make(chan channelKey)
	)
	for range readers {
		wait.Go(func() {
			for key := range next {
				messages, err := readChannel(t.Context(), client, project, key)
				mu.Lock()
				if err != nil {
					t.Errorf("read channel %s: %v", key.id, err)
					failed = true
				}
				history[key] = messages
				mu.Unlock()
			}
		})
	}
	for _, key := range keys {
		next <- key
	}
	close(next)
	wait.Wait()
	if failed {
		t.FailNow()
	}
	return history
}
