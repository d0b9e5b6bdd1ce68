package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	"github.com/peroxo/peroxo/platform/testenv/process"
)

// durable is the consumer's default durable consumer name.
const durable = "chat-projector"

// waitProjected waits until the durable consumer has every event of the
// chat stream delivered and acknowledged, and then until the consumer's
// consumer_pending_messages gauge, refreshed periodically, reads 0. It
// fails after timeout.
func waitProjected(t testing.TB, js jetstream.JetStream, consumer *process.Process,
	timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	waitAcked(ctx, t, js)
	for {
		gauge, err := readMetric(consumer.URL(), "consumer_pending_messages")
		if err == nil && gauge == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer_pending_messages is %v (%v) after %v", gauge, err, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitAcked waits until the durable consumer has acknowledged every event
// of the chat stream, failing when ctx ends.
func waitAcked(ctx context.Context, t testing.TB, js jetstream.JetStream) {
	t.Helper()
	for {
		pending, err := durablePending(ctx, js)
		if err == nil && pending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("events not projected: %d pending (%v)", pending, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// durablePending returns the events the durable consumer has not yet
// acknowledged: never delivered plus delivered and awaiting an ack.
func durablePending(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	consumer, err := js.Consumer(ctx, eventlog.StreamName, durable)
	if err != nil {
		return 0, err
	}
	info, err := consumer.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// readMetric returns the value of an unlabelled counter or gauge from a service's
// /metrics page.
func readMetric(baseURL, name string) (float64, error) {
	response, err := http.Get(baseURL + "/metrics")
	if err != nil {
		return 0, err
	}
	defer response.Body.Close()
	lines := bufio.NewScanner(response.Body)
	for lines.Scan() {
		value, found := strings.CutPrefix(lines.Text(), name+" ")
		if found {
			return strconv.ParseFloat(value, 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found at %s/metrics", name, baseURL)
}

// streamMessages returns how many events a stream holds.
func streamMessages(t testing.TB, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	stream, err := js.Stream(t.Context(), name)
	if err != nil {
		t.Fatalf("look up stream %s: %v", name, err)
	}
	info, err := stream.Info(t.Context())
	if err != nil {
		t.Fatalf("read stream %s info: %v", name, err)
	}
	return info.State.Msgs
}
