package e2e

import (
	"net"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	"github.com/peroxo/peroxo/platform/testenv/process"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// externalNATS is a JetStream server in the test process that the
// gateway reaches through PEROXO_GATEWAY_NATS_URL. Stop and Start keep
// its address and store, as a restarted NATS server would.
type externalNATS struct {
	options *server.Options
	server  *server.Server
}

func startExternalNATS(t testing.TB) *externalNATS {
	t.Helper()
	host, portText, err := net.SplitHostPort(process.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portText)
	external := &externalNATS{options: &server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true,
	}}
	external.start(t)
	t.Cleanup(external.stop)
	return external
}

func (n *externalNATS) start(t testing.TB) {
	t.Helper()
	natsServer, err := server.NewServer(n.options)
	if err != nil {
		t.Fatalf("configure nats server: %v", err)
	}
	natsServer.Start()
	if !natsServer.ReadyForConnections(30 * time.Second) {
		t.Fatal("nats server did not accept clients within 30s")
	}
	n.server = natsServer
}

func (n *externalNATS) stop() {
	n.server.Shutdown()
	n.server.WaitForShutdown()
}

func (n *externalNATS) url() string {
	return "nats://" + net.JoinHostPort(n.options.Host, strconv.Itoa(n.options.Port))
}

// TestNATSOutage points a gateway at an external NATS server and stops
// it. A sender then gets a Failed ack with a reason, while the recipient
// on the same node still receives the message live. Once NATS is back, a
// resend with the same client id is persisted under the same message id
// and stored once.
func TestNATSOutage(t *testing.T) {
	external := startExternalNATS(t)
	auth := startAuthsvc(t)
	addr := process.FreeAddr(t)
	gateway := process.Start(t, process.Options{
		Name:   "gateway",
		Binary: process.Build(t, gatewayPackage),
		Env: []string{
			"PEROXO_GATEWAY_ADDR=" + addr,
			"PEROXO_GATEWAY_DATA_DIR=" + t.TempDir(),
			"PEROXO_GATEWAY_NATS_URL=" + external.url(),
			"PEROXO_GATEWAY_AUTH_URL=" + auth.URL(),
			"PEROXO_GATEWAY_PUBLISH_TIMEOUT=500ms",
			"PEROXO_GATEWAY_PUBLISH_ATTEMPTS=2",
			"PEROXO_LOG_LEVEL=warn",
		},
		HealthAddr: addr,
	})
	_, js := connectJetStream(t, external.url())
	waitStream(t, js)
	chat := startChatsvc(t, "chatsvc", t.TempDir())
	consumer := startConsumer(t, external.url(), chat.URL())

	project := auth.projectID
	aliceToken := auth.token(t, "alice")
	alice := dial(t, gateway.URL(), aliceToken, "alice")
	bob := dial(t, gateway.URL(), auth.token(t, "bob"), "bob")
	conversation := conversationID(t, gateway.URL(), aliceToken, project, "alice", "bob")
	send := func(clientID, content string) {
		alice.send(t, "SendDirectMessage", map[string]any{
			"conversation_id":   conversation,
			"to":                map[string]string{"project_id": project, "user_id": "bob"},
			"content":           content,
			"client_message_id": clientID,
		})
	}

	before := uuid.NewString()
	send(before, "NATS up")
	beforeID := awaitPersisted(t, alice, before)

	external.stop()
	during := uuid.NewString()
	send(during, "NATS down")
	ack := alice.await(t, "MessageAck", fieldIs("client_message_id", during))
	status, _ := ack["status"].(map[string]any)
	reason, _ := status["Failed"].(string)
	if reason == "" {
		t.Errorf("ack with NATS down %v, want status {\"Failed\": reason}", ack)
	}
	t.Logf("Failed reason: %q", reason)
	failedID := field(ack, "message_id")
	live := bob.await(t, "DirectMessage", fieldIs("server_message_id", failedID))
	if field(live, "content") != "NATS down" {
		t.Errorf("bob received %v live, want the message sent while NATS was down", live)
	}

	external.start(t)
	waitReady(t, gateway.URL())
	send(during, "NATS down")
	if resent := awaitPersisted(t, alice, during); resent != failedID {
		t.Errorf("resend persisted as %s, want the failed message's id %s", resent, failedID)
	}
	after := uuid.NewString()
	send(after, "NATS back")
	afterID := awaitPersisted(t, alice, after)

	// The failed first attempt may have reached the log too; history
	// holds each message once either way.
	waitProjected(t, js, consumer, time.Minute)
	stored, err := readChannel(t.Context(), chat.client, project,
		channelKey{kind: chatv1.ChannelKind_CHANNEL_KIND_DIRECT, id: conversation})
	if err != nil {
		t.Fatalf("read the conversation: %v", err)
	}
	var ids []string
	for _, message := range stored {
		ids = append(ids, message.GetMessageId())
	}
	if want := []string{beforeID, failedID, afterID}; !slices.Equal(ids, want) {
		t.Errorf("history holds %v, want %v", ids, want)
	}
}

// waitStream waits until the gateway's bus created the chat stream.
func waitStream(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var err error
	for time.Now().Before(deadline) {
		if _, err = js.Stream(t.Context(), eventlog.StreamName); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stream %s not created within a minute: %v", eventlog.StreamName, err)
}

// waitReady polls a service's /readyz until it returns 200, because its
// NATS reconnection gives no other outside signal.
func waitReady(t testing.TB, baseURL string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		response, err := http.Get(baseURL + "/readyz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready within a minute", baseURL)
}
