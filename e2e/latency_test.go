package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkDirectMessageAcrossNodes measures one DM at a time from a user
// on node1 to a user on node2 of a three-node cluster with three stream
// replicas: delivered is send to the recipient's DirectMessage, the live
// path through NATS; persisted is send to the sender's Persisted ack,
// after JetStream stored the event on a majority of the replicas. Run it
// with a fixed count so the cluster starts once, e.g. -benchtime 2000x.
func BenchmarkDirectMessageAcrossNodes(b *testing.B) {
	auth := startAuthsvc(b)
	nodes := startGatewayCluster(b, 3,
		"PEROXO_GATEWAY_AUTH_URL="+auth.URL(),
		"PEROXO_GATEWAY_MESSAGES_PER_SECOND=100000",
		"PEROXO_GATEWAY_MESSAGE_BURST=100000",
	)
	_, js := connectJetStream(b, nodes[0].natsURL)
	waitStream(b, js)
	project := auth.projectID
	aliceToken := auth.token(b, "alice")
	alice := dial(b, nodes[0].URL(), aliceToken, "alice@node1")
	bob := dial(b, nodes[1].URL(), auth.token(b, "bob"), "bob@node2")
	conversation := conversationID(b, nodes[0].URL(), aliceToken, project, "alice", "bob")
	send := func() (delivered, persisted time.Duration) {
		b.Helper()
		clientID := uuid.NewString()
		start := time.Now()
		alice.send(b, "SendDirectMessage", map[string]any{
			"conversation_id":   conversation,
			"to":                map[string]string{"project_id": project, "user_id": "bob"},
			"content":           "latency probe",
			"client_message_id": clientID,
		})
		ack := alice.awaitFrame(b, "MessageAck", fieldIs("client_message_id", clientID))
		if ack.body["status"] != "Persisted" {
			b.Fatalf("ack %v, want status Persisted", ack.body)
		}
		delivery := bob.awaitFrame(b, "DirectMessage",
			fieldIs("server_message_id", field(ack.body, "message_id")))
		// Both times are taken by the reader goroutines when the frames
		// arrive, whichever is awaited first.
		return delivery.received.Sub(start), ack.received.Sub(start)
	}
	// Warm up: streams, subscriptions and connections.
	for range 20 {
		send()
	}

	deliveredTimes := make([]time.Duration, 0, b.N)
	persistedTimes := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		delivered, persisted := send()
		deliveredTimes = append(deliveredTimes, delivered)
		persistedTimes = append(persistedTimes, persisted)
	}
	b.StopTimer()
	reportPercentiles(b, "delivered", deliveredTimes)
	reportPercentiles(b, "persisted", persistedTimes)
}

func reportPercentiles(b *testing.B, name string, samples []time.Duration) {
	slices.Sort(samples)
	at := func(fraction float64) float64 {
		return float64(samples[int(fraction*float64(len(samples)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), name+"-p50-ms")
	b.ReportMetric(at(0.99), name+"-p99-ms")
}
