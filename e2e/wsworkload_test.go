package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// wsSender is one WebSocket session of a workload user. Its reader keeps
// only the frames a sender waits for, so live deliveries to it never fill
// a queue.
type wsSender struct {
	user   string
	client *wsClient
	// conversations maps a peer to the pair's conversation id.
	conversations map[string]string
}

// senderFrames are the frame types a sender's reader keeps.
var senderFrames = map[string]bool{"MessageAck": true, "RoomJoined": true, "Error": true}

// connectSenders opens one session per workload user on gateway node
// i mod n, joins the user's room and looks up its conversations.
func (w workload) connectSenders(t testing.TB, auth *authService, nodes []*gatewayNode) []*wsSender {
	t.Helper()
	senders := make([]*wsSender, len(w.users))
	for i, user := range w.users {
		node := nodes[i%len(nodes)]
		token := auth.token(t, user)
		client := dialFiltered(t, node.URL(), token, fmt.Sprintf("%s@%s", user, node.id),
			senderFrames)
		room := w.rooms[i%len(w.rooms)]
		client.send(t, "JoinRoom", map[string]string{"room_id": room})
		client.await(t, "RoomJoined", fieldIs("room_id", room))
		sender := &wsSender{user: user, client: client, conversations: map[string]string{}}
		for _, peer := range w.peers(i) {
			sender.conversations[peer] = conversationID(t, node.URL(), token, w.project,
				user, peer)
		}
		senders[i] = sender
	}
	return senders
}

// peers returns the users sender i writes DMs to.
func (w workload) peers(sender int) []string {
	peers := make([]string, 4)
	for k := range peers {
		peers[k] = w.users[(sender+1+k)%len(w.users)]
	}
	return peers
}

// runWebSocket sends w.total messages over the senders' sessions, one in
// flight per sender, and records each acknowledged one in book with the
// message id and timestamp of its ack.
func (w workload) runWebSocket(ctx context.Context, t testing.TB, book *ledger, senders []*wsSender) {
	var claimed atomic.Int64
	var wait sync.WaitGroup
	for i, sender := range senders {
		wait.Go(func() {
			for {
				n := int(claimed.Add(1))
				if n > w.total || ctx.Err() != nil {
					return
				}
				message := w.message(i, n)
				if message.GetKind() == chatv1.ChannelKind_CHANNEL_KIND_DIRECT {
					message.ChannelId = sender.conversations[message.GetRecipientId()]
					sender.client.send(t, "SendDirectMessage", map[string]any{
						"conversation_id": message.GetChannelId(),
						"to": map[string]string{
							"project_id": w.project, "user_id": message.GetRecipientId(),
						},
						"content":           message.GetContent(),
						"client_message_id": message.GetClientMessageId(),
					})
				} else {
					sender.client.send(t, "RoomMessage", map[string]string{
						"room_id": message.GetChannelId(), "from": sender.user,
						"content": message.GetContent(), "message_id": message.GetClientMessageId(),
					})
				}
				ack := sender.client.await(t, "MessageAck",
					fieldIs("client_message_id", message.GetClientMessageId()))
				message.MessageId = field(ack, "message_id")
				timestamp, _ := ack["timestamp"].(float64)
				message.TimestampMs = int64(timestamp)
				book.attempt(message)
				book.ack(message.GetClientMessageId(), message.GetMessageId(),
					ack["status"] == "Persisted")
			}
		})
	}
	wait.Wait()
}
