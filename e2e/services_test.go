package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	"github.com/peroxo/peroxo/platform/testenv/process"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
)

// chatService is a chatsvc process with its client.
type chatService struct {
	*process.Process
	client chatv1connect.ChatServiceClient
}

// startChatsvc runs chatsvc on the embedded store in dataDir. extraEnv
// adds settings such as PEROXO_CHAT_CQL_HOSTS.
func startChatsvc(t testing.TB, name, dataDir string, extraEnv ...string) *chatService {
	t.Helper()
	addr := process.FreeAddr(t)
	chat := process.Start(t, process.Options{
		Name:   name,
		Binary: process.Build(t, chatsvcPackage),
		Env: append([]string{
			"PEROXO_CHAT_ADDR=" + addr,
			"PEROXO_CHAT_DATA_DIR=" + dataDir,
			"PEROXO_LOG_LEVEL=warn",
		}, extraEnv...),
		HealthAddr: addr,
	})
	return &chatService{
		Process: chat,
		client:  chatv1connect.NewChatServiceClient(http.DefaultClient, chat.URL()),
	}
}

// consumerSettings are the consumer settings the tests change from the
// defaults: a short ack wait, so events a killed consumer held are
// redelivered within seconds rather than the default 30s. The write
// timeout must stay below the ack wait.
var consumerSettings = []string{
	"PEROXO_CONSUMER_ACK_WAIT=5s",
	"PEROXO_CONSUMER_WRITE_TIMEOUT=4s",
	"PEROXO_CONSUMER_RETRY_MAX=2s",
	"PEROXO_LOG_LEVEL=warn",
}

// startConsumer runs the projecting consumer against natsURL and chatURL.
// extraEnv overrides settings.
func startConsumer(t testing.TB, natsURL, chatURL string, extraEnv ...string) *process.Process {
	t.Helper()
	addr := process.FreeAddr(t)
	return process.Start(t, process.Options{
		Name:   "consumer",
		Binary: process.Build(t, consumerPackage),
		Env: append([]string{
			"PEROXO_CONSUMER_ADDR=" + addr,
			"PEROXO_CONSUMER_DATA_DIR=" + t.TempDir(),
			"PEROXO_CONSUMER_NATS_URL=" + natsURL,
			"PEROXO_CONSUMER_CHAT_URL=" + chatURL,
		}, append(consumerSettings, extraEnv...)...),
		HealthAddr: addr,
	})
}

// gatewayNode is one gateway process and its embedded NATS server.
type gatewayNode struct {
	*process.Process
	id      string
	natsURL string
}

// startGatewayCluster runs size gateways whose embedded NATS servers form
// one cluster with JetStream, using the gateway's cluster settings, and
// streams with size replicas. A size of 1 runs one gateway without a
// cluster.
// extraEnv goes to every node.
func startGatewayCluster(t testing.TB, size int, extraEnv ...string) []*gatewayNode {
	t.Helper()
	clusterAddrs := make([]string, size)
	for i := range clusterAddrs {
		clusterAddrs[i] = process.FreeAddr(t)
	}
	binary := process.Build(t, gatewayPackage)
	nodes := make([]*gatewayNode, size)
	for i := range nodes {
		var routes []string
		for j, addr := range clusterAddrs {
			if j != i {
				routes = append(routes, "nats-route://"+addr)
			}
		}
		id := fmt.Sprintf("node%d", i+1)
		addr, natsAddr := process.FreeAddr(t), process.FreeAddr(t)
		env := []string{
			"PEROXO_GATEWAY_ADDR=" + addr,
			"PEROXO_GATEWAY_DATA_DIR=" + filepath.Join(t.TempDir(), id),
			"PEROXO_GATEWAY_NODE_ID=" + id,
			"PEROXO_GATEWAY_NATS_LISTEN_ADDR=" + natsAddr,
			fmt.Sprintf("PEROXO_GATEWAY_STREAM_REPLICAS=%d", size),
			"PEROXO_LOG_LEVEL=warn",
		}
		// JetStream refuses a cluster without routes, so one node runs
		// alone.
		if size > 1 {
			env = append(env,
				"PEROXO_GATEWAY_NATS_CLUSTER_NAME=peroxo-e2e",
				"PEROXO_GATEWAY_NATS_CLUSTER_ADDR="+clusterAddrs[i],
				"PEROXO_GATEWAY_NATS_ROUTES="+strings.Join(routes, ","),
			)
		}
		// A clustered node reports healthy only once it reaches the
		// others, so start every node before waiting on any.
		nodes[i] = &gatewayNode{
			Process: process.Start(t, process.Options{
				Name:            "gateway-" + id,
				Binary:          binary,
				Env:             append(env, extraEnv...),
				HealthAddr:      addr,
				DeferHealthWait: true,
			}),
			id:      id,
			natsURL: "nats://" + natsAddr,
		}
	}
	for _, node := range nodes {
		node.WaitHealthy(t)
	}
	return nodes
}

// natsURLs returns the client URLs of every node, comma-separated as
// nats.Connect and the services' NATS URL settings accept them.
func natsURLs(nodes []*gatewayNode) string {
	urls := make([]string, len(nodes))
	for i, node := range nodes {
		urls[i] = node.natsURL
	}
	return strings.Join(urls, ",")
}

// connectJetStream connects to url and returns a JetStream context; the
// connection closes when the test ends.
func connectJetStream(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	conn, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to nats at %s: %v", url, err)
	}
	t.Cleanup(conn.Close)
	js, err := jetstream.New(conn)
	if err != nil {
		t.Fatalf("create jetstream context: %v", err)
	}
	return conn, js
}

// ensureStreams creates the chat streams with replicas copies, retrying
// while a new cluster elects its JetStream meta leader.
func ensureStreams(t testing.TB, js jetstream.JetStream, replicas int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	settings := eventlog.StreamSettings{Replicas: replicas, DuplicateWindow: 10 * time.Minute}
	for {
		attemptCtx, attemptCancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := eventlog.EnsureStreams(attemptCtx, js, settings)
		attemptCancel()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("create the chat streams: %v", err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
