package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/google/uuid"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"

	"github.com/peroxo/peroxo/platform/testenv"
)

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	addr := listener.Addr().String()
	listener.Close()
	return addr
}

// waitReady polls /readyz until it returns 200 or the deadline passes,
// because run offers no signal when it starts listening.
func waitReady(tb testing.TB, baseURL string, runErr <-chan error) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-runErr:
			tb.Fatalf("run stopped before it was ready: %v", err)
		default:
		}
		response, err := http.Get(baseURL + "/readyz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("%s/readyz did not return 200 within 30s", baseURL)
}

func TestRunServesEmbeddedStore(t *testing.T) {
	t.Setenv("PEROXO_CHAT_STORE", "embedded")
	checkRun(t)
}

func TestRunServesCQLStore(t *testing.T) {
	hosts := testenv.Service(t, "PEROXO_TEST_CASSANDRA_HOSTS")
	keyspace := "chatsvc_main_" + strings.ReplaceAll(uuid.NewString()[:18], "-", "")
	t.Setenv("PEROXO_CHAT_STORE", "cql")
	t.Setenv("PEROXO_CHAT_CQL_HOSTS", hosts)
	t.Setenv("PEROXO_CHAT_CQL_KEYSPACE", keyspace)
	t.Cleanup(func() { dropKeyspace(t, hosts, keyspace) })
	checkRun(t)
}

// dropKeyspace removes a keyspace that run created.
func dropKeyspace(tb testing.TB, hosts, keyspace string) {
	cluster := gocql.NewCluster(strings.Split(hosts, ",")...)
	cluster.Timeout = 30 * time.Second
	session, err := cluster.CreateSession()
	if err != nil {
		tb.Errorf("connect to drop keyspace %s: %v", keyspace, err)
		return
	}
	defer session.Close()
	err = session.Query("DROP KEYSPACE IF EXISTS " + keyspace).
		ExecContext(context.Background())
	if err != nil {
		tb.Errorf("drop keyspace %s: %v", keyspace, err)
	}
}

// checkRun starts run with the store settings already in the environment,
// appends a message over Connect, reads the metrics back and stops run.
func checkRun(t *testing.T) {
	addr := freeAddr(t)
	t.Setenv("PEROXO_CHAT_ADDR", addr)
	t.Setenv("PEROXO_CHAT_DATA_DIR", t.TempDir())
	t.Setenv("PEROXO_LOG_LEVEL", "warn")

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- run(ctx) }()
	baseURL := "http://" + addr
	waitReady(t, baseURL, runErr)

	client := chatv1connect.NewChatServiceClient(http.DefaultClient, baseURL)
	id := uuid.Must(uuid.NewV7())
	response, err := client.AppendMessages(context.Background(), connect.NewRequest(
		&chatv1.AppendMessagesRequest{Messages: []*chatv1.Message{{
			ProjectId:   "p",
			Kind:        chatv1.ChannelKind_CHANNEL_KIND_ROOM,
			ChannelId:   "lobby",
			MessageId:   id.String(),
			SenderId:    "alice",
			Content:     "hello",
			TimestampMs: time.Now().UnixMilli(),
		}}}))
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if response.Msg.GetAppended() != 1 {
		t.Errorf("appended = %d, expected 1", response.Msg.GetAppended())
	}

	metrics, err := http.Get(baseURL + "/metrics")
	if err != nil {
		t.Fatalf("get /metrics: %v", err)
	}
	body, err := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	for _, series := range []string{
		`db_query_duration_seconds_count{operation="append"} 1`,
		`grpc_requests_total{code="ok",procedure="/peroxo.chat.v1.ChatService/AppendMessages"} 1`,
	} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}

	cancel()
	if err := <-runErr; err != nil {
		t.Errorf("run after cancel = %v, expected nil", err)
	}
}
