package projector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/peroxo/peroxo/consumer/internal/consumertest"
	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

const project = "peroxo_pj_test"

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func testOptions() Options {
	return Options{
		Durable:         "test-projector",
		BatchSize:       10,
		BatchWait:       100 * time.Millisecond,
		MaxDeliver:      3,
		AckWait:         5 * time.Second,
		RetryMin:        5 * time.Millisecond,
		RetryMax:        20 * time.Millisecond,
		PendingInterval: 50 * time.Millisecond,
	}
}

// startProjector runs a Projector writing to chatURL until the test ends.
func startProjector(tb testing.TB, js jetstream.JetStream, chatURL string) *Metrics {
	tb.Helper()
	metrics := NewMetrics(prometheus.NewRegistry())
	writer := NewChatWriter(http.DefaultClient, chatURL, 2*time.Second)
	projector := New(js, writer, testOptions(), metrics, discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- projector.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("projector run: %v", err)
		}
	})
	return metrics
}

func publishMessages(tb testing.TB, js jetstream.JetStream, count int) []*chatv1.Message {
	tb.Helper()
	messages := make([]*chatv1.Message, count)
	for i := range messages {
		messages[i] = consumertest.NewMessage(project, "alice", "bob")
		consumertest.Publish(tb, js, messages[i])
	}
	return messages
}

func TestProjectorWritesEveryEventOnce(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, nil)
	metrics := startProjector(t, js, chat.URL)

	messages := publishMessages(t, js, 35)
	chat.WaitForCount(t, len(messages))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	if got, want := chat.MessageIDs(), consumertest.IDs(messages); !slices.Equal(got, want) {
		t.Errorf("stored ids = %v, want %v", got, want)
	}
	if got := testutil.ToFloat64(metrics.projected); got != 35 {
		t.Errorf("consumer_messages_projected_total = %v, want 35", got)
	}
	if got := testutil.CollectAndCount(metrics.batchSize); got != 1 {
		t.Errorf("consumer_batch_size series = %d, want 1", got)
	}
	consumertest.Eventually(t, "the pending gauge reads 0", func() bool {
		return testutil.ToFloat64(metrics.pending) == 0
	})
	if letters := consumertest.DeadLetters(t, js); len(letters) != 0 {
		t.Errorf("dead-letter stream holds %d events, want 0", len(letters))
	}
}

func TestProjectorRetriesFailedWrites(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, func(call int, _ []*chatv1.Message) error {
		if call <= writeAttempts+1 {
			return connect.NewError(connect.CodeUnavailable, errors.New("store down"))
		}
		return nil
	})
	metrics := startProjector(t, js, chat.URL)

	messages := publishMessages(t, js, 20)
	chat.WaitForCount(t, len(messages))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	if got, want := chat.MessageIDs(), consumertest.IDs(messages); !slices.Equal(got, want) {
		t.Errorf("stored ids = %v, want %v", got, want)
	}
	if got := testutil.ToFloat64(metrics.redeliveries); got == 0 {
		t.Error("consumer_redeliveries_total = 0 after a batch failed every attempt")
	}
	if letters := consumertest.DeadLetters(t, js); len(letters) != 0 {
		t.Errorf("dead-letter stream holds %d events, want 0", len(letters))
	}
}

func TestProjectorOutageNeverDeadLetters(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	// The outage outlasts MaxDeliver (3) deliveries: redeliveries come
	// after the consumer's backoff of 5s and then 10s.
	outageEnds := time.Now().Add(12 * time.Second)
	chat := consumertest.StartChatServer(t, func(_ int, _ []*chatv1.Message) error {
		if time.Now().Before(outageEnds) {
			return connect.NewError(connect.CodeUnavailable, errors.New("store down"))
		}
		return nil
	})
	startProjector(t, js, chat.URL)

	messages := publishMessages(t, js, 20)
	chat.WaitForCount(t, len(messages))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	if got, want := chat.MessageIDs(), consumertest.IDs(messages); !slices.Equal(got, want) {
		t.Errorf("stored ids = %v, want %v", got, want)
	}
	if letters := consumertest.DeadLetters(t, js); len(letters) != 0 {
		t.Errorf("dead-letter stream holds %d events after an outage, want 0", len(letters))
	}
}

func TestProjectorDeadLettersRejectedEvent(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, func(_ int, messages []*chatv1.Message) error {
		for _, message := range messages {
			if message.GetContent() == "poison" {
				return connect.NewError(connect.CodeInvalidArgument, errors.New("bad content"))
			}
		}
		return nil
	})
	metrics := startProjector(t, js, chat.URL)

	good := publishMessages(t, js, 4)
	poison := consumertest.NewMessage(project, "alice", "bob")
	poison.Content = "poison"
	consumertest.Publish(t, js, poison)
	good = append(good, publishMessages(t, js, 4)...)
	chat.WaitForCount(t, len(good))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	if got, want := chat.MessageIDs(), consumertest.IDs(good); !slices.Equal(got, want) {
		t.Errorf("stored ids = %v, want %v", got, want)
	}
	letters := consumertest.DeadLetters(t, js)
	if len(letters) != 1 {
		t.Fatalf("dead-letter stream holds %d events, want 1", len(letters))
	}
	letter := letters[0]
	wantSubject := eventlog.DeadLetterSubjectRoot + "." +
		eventlog.DirectSubject(project, "bob", "alice")
	if letter.Subject != wantSubject {
		t.Errorf("dead letter subject = %q, want %q", letter.Subject, wantSubject)
	}
	if got := letter.Header.Get(HeaderReason); got != reasonRejected {
		t.Errorf("reason header = %q, want %q", got, reasonRejected)
	}
	if got := letter.Header.Get(HeaderMessageID); got != poison.GetMessageId() {
		t.Errorf("message id header = %q, want %q", got, poison.GetMessageId())
	}
	if got := letter.Header.Get(HeaderStreamSequence); got != "5" {
		t.Errorf("stream sequence header = %q, want 5", got)
	}
	if got := letter.Header.Get(HeaderError); got == "" {
		t.Error("error header is empty")
	}
	decoded, err := DecodeMessage(letter.Data)
	if err != nil || decoded.GetMessageId() != poison.GetMessageId() {
		t.Errorf("dead letter data decodes to %v, %v; want the original event", decoded, err)
	}
	if got := testutil.ToFloat64(metrics.deadLettered.WithLabelValues(reasonRejected)); got != 1 {
		t.Errorf("consumer_dead_lettered_total{reason=rejected} = %v, want 1", got)
	}
}

func TestProjectorDeadLettersMalformedEvent(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, nil)
	metrics := startProjector(t, js, chat.URL)

	subject := eventlog.RoomSubject(project, "lobby")
	if _, err := js.Publish(context.Background(), subject, []byte{0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	good := publishMessages(t, js, 3)
	chat.WaitForCount(t, len(good))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	letters := consumertest.DeadLetters(t, js)
	if len(letters) != 1 {
		t.Fatalf("dead-letter stream holds %d events, want 1", len(letters))
	}
	if got := letters[0].Header.Get(HeaderReason); got != reasonMalformed {
		t.Errorf("reason header = %q, want %q", got, reasonMalformed)
	}
	if got := letters[0].Header.Get(HeaderDeliveries); got != "1" {
		t.Errorf("deliveries header = %q, want 1: malformed events are not retried", got)
	}
	if got := testutil.ToFloat64(metrics.deadLettered.WithLabelValues(reasonMalformed)); got != 1 {
		t.Errorf("consumer_dead_lettered_total{reason=malformed} = %v, want 1", got)
	}
}

func TestProjectorDeadLettersAfterMaxDeliver(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	stuck := consumertest.NewMessage(project, "alice", "bob")
	chat := consumertest.StartChatServer(t, func(_ int, messages []*chatv1.Message) error {
		for _, message := range messages {
			if message.GetMessageId() == stuck.GetMessageId() {
				return connect.NewError(connect.CodeInternal, errors.New("cannot store"))
			}
		}
		return nil
	})
	metrics := startProjector(t, js, chat.URL)

	before := publishMessages(t, js, 3)
	consumertest.Publish(t, js, stuck)
	after := publishMessages(t, js, 3)
	good := append(before, after...)
	chat.WaitForCount(t, len(good))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	if got, want := chat.MessageIDs(), consumertest.IDs(good); !slices.Equal(got, want) {
		t.Errorf("stored ids = %v, want %v: batch-mates of a failing event are lost", got, want)
	}
	letters := consumertest.DeadLetters(t, js)
	if len(letters) != 1 {
		t.Fatalf("dead-letter stream holds %d events, want 1", len(letters))
	}
	if got := letters[0].Header.Get(HeaderReason); got != reasonMaxDeliveries {
		t.Errorf("reason header = %q, want %q", got, reasonMaxDeliveries)
	}
	wantDeliveries := strconv.Itoa(testOptions().MaxDeliver)
	if got := letters[0].Header.Get(HeaderDeliveries); got != wantDeliveries {
		t.Errorf("deliveries header = %q, want %s", got, wantDeliveries)
	}
	got := testutil.ToFloat64(metrics.deadLettered.WithLabelValues(reasonMaxDeliveries))
	if got != 1 {
		t.Errorf("consumer_dead_lettered_total{reason=max_deliveries} = %v, want 1", got)
	}
}

func TestProjectorWaitsForStreams(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	chat := consumertest.StartChatServer(t, nil)
	startProjector(t, js, chat.URL)

	consumertest.EnsureStreams(t, js)
	messages := publishMessages(t, js, 5)
	chat.WaitForCount(t, len(messages))
	consumertest.WaitSettled(t, js, testOptions().Durable)
}

func TestProjectorsShareOneDurable(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, nil)
	first := startProjector(t, js, chat.URL)
	second := startProjector(t, consumertest.Connect(t, natsServer.ClientURL()), chat.URL)

	messages := publishMessages(t, js, 300)
	chat.WaitForCount(t, len(messages))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	if got, want := chat.MessageIDs(), consumertest.IDs(messages); !slices.Equal(got, want) {
		t.Errorf("stored %d ids, want %d", len(got), len(want))
	}
	// Both processes ack into one durable, so together they projected
	// every event; a redelivery after a lost ack may count one twice.
	total := testutil.ToFloat64(first.projected) + testutil.ToFloat64(second.projected)
	if total < 300 {
		t.Errorf("projectors acked %v events together, want at least 300", total)
	}
}

func TestProjectorRecreatesDeletedConsumer(t *testing.T) {
	natsServer := consumertest.StartNATS(t)
	js := consumertest.Connect(t, natsServer.ClientURL())
	stream := consumertest.EnsureStreams(t, js)
	chat := consumertest.StartChatServer(t, nil)
	startProjector(t, js, chat.URL)

	first := publishMessages(t, js, 5)
	chat.WaitForCount(t, len(first))
	if err := stream.DeleteConsumer(context.Background(), testOptions().Durable); err != nil {
		t.Fatalf("delete durable consumer: %v", err)
	}
	second := publishMessages(t, js, 5)
	chat.WaitForCount(t, len(first)+len(second))
	consumertest.WaitSettled(t, js, testOptions().Durable)

	want := consumertest.IDs(append(first, second...))
	if got := chat.MessageIDs(); !slices.Equal(got, want) {
		t.Errorf("stored ids = %v, want %v", got, want)
	}
}
