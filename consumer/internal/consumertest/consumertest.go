// Package consumertest holds test helpers for the consumer: an embedded
// NATS server with the chat streams, event publishing, and an in-memory
// ChatService handler with injectable failures, for unit tests of retry
// and dead-letter handling.
package consumertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1/chatv1connect"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// StartNATS starts a JetStream server on a free loopback port with its
// files in a temporary directory, and stops it when the test ends.
func StartNATS(tb testing.TB) *server.Server {
	tb.Helper()
	natsServer, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  tb.TempDir(),
		NoSigs:    true,
		NoLog:     true,
	})
	if err != nil {
		tb.Fatalf("configure nats server: %v", err)
	}
	natsServer.Start()
	if !natsServer.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server did not start")
	}
	tb.Cleanup(func() {
		natsServer.Shutdown()
		natsServer.WaitForShutdown()
	})
	return natsServer
}

// Connect returns a JetStream context on a new connection to url.
func Connect(tb testing.TB, url string) jetstream.JetStream {
	tb.Helper()
	conn, err := nats.Connect(url, nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		tb.Fatalf("connect to nats: %v", err)
	}
	tb.Cleanup(conn.Close)
	js, err := jetstream.New(conn)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return js
}

// EnsureStreams creates the chat streams as the gateway does.
func EnsureStreams(tb testing.TB, js jetstream.JetStream) jetstream.Stream {
	tb.Helper()
	stream, err := eventlog.EnsureStreams(context.Background(), js, eventlog.StreamSettings{
		DuplicateWindow: time.Minute,
	})
	if err != nil {
		tb.Fatalf("ensure streams: %v", err)
	}
	return stream
}

var sequence atomic.Int64

// NewMessage returns a direct message in project with a new UUIDv7 id, as
// the gateway assigns them.
func NewMessage(project, sender, recipient string) *chatv1.Message {
	n := sequence.Add(1)
	id := uuid.Must(uuid.NewV7())
	seconds, nanoseconds := id.Time().UnixTime()
	return &chatv1.Message{
		ProjectId:   project,
		Kind:        chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
		ChannelId:   "conv-" + sender + "-" + recipient,
		MessageId:   id.String(),
		SenderId:    sender,
		RecipientId: recipient,
		Content:     fmt.Sprintf("message %d", n),
		TimestampMs: time.Unix(seconds, nanoseconds).UnixMilli(),
	}
}

// Publish appends message to the chat stream as the gateway does.
func Publish(tb testing.TB, js jetstream.JetStream, message *chatv1.Message) {
	tb.Helper()
	data, err := eventlog.MarshalEvent(&eventsv1.ChatEvent{Message: message, OriginNode: "test"})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = js.Publish(context.Background(), subjectOf(message), data,
		jetstream.WithMsgID(message.GetMessageId()))
	if err != nil {
		tb.Fatalf("publish event: %v", err)
	}
}

func subjectOf(message *chatv1.Message) string {
	if message.GetKind() == chatv1.ChannelKind_CHANNEL_KIND_ROOM {
		return eventlog.RoomSubject(message.GetProjectId(), message.GetChannelId())
	}
	return eventlog.DirectSubject(message.GetProjectId(), message.GetRecipientId(),
		message.GetSenderId())
}

// ChatServer is an in-memory ChatService whose AppendMessages is
// idempotent by message id. Fail decides per call whether to fail it.
type ChatServer struct {
	chatv1connect.UnimplementedChatServiceHandler

	// URL is the server's base URL.
	URL string

	mu       sync.Mutex
	messages map[string]*chatv1.Message
	calls    int
	fail     func(call int, messages []*chatv1.Message) error
	changed  chan struct{}
}

// StartChatServer serves a ChatServer on a free loopback port. fail may
// be nil.
func StartChatServer(
	tb testing.TB,
	fail func(call int, messages []*chatv1.Message) error,
) *ChatServer {
	tb.Helper()
	chat := &ChatServer{
		messages: make(map[string]*chatv1.Message),
		fail:     fail,
		changed:  make(chan struct{}, 1),
	}
	mux := http.NewServeMux()
	mux.Handle(chatv1connect.NewChatServiceHandler(chat))
	httpServer := httptest.NewServer(mux)
	tb.Cleanup(httpServer.Close)
	chat.URL = httpServer.URL
	return chat
}

// AppendMessages stores messages that are not stored yet.
func (c *ChatServer) AppendMessages(
	_ context.Context,
	request *connect.Request[chatv1.AppendMessagesRequest],
) (*connect.Response[chatv1.AppendMessagesResponse], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		if err := c.fail(c.calls, request.Msg.GetMessages()); err != nil {
			return nil, err
		}
	}
	response := &chatv1.AppendMessagesResponse{}
	for _, message := range request.Msg.GetMessages() {
		if _, ok := c.messages[message.GetMessageId()]; ok {
			response.Duplicates++
			continue
		}
		c.messages[message.GetMessageId()] = message
		response.Appended++
	}
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return connect.NewResponse(response), nil
}

// MessageIDs returns the ids of the stored messages, sorted.
func (c *ChatServer) MessageIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.messages))
	for id := range c.messages {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// WaitForCount waits until count messages are stored.
func (c *ChatServer) WaitForCount(tb testing.TB, count int) {
	tb.Helper()
	timeout := time.After(30 * time.Second)
	for {
		if got := len(c.MessageIDs()); got >= count {
			return
		}
		select {
		case <-c.changed:
		case <-timeout:
			tb.Fatalf("chat server holds %d messages, want %d", len(c.MessageIDs()), count)
		}
	}
}

// IDs returns the sorted message ids of messages.
func IDs(messages []*chatv1.Message) []string {
	ids := make([]string, len(messages))
	for i, message := range messages {
		ids[i] = message.GetMessageId()
	}
	slices.Sort(ids)
	return ids
}

// Eventually polls condition, for states that no event signals.
func Eventually(tb testing.TB, what string, condition func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitSettled waits until the durable consumer has acked or terminated
// every event in the stream. The ack floor is checked too, because an
// event returned with a delay counts neither as pending nor as ack pending.
func WaitSettled(tb testing.TB, js jetstream.JetStream, durable string) {
	tb.Helper()
	Eventually(tb, "every event is acked", func() bool {
		stream, err := js.Stream(context.Background(), eventlog.StreamName)
		if err != nil {
			return false
		}
		streamInfo, err := stream.Info(context.Background())
		if err != nil {
			return false
		}
		consumer, err := stream.Consumer(context.Background(), durable)
		if err != nil {
			return false
		}
		info, err := consumer.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0 &&
			info.AckFloor.Stream >= streamInfo.State.LastSeq
	})
}

// DeadLetters returns the dead-letter stream's messages.
func DeadLetters(tb testing.TB, js jetstream.JetStream) []*jetstream.RawStreamMsg {
	tb.Helper()
	stream, err := js.Stream(context.Background(), eventlog.DeadLetterStreamName)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	var letters []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := stream.GetMsg(context.Background(), seq)
		if err != nil {
			tb.Fatal(err)
		}
		letters = append(letters, msg)
	}
	return letters
}

// PublishAsync appends message to the chat stream without waiting for
// the acknowledgement; WaitPublished waits for all of them.
func PublishAsync(tb testing.TB, js jetstream.JetStream, message *chatv1.Message) {
	tb.Helper()
	data, err := eventlog.MarshalEvent(&eventsv1.ChatEvent{Message: message, OriginNode: "test"})
	if err != nil {
		tb.Fatal(err)
	}
	_, err = js.PublishAsync(subjectOf(message), data, jetstream.WithMsgID(message.GetMessageId()))
	if err != nil {
		tb.Fatalf("publish event: %v", err)
	}
}

// WaitPublished waits until every PublishAsync on js is acknowledged.
func WaitPublished(tb testing.TB, js jetstream.JetStream) {
	tb.Helper()
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		tb.Fatal("events not acknowledged within a minute")
	}
}

// PublishMany appends count new direct messages in project without waiting
// for each acknowledgement, and returns them once all are stored.
func PublishMany(tb testing.TB, js jetstream.JetStream, project string, count int) []*chatv1.Message {
	tb.Helper()
	messages := make([]*chatv1.Message, count)
	for i := range messages {
		messages[i] = NewMessage(project, fmt.Sprintf("user%d", i%50), fmt.Sprintf("user%d", i%7))
		PublishAsync(tb, js, messages[i])
	}
	WaitPublished(tb, js)
	return messages
}
