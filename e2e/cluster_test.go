package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// presenceTTL is the gateways' presence TTL in the cluster test, short so
// that a killed node's users go offline quickly.
const presenceTTL = 3 * time.Second

// TestGatewayCluster runs three gateways whose embedded NATS servers form
// one cluster, with authsvc, chatsvc and the consumer. Users spread over
// the nodes exchange DMs across nodes, a user's second device on another
// node gets its copies, and a room has members on every node. Online
// users span the cluster, and a node killed with SIGKILL stops counting
// its users.
func TestGatewayCluster(t *testing.T) {
	auth := startAuthsvc(t)
	chat := startChatsvc(t, "chatsvc", t.TempDir())
	nodes := startGatewayCluster(t, 3,
		"PEROXO_GATEWAY_AUTH_URL="+auth.URL(),
		"PEROXO_GATEWAY_CHAT_URL="+chat.URL(),
		"PEROXO_GATEWAY_PRESENCE_TTL="+presenceTTL.String(),
		"PEROXO_GATEWAY_HEARTBEAT_INTERVAL=500ms",
	)
	startConsumer(t, natsURLs(nodes), chat.URL())
	// Until the gateways' bus created the replicated stream, sends get a
	// Failed ack.
	_, js := connectJetStream(t, nodes[0].natsURL)
	waitStream(t, js)
	project := auth.projectID

	tokens := map[string]string{}
	for _, user := range []string{"alice", "bob", "carol"} {
		tokens[user] = auth.token(t, user)
	}
	alice := dial(t, nodes[0].URL(), tokens["alice"], "alice@node1")
	bob := dial(t, nodes[1].URL(), tokens["bob"], "bob@node2")
	carol := dial(t, nodes[2].URL(), tokens["carol"], "carol@node3")
	aliceSecond := dial(t, nodes[2].URL(), tokens["alice"], "alice@node3")

	t.Run("online users span the cluster", func(t *testing.T) {
		for _, client := range []*wsClient{alice, bob, carol} {
			waitOnline(t, client, []string{"alice", "bob", "carol"})
		}
	})

	t.Run("direct messages cross nodes", func(t *testing.T) {
		conversation := conversationID(t, nodes[0].URL(), tokens["alice"], project,
			"alice", "bob")
		clientID := uuid.NewString()
		alice.send(t, "SendDirectMessage", map[string]any{
			"conversation_id":   conversation,
			"to":                map[string]string{"project_id": project, "user_id": "bob"},
			"content":           "hello from node1",
			"client_message_id": clientID,
		})
		messageID := awaitPersisted(t, alice, clientID)
		for _, receiver := range []*wsClient{bob, aliceSecond} {
			got := receiver.await(t, "DirectMessage", fieldIs("server_message_id", messageID))
			if field(got, "from") != "alice" || field(got, "to") != "bob" ||
				field(got, "content") != "hello from node1" ||
				field(got, "conversation_id") != conversation {
				t.Errorf("%s received %v", receiver.name, got)
			}
		}

		reply := uuid.NewString()
		bob.send(t, "SendDirectMessage", map[string]any{
			"conversation_id":   conversation,
			"to":                map[string]string{"project_id": project, "user_id": "alice"},
			"content":           "hello from node2",
			"client_message_id": reply,
		})
		replyID := awaitPersisted(t, bob, reply)
		// Both of alice's devices, on node1 and node3, get the reply.
		for _, device := range []*wsClient{alice, aliceSecond} {
			device.await(t, "DirectMessage", fieldIs("server_message_id", replyID))
		}
	})

	t.Run("room members on every node", func(t *testing.T) {
		members := []*wsClient{alice, bob, carol}
		for _, member := range members {
			member.send(t, "JoinRoom", map[string]string{"room_id": "lobby"})
			member.await(t, "RoomJoined", fieldIs("room_id", "lobby"))
		}
		// NATS spreads a new subscription's interest to the other cluster
		// members asynchronously, so a message posted on another node right
		// after a join can miss live delivery (it is still in history).
		// Probes are sent until each member's posts reach every other node.
		users := []string{"alice", "bob", "carol"}
		for i, sender := range members {
			awaitRoomInterest(t, sender, users[i], members)
		}
		for i, sender := range members {
			clientID := uuid.NewString()
			user := []string{"alice", "bob", "carol"}[i]
			sender.send(t, "RoomMessage", map[string]string{
				"room_id": "lobby", "from": user, "content": "hi from " + sender.name,
				"message_id": clientID,
			})
			messageID := awaitPersisted(t, sender, clientID)
			for _, receiver := range members {
				if receiver == sender {
					continue
				}
				got := receiver.await(t, "RoomMessage", fieldIs("message_id", messageID))
				if field(got, "from") != user || field(got, "room_id") != "lobby" {
					t.Errorf("%s received %v", receiver.name, got)
				}
			}
		}
	})

	t.Run("killed node's users go offline", func(t *testing.T) {
		killed := time.Now()
		nodes[2].Kill()
		// carol was only on node3; alice still has her session on node1.
		waitOnline(t, alice, []string{"alice", "bob"})
		t.Logf("carol offline on node1 %v after node3 was killed (presence TTL %v)",
			time.Since(killed).Round(time.Millisecond), presenceTTL)
	})
}

// awaitPersisted waits for the Persisted ack of clientID and returns the
// message id.
func awaitPersisted(t testing.TB, sender *wsClient, clientID string) string {
	t.Helper()
	ack := sender.await(t, "MessageAck", fieldIs("client_message_id", clientID))
	if ack["status"] != "Persisted" {
		t.Fatalf("%s: ack %v, want status Persisted", sender.name, ack)
	}
	messageID := field(ack, "message_id")
	if messageID == "" {
		t.Fatalf("%s: ack %v without message_id", sender.name, ack)
	}
	return messageID
}

// waitOnline sends GetOnlineUsers until the answer equals want, failing
// after a few presence TTLs. Presence travels by heartbeats, so there is
// no event to wait for on another node.
func waitOnline(t testing.TB, client *wsClient, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * presenceTTL)
	var users []string
	for time.Now().Before(deadline) {
		client.send(t, "GetOnlineUsers", map[string]any{})
		answer := client.await(t, "OnlineUsers", nil)
		users = users[:0]
		list, _ := answer["users"].([]any)
		for _, user := range list {
			users = append(users, user.(string))
		}
		if slices.Equal(users, want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: online users %v, want %v", client.name, users, want)
}

// awaitRoomInterest posts probe messages to the lobby from sender until
// one reaches every other member, failing after ten tries.
func awaitRoomInterest(t *testing.T, sender *wsClient, user string, members []*wsClient) {
	t.Helper()
	for range 10 {
		probe := uuid.NewString()
		sender.send(t, "RoomMessage", map[string]string{
			"room_id": "lobby", "from": user, "content": "probe", "message_id": probe,
		})
		messageID := awaitPersisted(t, sender, probe)
		reachedAll := true
		for _, receiver := range members {
			if receiver != sender &&
				!receiver.tryAwait("RoomMessage", fieldIs("message_id", messageID), 2*time.Second) {
				reachedAll = false
			}
		}
		if reachedAll {
			return
		}
	}
	t.Fatalf("room messages from %s did not reach every node after ten probes", sender.name)
}
