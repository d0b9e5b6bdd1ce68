package natsbus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// newBus creates a Bus on its own connection without running it, so it
// creates no streams. The test closes it.
func newBus(tb testing.TB, url string, options natsbus.Options) *natsbus.Bus {
	tb.Helper()
	conn, _ := connect(tb, url)
	bus, err := natsbus.New(conn, options, natsbus.Handlers{}, discard)
	if err != nil {
		tb.Fatalf("new bus: %v", err)
	}
	tb.Cleanup(func() { _ = bus.Close() })
	return bus
}

// publishAsync starts a publish that must be accepted and returns the
// channel its result arrives on.
func publishAsync(tb testing.TB, bus *natsbus.Bus, event *eventsv1.ChatEvent) <-chan error {
	tb.Helper()
	result := make(chan error, 1)
	if err := bus.PublishAsync(event, func(err error) { result <- err }); err != nil {
		tb.Fatalf("PublishAsync rejected %s: %v", id(event), err)
	}
	return result
}

// await returns the result of a publish, failing after a guard timeout.
func await(tb testing.TB, result <-chan error) error {
	tb.Helper()
	select {
	case err := <-result:
		return err
	case <-time.After(30 * time.Second):
		tb.Fatal("publish did not complete")
		return nil
	}
}

func streamMessages(tb testing.TB, stream jetstream.Stream) uint64 {
	tb.Helper()
	info, err := stream.Info(context.Background())
	if err != nil {
		tb.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

func TestPublishAsyncStoresManyInFlight(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	stream := ensureStreams(t, nats.ClientURL())
	bus := newBus(t, nats.ClientURL(), testOptions("node-a"))

	const events = 500
	results := make([]<-chan error, events)
	for i := range results {
		event := directEvent("alice", fmt.Sprintf("user-%d", i))
		results[i] = publishAsync(t, bus, event)
	}
	for i, result := range results {
		if err := await(t, result); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if got := streamMessages(t, stream); got != events {
		t.Errorf("stream holds %d messages, want %d", got, events)
	}
}

func TestPublishAsyncDeduplicatesStoredEvent(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	stream := ensureStreams(t, nats.ClientURL())
	bus := newBus(t, nats.ClientURL(), testOptions("node-a"))
	event := directEvent("alice", "bob")

	// An attempt whose acknowledgement was lost has stored the event
	// already; the next attempt sends the same Nats-Msg-Id.
	conn, _ := connect(t, nats.ClientURL())
	js, err := jetstream.New(conn)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := natsbus.EventSubject(event.GetMessage())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(context.Background(), subject, []byte("stored"),
		jetstream.WithMsgID(id(event))); err != nil {
		t.Fatal(err)
	}

	if err := await(t, publishAsync(t, bus, event)); err != nil {
		t.Fatalf("publish of a stored event: %v", err)
	}
	if got := streamMessages(t, stream); got != 1 {
		t.Errorf("stream holds %d messages, want 1", got)
	}
}

func TestPublishAsyncRetriesUntilStreamExists(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	options := testOptions("node-a")
	options.PublishTimeout = 200 * time.Millisecond
	options.PublishAttempts = 100
	bus := newBus(t, nats.ClientURL(), options)

	result := publishAsync(t, bus, directEvent("alice", "bob"))
	stream := ensureStreams(t, nats.ClientURL())
	if err := await(t, result); err != nil {
		t.Fatalf("publish retried after the stream appeared: %v", err)
	}
	if got := streamMessages(t, stream); got != 1 {
		t.Errorf("stream holds %d messages, want 1", got)
	}
}

func TestPublishAsyncFailureReasons(t *testing.T) {
	tests := []struct {
		name     string
		stopNATS bool
		want     []string
	}{
		{"stream missing", false,
			[]string{"no stream stores subject", "after 2 attempts"}},
		{"nats stopped", true,
			[]string{"nats connection is", "after 2 attempts"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			nats := startNATS(t, "127.0.0.1:0", t.TempDir())
			options := testOptions("node-a")
			options.PublishTimeout = 100 * time.Millisecond
			options.PublishAttempts = 2
			bus := newBus(t, nats.ClientURL(), options)
			if test.stopNATS {
				nats.Close()
			}
			err := await(t, publishAsync(t, bus, directEvent("alice", "bob")))
			if err == nil {
				t.Fatal("publish succeeded")
			}
			for _, want := range test.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestPublishAsyncRejectsWhenWindowFull(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	options := testOptions("node-a")
	options.PublishMaxPending = 1
	// Without a stream the first attempt fails at once, and the retry
	// waits at least PublishTimeout/8, so the publish stays pending.
	options.PublishTimeout = time.Minute
	options.PublishAttempts = 2
	bus := newBus(t, nats.ClientURL(), options)

	first := publishAsync(t, bus, directEvent("alice", "bob"))
	err := bus.PublishAsync(directEvent("alice", "carol"), func(error) {
		t.Error("done called for a rejected publish")
	})
	if !errors.Is(err, natsbus.ErrPublishWindowFull) {
		t.Errorf("second publish: err = %v, want ErrPublishWindowFull", err)
	}

	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if err := await(t, first); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("pending publish after Close: err = %v, want one saying closed", err)
	}
	err = bus.PublishAsync(directEvent("alice", "dave"), func(error) {})
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("publish after Close: err = %v, want one saying closed", err)
	}
}
