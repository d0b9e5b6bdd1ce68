package chatrpc_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"

	"github.com/peroxo/peroxo/chatsvc/internal/chatrpc"
	"github.com/peroxo/peroxo/chatsvc/internal/store"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/platform/runner"
)

var testLimits = chatrpc.Limits{MaxContentBytes: 16 << 10, MaxBatch: 10}

// testService is a chatsvc HTTP server on a random loopback port over an
// embedded store, wired as cmd/chatsvc wires it.
type testService struct {
	baseURL  string
	registry *prometheus.Registry
	history  *store.SQLite
}

func startService(tb testing.TB) *testService {
	tb.Helper()
	history, err := store.OpenSQLite(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() { history.Close() })

	registry := ops.NewRegistry()
	instrumented := store.NewInstrumented(history, registry)
	health := ops.NewHealth()
	health.AddCheck("store", instrumented.Ping)
	mux := http.NewServeMux()
	health.Register(mux, registry)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	server := chatrpc.NewServer(instrumented, testLimits, logger)
	server.Register(mux, connect.WithInterceptors(ops.NewRPCMetricsInterceptor(registry)))

	httpServer, listener, err := runner.ListenHTTP("PEROXO_CHAT_ADDR", "127.0.0.1:0", mux, logger)
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- runner.ServeHTTP(ctx, httpServer, listener, 5*time.Second) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return &testService{
		baseURL:  "http://" + listener.Addr().String(),
		registry: registry,
		history:  history,
	}
}

// h2cClient speaks HTTP/2 without TLS, as gRPC clients do.
func h2cClient() *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: protocols}}
}

func (s *testService) client(options ...connect.ClientOption) chatv1connect.ChatServiceClient {
	return chatv1connect.NewChatServiceClient(h2cClient(), s.baseURL, options...)
}

func newMessage(project string, kind chatv1.ChannelKind, channel string) *chatv1.Message {
	id := uuid.Must(uuid.NewV7())
	message := &chatv1.Message{
		ProjectId:       project,
		Kind:            kind,
		ChannelId:       channel,
		MessageId:       id.String(),
		ClientMessageId: uuid.NewString(),
		SenderId:        "alice",
		Content:         "hello " + id.String(),
		TimestampMs:     store.IDTime(id),
	}
	if kind == chatv1.ChannelKind_CHANNEL_KIND_DIRECT {
		message.RecipientId = "bob"
	}
	return message
}

func appendMessages(tb testing.TB, client chatv1connect.ChatServiceClient, messages ...*chatv1.Message) *chatv1.AppendMessagesResponse {
	tb.Helper()
	response, err := client.AppendMessages(context.Background(),
		connect.NewRequest(&chatv1.AppendMessagesRequest{Messages: messages}))
	if err != nil {
		tb.Fatalf("append messages: %v", err)
	}
	return response.Msg
}

func TestServiceProtocols(t *testing.T) {
	service := startService(t)
	protocols := []struct {
		name   string
		client chatv1connect.ChatServiceClient
	}{
		{"connect", service.client()},
		{"grpc", service.client(connect.WithGRPC())},
		{"grpc-web", chatv1connect.NewChatServiceClient(http.DefaultClient, service.baseURL,
			connect.WithGRPCWeb())},
	}
	for _, protocol := range protocols {
		t.Run(protocol.name, func(t *testing.T) {
			client := protocol.client
			project := "peroxo_pj_" + protocol.name
			direct := chatv1.ChannelKind_CHANNEL_KIND_DIRECT
			messages := []*chatv1.Message{
				newMessage(project, direct, "ab"),
				newMessage(project, direct, "ab"),
				newMessage(project, direct, "ab"),
			}
			appended := appendMessages(t, client, messages...)
			if appended.GetAppended() != 3 || appended.GetDuplicates() != 0 {
				t.Errorf("first append = %d appended, %d duplicates; expected 3, 0",
					appended.GetAppended(), appended.GetDuplicates())
			}
			again := appendMessages(t, client, messages[0])
			if again.GetAppended() != 0 || again.GetDuplicates() != 1 {
				t.Errorf("repeated append = %d appended, %d duplicates; expected 0, 1",
					again.GetAppended(), again.GetDuplicates())
			}

			history := getHistory(t, client, &chatv1.GetHistoryRequest{
				ProjectId: project, Kind: direct, ChannelId: "ab", Limit: 2,
			})
			checkPage(t, "history page 1", history.GetMessages(), history.GetHasMore(),
				history.GetNextCursor(), []*chatv1.Message{messages[2], messages[1]}, true)
			history = getHistory(t, client, &chatv1.GetHistoryRequest{
				ProjectId: project, Kind: direct, ChannelId: "ab", Limit: 2,
				BeforeMessageId: history.GetNextCursor(),
			})
			checkPage(t, "history page 2", history.GetMessages(), history.GetHasMore(),
				history.GetNextCursor(), []*chatv1.Message{messages[0]}, false)

			synced, err := client.SyncMessages(context.Background(),
				connect.NewRequest(&chatv1.SyncMessagesRequest{
					ProjectId: project, Kind: direct, ChannelId: "ab",
					AfterMessageId: messages[0].GetMessageId(),
				}))
			if err != nil {
				t.Fatalf("sync messages: %v", err)
			}
			checkPage(t, "sync", synced.Msg.GetMessages(), synced.Msg.GetHasMore(),
				synced.Msg.GetNextCursor(), []*chatv1.Message{messages[1], messages[2]}, false)

			conversations, err := client.ListConversations(context.Background(),
				connect.NewRequest(&chatv1.ListConversationsRequest{
					ProjectId: project, UserId: "bob",
				}))
			if err != nil {
				t.Fatalf("list conversations: %v", err)
			}
			list := conversations.Msg.GetConversations()
			if len(list) != 1 {
				t.Fatalf("conversations of bob = %d, expected 1", len(list))
			}
			if list[0].GetPeerUserId() != "alice" || list[0].GetConversationId() != "ab" {
				t.Errorf("conversation = %s with %s, expected ab with alice",
					list[0].GetConversationId(), list[0].GetPeerUserId())
			}
			if list[0].GetLastMessage().GetMessageId() != messages[2].GetMessageId() {
				t.Errorf("last message = %s, expected %s",
					list[0].GetLastMessage().GetMessageId(), messages[2].GetMessageId())
			}
		})
	}
}

func TestListRooms(t *testing.T) {
	client := startService(t).client()
	room := chatv1.ChannelKind_CHANNEL_KIND_ROOM
	older := newMessage("p1", room, "general")
	newer := newMessage("p1", room, "random")
	appendMessages(t, client, older, newer)

	response, err := client.ListRooms(context.Background(),
		connect.NewRequest(&chatv1.ListRoomsRequest{ProjectId: "p1"}))
	if err != nil {
		t.Fatalf("list rooms: %v", err)
	}
	var got []string
	for _, listed := range response.Msg.GetRooms() {
		got = append(got, listed.GetRoomId()+"="+listed.GetLastMessage().GetMessageId())
	}
	want := []string{
		"random=" + newer.GetMessageId(),
		"general=" + older.GetMessageId(),
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("rooms = %v, expected %v", got, want)
	}
}

func getHistory(tb testing.TB, client chatv1connect.ChatServiceClient, request *chatv1.GetHistoryRequest) *chatv1.GetHistoryResponse {
	tb.Helper()
	response, err := client.GetHistory(context.Background(), connect.NewRequest(request))
	if err != nil {
		tb.Fatalf("get history: %v", err)
	}
	return response.Msg
}

func checkPage(
	t *testing.T,
	name string,
	got []*chatv1.Message,
	hasMore bool,
	cursor string,
	want []*chatv1.Message,
	wantMore bool,
) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages, expected %d", name, len(got), len(want))
	}
	for i := range got {
		if got[i].GetMessageId() != want[i].GetMessageId() ||
			got[i].GetContent() != want[i].GetContent() ||
			got[i].GetTimestampMs() != want[i].GetTimestampMs() {
			t.Errorf("%s: message %d = %v, expected %v", name, i, got[i], want[i])
		}
	}
	if hasMore != wantMore {
		t.Errorf("%s: has_more = %t, expected %t", name, hasMore, wantMore)
	}
	wantCursor := ""
	if wantMore {
		wantCursor = want[len(want)-1].GetMessageId()
	}
	if cursor != wantCursor {
		t.Errorf("%s: next_cursor = %q, expected %q", name, cursor, wantCursor)
	}
}

func TestValidationErrors(t *testing.T) {
	client := startService(t).client()
	ctx := context.Background()
	direct := chatv1.ChannelKind_CHANNEL_KIND_DIRECT
	room := chatv1.ChannelKind_CHANNEL_KIND_ROOM
	appendOne := func(change func(*chatv1.Message)) func() error {
		return func() error {
			message := newMessage("p", direct, "c")
			change(message)
			_, err := client.AppendMessages(ctx, connect.NewRequest(
				&chatv1.AppendMessagesRequest{Messages: []*chatv1.Message{message}}))
			return err
		}
	}
	history := func(request *chatv1.GetHistoryRequest) func() error {
		return func() error {
			_, err := client.GetHistory(ctx, connect.NewRequest(request))
			return err
		}
	}
	validHistory := func() *chatv1.GetHistoryRequest {
		return &chatv1.GetHistoryRequest{ProjectId: "p", Kind: room, ChannelId: "c"}
	}
	tooMany := make([]*chatv1.Message, testLimits.MaxBatch+1)
	for i := range tooMany {
		tooMany[i] = newMessage("p", room, "c")
	}

	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"append empty project", appendOne(func(m *chatv1.Message) { m.ProjectId = "" }),
			"messages[0].project_id"},
		{"append unspecified kind", appendOne(func(m *chatv1.Message) {
			m.Kind = chatv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED
		}), "messages[0].kind"},
		{"append empty channel", appendOne(func(m *chatv1.Message) { m.ChannelId = "" }),
			"messages[0].channel_id"},
		{"append long channel", appendOne(func(m *chatv1.Message) {
			m.ChannelId = strings.Repeat("c", chatrpc.MaxIDBytes+1)
		}), "messages[0].channel_id"},
		{"append malformed id", appendOne(func(m *chatv1.Message) { m.MessageId = "nope" }),
			"messages[0].message_id"},
		{"append version 4 id", appendOne(func(m *chatv1.Message) {
			m.MessageId = uuid.NewString()
		}), "messages[0].message_id"},
		{"append empty sender", appendOne(func(m *chatv1.Message) { m.SenderId = "" }),
			"messages[0].sender_id"},
		{"append direct without recipient", appendOne(func(m *chatv1.Message) {
			m.RecipientId = ""
		}), "messages[0].recipient_id"},
		{"append room with recipient", appendOne(func(m *chatv1.Message) { m.Kind = room }),
			"messages[0].recipient_id"},
		{"append long content", appendOne(func(m *chatv1.Message) {
			m.Content = strings.Repeat("é", testLimits.MaxContentBytes/2+1)
		}), "messages[0].content"},
		{"append long client id", appendOne(func(m *chatv1.Message) {
			m.ClientMessageId = strings.Repeat("x", chatrpc.MaxIDBytes+1)
		}), "messages[0].client_message_id"},
		{"append zero timestamp", appendOne(func(m *chatv1.Message) { m.TimestampMs = 0 }),
			"messages[0].timestamp_ms"},
		{"append batch too large", func() error {
			_, err := client.AppendMessages(ctx, connect.NewRequest(
				&chatv1.AppendMessagesRequest{Messages: tooMany}))
			return err
		}, "messages"},
		{"history empty project", history(&chatv1.GetHistoryRequest{
			Kind: room, ChannelId: "c"}), "project_id"},
		{"history unspecified kind", history(&chatv1.GetHistoryRequest{
			ProjectId: "p", ChannelId: "c"}), "kind"},
		{"history empty channel", history(&chatv1.GetHistoryRequest{
			ProjectId: "p", Kind: room}), "channel_id"},
		{"history malformed cursor", history(func() *chatv1.GetHistoryRequest {
			request := validHistory()
			request.BeforeMessageId = "123"
			return request
		}()), "before_message_id"},
		{"history negative limit", history(func() *chatv1.GetHistoryRequest {
			request := validHistory()
			request.Limit = -1
			return request
		}()), "limit"},
		{"history limit too large", history(func() *chatv1.GetHistoryRequest {
			request := validHistory()
			request.Limit = chatrpc.MaxHistoryLimit + 1
			return request
		}()), "limit"},
		{"sync malformed cursor", func() error {
			_, err := client.SyncMessages(ctx, connect.NewRequest(&chatv1.SyncMessagesRequest{
				ProjectId: "p", Kind: room, ChannelId: "c", AfterMessageId: "zz"}))
			return err
		}, "after_message_id"},
		{"sync limit too large", func() error {
			_, err := client.SyncMessages(ctx, connect.NewRequest(&chatv1.SyncMessagesRequest{
				ProjectId: "p", Kind: room, ChannelId: "c", Limit: chatrpc.MaxSyncLimit + 1}))
			return err
		}, "limit"},
		{"conversations empty user", func() error {
			_, err := client.ListConversations(ctx, connect.NewRequest(
				&chatv1.ListConversationsRequest{ProjectId: "p"}))
			return err
		}, "user_id"},
		{"conversations limit too large", func() error {
			_, err := client.ListConversations(ctx, connect.NewRequest(
				&chatv1.ListConversationsRequest{ProjectId: "p", UserId: "u",
					Limit: chatrpc.MaxListLimit + 1}))
			return err
		}, "limit"},
		{"rooms empty project", func() error {
			_, err := client.ListRooms(ctx, connect.NewRequest(&chatv1.ListRoomsRequest{}))
			return err
		}, "project_id"},
		{"rooms negative limit", func() error {
			_, err := client.ListRooms(ctx, connect.NewRequest(
				&chatv1.ListRoomsRequest{ProjectId: "p", Limit: -5}))
			return err
		}, "limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if code := connect.CodeOf(err); code != connect.CodeInvalidArgument {
				t.Fatalf("code = %v (err %v), expected %v", code, err,
					connect.CodeInvalidArgument)
			}
			var connectErr *connect.Error
			if !errors.As(err, &connectErr) {
				t.Fatalf("err = %v, expected a *connect.Error", err)
			}
			prefix := "invalid " + c.field + ":"
			if !strings.HasPrefix(connectErr.Message(), prefix) {
				t.Errorf("message = %q, expected it to start with %q",
					connectErr.Message(), prefix)
			}
		})
	}
}

func TestUnknownCursorNotFound(t *testing.T) {
	client := startService(t).client(connect.WithGRPC())
	cursor := uuid.Must(uuid.NewV7()).String()
	_, err := client.GetHistory(context.Background(), connect.NewRequest(
		&chatv1.GetHistoryRequest{ProjectId: "p", Kind: chatv1.ChannelKind_CHANNEL_KIND_ROOM,
			ChannelId: "c", BeforeMessageId: cursor}))
	if code := connect.CodeOf(err); code != connect.CodeNotFound {
		t.Fatalf("code = %v (err %v), expected %v", code, err, connect.CodeNotFound)
	}
	if !strings.Contains(err.Error(), "before_message_id "+cursor) {
		t.Errorf("error %q does not name before_message_id %s", err, cursor)
	}
}

func TestHealth(t *testing.T) {
	service := startService(t)
	health := grpchealth.NewClient(h2cClient(), service.baseURL, connect.WithGRPC())
	response, err := health.Check(context.Background(),
		&grpchealth.CheckRequest{Service: chatv1connect.ChatServiceName})
	if err != nil {
		t.Fatalf("grpc health check: %v", err)
	}
	if response.Status != grpchealth.StatusServing {
		t.Errorf("health status = %v, expected %v", response.Status, grpchealth.StatusServing)
	}
	_, err = health.Check(context.Background(), &grpchealth.CheckRequest{Service: "other.v1.X"})
	if code := connect.CodeOf(err); code != connect.CodeNotFound {
		t.Errorf("health check of an unknown service: code = %v, expected %v",
			code, connect.CodeNotFound)
	}
	ready, err := http.Get(service.baseURL + "/readyz")
	if err != nil {
		t.Fatalf("get /readyz: %v", err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusOK {
		t.Errorf("/readyz status = %d, expected 200", ready.StatusCode)
	}
}

func TestMetricsUpdated(t *testing.T) {
	service := startService(t)
	client := service.client()
	room := chatv1.ChannelKind_CHANNEL_KIND_ROOM
	appendMessages(t, client, newMessage("p", room, "c"))
	getHistory(t, client, &chatv1.GetHistoryRequest{ProjectId: "p", Kind: room, ChannelId: "c"})
	_, err := client.GetHistory(context.Background(),
		connect.NewRequest(&chatv1.GetHistoryRequest{ProjectId: "p", ChannelId: "c"}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("history without kind: err = %v, expected invalid_argument", err)
	}

	getHistoryProcedure := chatv1connect.ChatServiceGetHistoryProcedure
	cases := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"grpc_requests_total", map[string]string{
			"procedure": chatv1connect.ChatServiceAppendMessagesProcedure, "code": "ok"}, 1},
		{"grpc_requests_total", map[string]string{
			"procedure": getHistoryProcedure, "code": "ok"}, 1},
		{"grpc_requests_total", map[string]string{
			"procedure": getHistoryProcedure, "code": "invalid_argument"}, 1},
		{"grpc_request_duration_seconds",
			map[string]string{"procedure": getHistoryProcedure}, 2},
		// The rejected request never reaches the store.
		{"db_query_duration_seconds", map[string]string{"operation": "append"}, 1},
		{"db_query_duration_seconds", map[string]string{"operation": "history"}, 1},
	}
	families, err := service.registry.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, c := range cases {
		if got := sampleCount(families, c.metric, c.labels); got != c.want {
			t.Errorf("%s%v count = %v, expected %v", c.metric, c.labels, got, c.want)
		}
	}
}

// sampleCount returns the counter value or histogram sample count of the
// series of name whose labels include labels.
func sampleCount(families []*dto.MetricFamily, name string, labels map[string]string) float64 {
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
		for _, metric := range family.GetMetric() {
			matched := 0
			for _, pair := range metric.GetLabel() {
				if labels[pair.GetName()] == pair.GetValue() {
					matched++
				}
			}
			if matched != len(labels) {
				continue
			}
			if metric.GetHistogram() != nil {
				return float64(metric.GetHistogram().GetSampleCount())
			}
			return metric.GetCounter().GetValue()
		}
	}
	return 0
}

func TestHealthWithClosedStore(t *testing.T) {
	service := startService(t)
	if err := service.history.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	health := grpchealth.NewClient(h2cClient(), service.baseURL, connect.WithGRPC())
	response, err := health.Check(context.Background(), &grpchealth.CheckRequest{})
	if err != nil {
		t.Fatalf("grpc health check: %v", err)
	}
	if response.Status != grpchealth.StatusNotServing {
		t.Errorf("health status = %v, expected %v", response.Status,
			grpchealth.StatusNotServing)
	}
	ready, err := http.Get(service.baseURL + "/readyz")
	if err != nil {
		t.Fatalf("get /readyz: %v", err)
	}
	ready.Body.Close()
	if ready.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz status = %d, expected 503", ready.StatusCode)
	}
	_, err = service.client().GetHistory(context.Background(), connect.NewRequest(
		&chatv1.GetHistoryRequest{ProjectId: "p", Kind: chatv1.ChannelKind_CHANNEL_KIND_ROOM,
			ChannelId: "c"}))
	if code := connect.CodeOf(err); code != connect.CodeUnavailable {
		t.Errorf("history on a closed store: code = %v, expected %v",
			code, connect.CodeUnavailable)
	}
}

func TestOversizedRequestRejected(t *testing.T) {
	client := startService(t).client()
	message := newMessage("p", chatv1.ChannelKind_CHANNEL_KIND_ROOM, "c")
	message.RecipientId = ""
	message.Content = strings.Repeat("x", int(testLimits.MaxRequestBytes())+1)
	_, err := client.AppendMessages(context.Background(), connect.NewRequest(
		&chatv1.AppendMessagesRequest{Messages: []*chatv1.Message{message}}))
	if code := connect.CodeOf(err); code != connect.CodeResourceExhausted {
		t.Errorf("oversized append: code = %v (err %v), expected %v",
			code, err, connect.CodeResourceExhausted)
	}
}
