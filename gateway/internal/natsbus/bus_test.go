package natsbus_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

const project = "peroxo_pj_test"

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNATS starts an embedded server on addr ("127.0.0.1:0" for a free
// port) with its files in dir.
func startNATS(tb testing.TB, addr, dir string) *natsbus.Embedded {
	tb.Helper()
	embedded, err := natsbus.StartEmbedded(natsbus.EmbeddedOptions{
		ListenAddr: addr,
		StoreDir:   dir,
		ServerName: "test",
	}, discard)
	if err != nil {
		tb.Fatalf("start embedded nats: %v", err)
	}
	tb.Cleanup(embedded.Close)
	return embedded
}

// connect dials url and reconnects quickly forever; every reconnect is
// signalled on the returned channel.
func connect(tb testing.TB, url string) (*nats.Conn, <-chan struct{}) {
	tb.Helper()
	reconnected := make(chan struct{}, 16)
	conn, err := nats.Connect(url,
		nats.MaxReconnects(-1),
		nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		tb.Fatalf("connect to nats: %v", err)
	}
	tb.Cleanup(conn.Close)
	return conn, reconnected
}

// node is one Bus with its handlers' output.
type node struct {
	bus      *natsbus.Bus
	conn     *nats.Conn
	events   chan *eventsv1.ChatEvent
	presence chan *eventsv1.PresenceEvent
	stop     context.CancelFunc
}

func testOptions(nodeID string) natsbus.Options {
	return natsbus.Options{
		NodeID:            nodeID,
		Stream:            eventlog.StreamSettings{DuplicateWindow: time.Minute},
		PublishTimeout:    500 * time.Millisecond,
		PublishAttempts:   3,
		PresenceTTL:       300 * time.Millisecond,
		HeartbeatInterval: 50 * time.Millisecond,
	}
}

// startNode creates a Bus on its own connection and runs it until the test
// ends or stop is called.
func startNode(tb testing.TB, url string, options natsbus.Options) *node {
	tb.Helper()
	conn, _ := connect(tb, url)
	n := &node{
		events:   make(chan *eventsv1.ChatEvent, 100),
		presence: make(chan *eventsv1.PresenceEvent, 100),
	}
	bus, err := natsbus.New(conn, options, natsbus.Handlers{
		OnEvent:    func(event *eventsv1.ChatEvent) { n.events <- event },
		OnPresence: func(event *eventsv1.PresenceEvent) { n.presence <- event },
	}, discard)
	if err != nil {
		tb.Fatalf("new bus: %v", err)
	}
	n.bus = bus
	n.conn = conn
	flush(tb, n)
	ctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	done := make(chan error, 1)
	go func() { done <- bus.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("bus run: %v", err)
		}
		if err := bus.Close(); err != nil {
			tb.Errorf("close bus: %v", err)
		}
		if err := bus.Close(); err != nil {
			tb.Errorf("close bus twice: %v", err)
		}
	})
	return n
}

// ensureStreams creates the chat streams before a test publishes.
func ensureStreams(tb testing.TB, url string) jetstream.Stream {
	tb.Helper()
	conn, _ := connect(tb, url)
	js, err := jetstream.New(conn)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	stream, err := eventlog.EnsureStreams(context.Background(), js, testOptions("").Stream)
	if err != nil {
		tb.Fatalf("ensure streams: %v", err)
	}
	return stream
}

var messageCounter int

func directEvent(sender, recipient string) *eventsv1.ChatEvent {
	messageCounter++
	return &eventsv1.ChatEvent{Message: &chatv1.Message{
		ProjectId:   project,
		Kind:        chatv1.ChannelKind_CHANNEL_KIND_DIRECT,
		ChannelId:   "conv-" + sender + "-" + recipient,
		MessageId:   "msg-" + time.Now().Format("150405.000000000") + "-" + sender,
		SenderId:    sender,
		RecipientId: recipient,
		Content:     "hello " + recipient,
		TimestampMs: time.Now().UnixMilli() + int64(messageCounter),
	}}
}

func roomEvent(sender, room string) *eventsv1.ChatEvent {
	event := directEvent(sender, "")
	event.Message.Kind = chatv1.ChannelKind_CHANNEL_KIND_ROOM
	event.Message.ChannelId = room
	event.Message.RecipientId = ""
	return event
}

func publish(tb testing.TB, n *node, event *eventsv1.ChatEvent) {
	tb.Helper()
	if err := n.bus.Publish(context.Background(), event); err != nil {
		tb.Fatalf("publish: %v", err)
	}
}

// flush waits until the server has registered n's subscriptions, since
// Subscribe only queues them.
func flush(tb testing.TB, nodes ...*node) {
	tb.Helper()
	for _, n := range nodes {
		if err := n.conn.Flush(); err != nil {
			tb.Fatalf("flush: %v", err)
		}
	}
}

// receiveUntil collects events from n until it has seen every id in
// barrier, and returns how often each message id arrived.
func receiveUntil(tb testing.TB, n *node, barrier ...string) map[string]int {
	tb.Helper()
	counts := make(map[string]int)
	timeout := time.After(10 * time.Second)
	for {
		done := true
		for _, id := range barrier {
			done = done && counts[id] > 0
		}
		if done {
			return counts
		}
		select {
		case event := <-n.events:
			counts[event.GetMessage().GetMessageId()]++
		case <-timeout:
			tb.Fatalf("timed out waiting for %v, received %v", barrier, counts)
		}
	}
}

func id(event *eventsv1.ChatEvent) string { return event.GetMessage().GetMessageId() }

func TestBusDeliversDirectMessagesAcrossNodes(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	ensureStreams(t, nats.ClientURL())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))

	// alice is on A and B (two devices), bob and the id with dots on B.
	for _, user := range []string{"alice", "bob", "user.with.dots"} {
		if err := nodeB.bus.SubscribeUser(project, user); err != nil {
			t.Fatal(err)
		}
		if err := nodeB.bus.SubscribeUser(project, user); err != nil {
			t.Fatalf("subscribe twice: %v", err)
		}
	}
	if err := nodeA.bus.SubscribeUser(project, "alice"); err != nil {
		t.Fatal(err)
	}
	flush(t, nodeA, nodeB)

	toBob := directEvent("alice", "bob")
	toCarol := directEvent("alice", "carol")
	toDots := directEvent("dave", "user.with.dots")
	publish(t, nodeA, toBob)
	publish(t, nodeA, toCarol)
	publish(t, nodeA, toDots)

	// toCarol passes alice's "sent" subscription after toBob; toDots is
	// the only event of its subscription.
	counts := receiveUntil(t, nodeB, id(toBob), id(toCarol), id(toDots))
	if counts[id(toBob)] != 1 {
		t.Errorf("node B received the DM to bob %d times, want once", counts[id(toBob)])
	}
	if counts[id(toCarol)] != 1 {
		t.Errorf("node B received the sender copy %d times, want once", counts[id(toCarol)])
	}

	// Node B publishes to alice; A must get it but never its own events.
	fromBob := directEvent("bob", "alice")
	publish(t, nodeB, fromBob)
	counts = receiveUntil(t, nodeA, id(fromBob))
	for _, own := range []string{id(toBob), id(toCarol)} {
		if counts[own] != 0 {
			t.Errorf("node A received its own event %s", own)
		}
	}
}

func TestBusDeliversRoomMessagesAcrossNodes(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	ensureStreams(t, nats.ClientURL())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))
	for _, n := range []*node{nodeA, nodeB} {
		if err := n.bus.SubscribeRoom(project, "room.1"); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, nodeA, nodeB)

	fromA := roomEvent("alice", "room.1")
	publish(t, nodeA, fromA)
	fromB := roomEvent("bob", "room.1")
	publish(t, nodeB, fromB)

	countsB := receiveUntil(t, nodeB, id(fromA))
	if countsB[id(fromB)] != 0 {
		t.Error("node B received its own room event")
	}
	countsA := receiveUntil(t, nodeA, id(fromB))
	if countsA[id(fromA)] != 0 {
		t.Error("node A received its own room event")
	}
	for range 2 {
		if err := nodeB.bus.UnsubscribeRoom(project, "room.1"); err != nil {
			t.Fatalf("unsubscribe room: %v", err)
		}
	}
}

func TestBusPublishDeduplicatesByMessageID(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	stream := ensureStreams(t, nats.ClientURL())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))
	if err := nodeB.bus.SubscribeUser(project, "bob"); err != nil {
		t.Fatal(err)
	}
	flush(t, nodeB)

	event := directEvent("alice", "bob")
	publish(t, nodeA, event)
	publish(t, nodeA, event)
	barrier := directEvent("alice", "bob")
	publish(t, nodeA, barrier)

	counts := receiveUntil(t, nodeB, id(barrier))
	if counts[id(event)] != 1 {
		t.Errorf("node B received a republished event %d times, want once", counts[id(event)])
	}

	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Errorf("stream holds %d messages, want 2: the event once and the barrier", info.State.Msgs)
	}
	msg, err := stream.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != eventlog.DirectSubject(project, "bob", "alice") {
		t.Errorf("stored subject = %q", msg.Subject)
	}
	if got := msg.Header.Get(jetstream.MsgIDHeader); got != id(event) {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, id(event))
	}
	stored, err := eventlog.UnmarshalEvent(msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	if stored.GetOriginNode() != "node-a" {
		t.Errorf("origin_node = %q, want node-a", stored.GetOriginNode())
	}
}

func TestBusPublishRejectsInvalidEvents(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	noKind := directEvent("alice", "bob")
	noKind.Message.Kind = chatv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED
	noID := directEvent("alice", "bob")
	noID.Message.MessageId = ""
	tests := []struct {
		name  string
		event *eventsv1.ChatEvent
		want  string
	}{
		{"no message", &eventsv1.ChatEvent{}, "no message"},
		{"no message id", noID, "no message id"},
		{"no kind", noKind, "channel kind"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			err := nodeA.bus.Publish(context.Background(), test.event)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("Publish error = %v, want one containing %q", err, test.want)
			}
		})
	}
}

func TestBusPublishFailsWhileNATSIsDown(t *testing.T) {
	dir := t.TempDir()
	first := startNATS(t, "127.0.0.1:0", dir)
	clientURL := first.ClientURL()
	ensureStreams(t, clientURL)
	options := testOptions("node-a")
	options.PublishTimeout = 100 * time.Millisecond
	options.PublishAttempts = 2
	conn, reconnected := connect(t, clientURL)
	bus, err := natsbus.New(conn, options, natsbus.Handlers{}, discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Close() })

	first.Close()
	err = bus.Publish(context.Background(), directEvent("alice", "bob"))
	if err == nil {
		t.Fatal("Publish succeeded while NATS was down")
	}
	if !strings.Contains(err.Error(), "nats connection is") {
		t.Errorf("Publish error %q does not name the connection state", err)
	}

	parsed, err := url.Parse(clientURL)
	if err != nil {
		t.Fatal(err)
	}
	startNATS(t, parsed.Host, dir)
	select {
	case <-reconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("client did not reconnect")
	}
	if err := bus.Publish(context.Background(), directEvent("alice", "bob")); err != nil {
		t.Errorf("Publish after NATS returned: %v", err)
	}
}

func TestBusPresenceAcrossNodes(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))

	nodeA.bus.SetOnline(project, "alice", true)
	nodeA.bus.SetOnline(project, "alice", true)
	nodeB.bus.SetOnline(project, "bob.b", true)
	nodeB.bus.SetOnline("peroxo_pj_other", "eve", true)

	waitPresence(t, nodeB, "alice", eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE)
	waitPresence(t, nodeA, "bob.b", eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE)
	want := []string{"alice", "bob.b"}
	for name, n := range map[string]*node{"A": nodeA, "B": nodeB} {
		if got := onlineUsers(t, n, project); !slices.Equal(got, want) {
			t.Errorf("node %s: OnlineUsers = %v, want %v", name, got, want)
		}
	}

	nodeA.bus.SetOnline(project, "alice", false)
	waitPresence(t, nodeB, "alice", eventsv1.PresenceStatus_PRESENCE_STATUS_OFFLINE)
	if got := onlineUsers(t, nodeB, project); !slices.Equal(got, []string{"bob.b"}) {
		t.Errorf("after alice left: OnlineUsers = %v, want [bob.b]", got)
	}

	// Node B stops heartbeating without saying goodbye, as after a crash.
	nodeB.stop()
	event := waitPresence(t, nodeA, "bob.b", eventsv1.PresenceStatus_PRESENCE_STATUS_OFFLINE)
	if event.GetOriginNode() != "node-b" {
		t.Errorf("expiry origin_node = %q, want node-b", event.GetOriginNode())
	}
	if got := onlineUsers(t, nodeA, project); len(got) != 0 {
		t.Errorf("after node B went silent: OnlineUsers = %v, want none", got)
	}
	if got := onlineUsers(t, nodeA, "peroxo_pj_other"); len(got) != 0 {
		t.Errorf("other project after node B went silent: OnlineUsers = %v", got)
	}
}

func TestBusPresenceSurvivesWithHeartbeats(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))
	nodeB.bus.SetOnline(project, "bob", true)
	waitPresence(t, nodeA, "bob", eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE)

	// Several TTLs later, heartbeats still keep bob online. Waiting on a
	// later presence event orders this check after those heartbeats.
	time.Sleep(3 * testOptions("").PresenceTTL)
	nodeB.bus.SetOnline(project, "carol", true)
	waitPresence(t, nodeA, "carol", eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE)
	if got := onlineUsers(t, nodeA, project); !slices.Equal(got, []string{"bob", "carol"}) {
		t.Errorf("OnlineUsers = %v, want [bob carol]", got)
	}
	select {
	case event := <-nodeA.presence:
		t.Errorf("unexpected presence event %v", event)
	default:
	}
}

func waitPresence(
	tb testing.TB,
	n *node,
	user string,
	status eventsv1.PresenceStatus,
) *eventsv1.PresenceEvent {
	tb.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case event := <-n.presence:
			if event.GetUserId() == user && event.GetStatus() == status {
				return event
			}
		case <-timeout:
			tb.Fatalf("timed out waiting for %s %s", user, status)
		}
	}
}

func onlineUsers(tb testing.TB, n *node, project string) []string {
	tb.Helper()
	users, err := n.bus.OnlineUsers(context.Background(), project)
	if err != nil {
		tb.Fatalf("online users: %v", err)
	}
	return users
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	conn, _ := connect(t, nats.ClientURL())
	tests := []struct {
		name   string
		change func(*natsbus.Options)
	}{
		{"empty node id", func(o *natsbus.Options) { o.NodeID = "" }},
		{"zero publish timeout", func(o *natsbus.Options) { o.PublishTimeout = 0 }},
		{"zero attempts", func(o *natsbus.Options) { o.PublishAttempts = 0 }},
		{"negative max pending", func(o *natsbus.Options) { o.PublishMaxPending = -1 }},
		{"negative live queue", func(o *natsbus.Options) { o.LiveEventQueueLength = -1 }},
		{"ttl not above interval", func(o *natsbus.Options) { o.PresenceTTL = o.HeartbeatInterval }},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			options := testOptions("node-a")
			test.change(&options)
			if _, err := natsbus.New(conn, options, natsbus.Handlers{}, discard); err == nil {
				t.Error("New accepted invalid options")
			}
		})
	}
}

func TestBusRunCreatesStreams(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	options := testOptions("node-a")
	options.Stream.MaxAge = time.Hour
	startNode(t, nats.ClientURL(), options)
	conn, _ := connect(t, nats.ClientURL())
	js, err := jetstream.New(conn)
	if err != nil {
		t.Fatal(err)
	}

	var stream jetstream.Stream
	deadline := time.Now().Add(10 * time.Second)
	for {
		stream, err = js.Stream(context.Background(), eventlog.StreamName)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not created: %v", eventlog.StreamName, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	config := stream.CachedInfo().Config
	if config.MaxAge != time.Hour {
		t.Errorf("stream max age = %s, want 1h", config.MaxAge)
	}
	if config.Duplicates != options.Stream.DuplicateWindow {
		t.Errorf("stream duplicate window = %s, want %s", config.Duplicates,
			options.Stream.DuplicateWindow)
	}
}

func TestBusCloseAnnouncesUsersOffline(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	// A TTL far beyond the wait below rules out expiry as the cause.
	optionsA := testOptions("node-a")
	optionsA.PresenceTTL = time.Hour
	nodeA := startNode(t, nats.ClientURL(), optionsA)
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))
	nodeB.bus.SetOnline(project, "bob", true)
	waitPresence(t, nodeA, "bob", eventsv1.PresenceStatus_PRESENCE_STATUS_ONLINE)

	if err := nodeB.bus.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := nodeB.bus.SubscribeUser(project, "bob"); err == nil {
		t.Error("SubscribeUser after Close succeeded")
	}
	event := waitPresence(t, nodeA, "bob", eventsv1.PresenceStatus_PRESENCE_STATUS_OFFLINE)
	if event.GetOriginNode() != "node-b" {
		t.Errorf("offline origin_node = %q, want node-b", event.GetOriginNode())
	}
	if got := onlineUsers(t, nodeA, project); len(got) != 0 {
		t.Errorf("OnlineUsers after node B closed = %v, want none", got)
	}
}
