// Package e2e tests the consumer against the real chatsvc binary with its
// embedded store and an embedded NATS server.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/protobuf/proto"

	"github.com/peroxo/peroxo/consumer/internal/consumertest"
	"github.com/peroxo/peroxo/consumer/internal/projector"
	"github.com/peroxo/peroxo/consumer/internal/replay"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

const (
	project = "peroxo_pj_e2e"
	durable = "e2e-projector"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// testLogger returns a logger that writes warnings and errors to the test
// log, so a failing test shows why events were retried.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{
		Level: slog.LevelWarn,
	}))
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// startProjector runs a Projector writing to chatURL until the test ends
// and returns the registry of its metrics.
func startProjector(tb testing.TB, js jetstream.JetStream, chatURL string) *prometheus.Registry {
	tb.Helper()
	return startProjectorWith(tb, js, chatURL, 25)
}

func startProjectorWith(
	tb testing.TB,
	js jetstream.JetStream,
	chatURL string,
	batchSize int,
) *prometheus.Registry {
	tb.Helper()
	registry := prometheus.NewRegistry()
	writer := projector.NewChatWriter(http.DefaultClient, chatURL, 5*time.Second)
	running := projector.New(js, writer, projector.Options{
		Durable:    durable,
		BatchSize:  batchSize,
		BatchWait:  100 * time.Millisecond,
		MaxDeliver: 5,
		AckWait:    10 * time.Second,
		RetryMin:   20 * time.Millisecond,
		RetryMax:   500 * time.Millisecond,
	}, projector.NewMetrics(registry), testLogger(tb))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- running.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("projector run: %v", err)
		}
	})
	return registry
}

// metricValue returns the value of a counter or gauge in registry, summed
// over the series whose labels include labels.
func metricValue(tb testing.TB, registry *prometheus.Registry, name string,
	labels map[string]string) float64 {
	tb.Helper()
	families, err := registry.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, family := range families {
		if family.GetName() != name {
			continue
		}
	series:
		for _, metric := range family.GetMetric() {
			for _, pair := range metric.GetLabel() {
				if want, ok := labels[pair.GetName()]; ok && want != pair.GetValue() {
					continue series
				}
			}
			total += metric.GetCounter().GetValue() + metric.GetGauge().GetValue()
		}
	}
	return total
}

func waitSettled(tb testing.TB, js jetstream.JetStream) {
	tb.Helper()
	consumertest.WaitSettled(tb, js, durable)
}

// channel is one conversation or room and the ids published to it.
type channel struct {
	kind chatv1.ChannelKind
	id   string
	ids  []string
}

// publishMix publishes count messages spread over two conversations and
// one room, and records them in channels.
func publishMix(tb testing.TB, js jetstream.JetStream, channels map[string]*channel, count int) {
	tb.Helper()
	for i := range count {
		var message *chatv1.Message
		switch i % 3 {
		case 0:
			message = consumertest.NewMessage(project, "alice", "bob")
		case 1:
			message = consumertest.NewMessage(project, "carol", "dave.d")
		default:
			message = consumertest.NewMessage(project, "alice", "")
			message.Kind = chatv1.ChannelKind_CHANNEL_KIND_ROOM
			message.ChannelId = "room.general"
		}
		consumertest.PublishAsync(tb, js, message)
		key := message.GetChannelId()
		if channels[key] == nil {
			channels[key] = &channel{kind: message.GetKind(), id: key}
		}
		channels[key].ids = append(channels[key].ids, message.GetMessageId())
	}
	consumertest.WaitPublished(tb, js)
}

// checkHistory compares chatsvc's history of every channel with what was
// published: each message once, in id order.
func checkHistory(tb testing.TB, chat *consumertest.Chatsvc, channels map[string]*channel) {
	tb.Helper()
	for _, want := range channels {
		history := chat.History(tb, project, want.kind, want.id)
		got := make([]string, len(history))
		for i, message := range history {
			got[i] = message.GetMessageId()
		}
		wantIDs := slices.Sorted(slices.Values(want.ids))
		if !slices.Equal(got, wantIDs) {
			tb.Errorf("history of %s: %d messages, want %d; got %v, want %v",
				want.id, len(got), len(wantIDs), got, wantIDs)
		}
	}
}

func TestProjectionIntoChatsvcSurvivesRestart(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatsvc(t)
	first := startProjector(t, js, chat.URL)
	second := startProjector(t, consumertest.Connect(t, natsServer.ClientURL()), chat.URL)

	channels := make(map[string]*channel)
	publishMix(t, js, channels, 1500)
	projected := func() float64 {
		return metricValue(t, first, "consumer_messages_projected_total", nil) +
			metricValue(t, second, "consumer_messages_projected_total", nil)
	}
	consumertest.Eventually(t, "the first events are projected", func() bool {
		return projected() > 0
	})

	// chatsvc crashes, usually mid-stream; events keep arriving and wait
	// in the stream while the projectors retry.
	chat.Kill()
	t.Logf("chatsvc killed after %v of 1500 events were projected", projected())
	publishMix(t, js, channels, 90)
	chat.Start(t)
	waitSettled(t, js)
	checkHistory(t, chat, channels)

	if got := projected(); got < 1590 {
		t.Errorf("projectors acked %v events, want at least 1590", got)
	}
	if letters := consumertest.DeadLetters(t, js); len(letters) != 0 {
		t.Errorf("dead-letter stream holds %d events, want 0", len(letters))
	}
}

func TestProjectionDeadLettersWhatChatsvcRejects(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatsvc(t)
	registry := startProjector(t, js, chat.URL)

	channels := make(map[string]*channel)
	publishMix(t, js, channels, 6)
	poison := consumertest.NewMessage(project, "alice", "bob")
	poison.Kind = chatv1.ChannelKind_CHANNEL_KIND_UNSPECIFIED
	consumertest.Publish(t, js, poison)
	publishMix(t, js, channels, 6)
	waitSettled(t, js)

	checkHistory(t, chat, channels)
	letters := consumertest.DeadLetters(t, js)
	if len(letters) != 1 {
		t.Fatalf("dead-letter stream holds %d events, want 1", len(letters))
	}
	if got := letters[0].Header.Get(projector.HeaderMessageID); got != poison.GetMessageId() {
		t.Errorf("dead letter message id = %q, want %q", got, poison.GetMessageId())
	}
	if got := letters[0].Header.Get(projector.HeaderStreamSequence); got != strconv.Itoa(7) {
		t.Errorf("dead letter stream sequence = %q, want 7", got)
	}
	got := metricValue(t, registry, "consumer_dead_lettered_total",
		map[string]string{"reason": "rejected"})
	if got != 1 {
		t.Errorf("consumer_dead_lettered_total{reason=rejected} = %v, want 1", got)
	}
}

func TestReplayRebuildsChatsvcHistory(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	original := consumertest.StartChatsvc(t)
	startProjector(t, js, original.URL)
	channels := make(map[string]*channel)
	publishMix(t, js, channels, 120)
	waitSettled(t, js)
	checkHistory(t, original, channels)

	rebuilt := consumertest.StartChatsvc(t)
	writer := projector.NewChatWriter(http.DefaultClient, rebuilt.URL, 10*time.Second)
	summary, err := replay.Run(context.Background(), js, writer,
		replay.Options{BatchSize: 50, WriteAttempts: 3}, discard)
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if summary.Read != 120 || summary.Appended != 120 || summary.Duplicates != 0 {
		t.Errorf("replay summary = %+v, want 120 read and appended", summary)
	}
	for _, want := range channels {
		before := original.History(t, project, want.kind, want.id)
		after := rebuilt.History(t, project, want.kind, want.id)
		if len(after) != len(before) {
			t.Errorf("rebuilt %s holds %d messages, original %d", want.id, len(after), len(before))
			continue
		}
		for i := range before {
			if !proto.Equal(before[i], after[i]) {
				t.Errorf("rebuilt %s message %d = %v, original %v", want.id, i, after[i], before[i])
			}
		}
	}
}
