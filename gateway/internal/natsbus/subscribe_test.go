package natsbus_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

func TestSubscribeUserKeepsEventOrder(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	ensureStreams(t, nats.ClientURL())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))
	nodeB := startNode(t, nats.ClientURL(), testOptions("node-b"))
	for _, user := range []string{"bob", "carol"} {
		if err := nodeB.bus.SubscribeUser(project, user); err != nil {
			t.Fatal(err)
		}
	}
	flush(t, nodeB)

	const events = 50
	var sent []string
	for i := range events {
		event := directEvent("alice", []string{"bob", "carol"}[i%2])
		event.Message.MessageId = fmt.Sprintf("ordered-%02d", i)
		publish(t, nodeA, event)
		sent = append(sent, id(event))
	}
	for i, want := range sent {
		select {
		case event := <-nodeB.events:
			if id(event) != want {
				t.Fatalf("event %d is %s, want %s", i, id(event), want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for event %d", i)
		}
	}
}

func TestSubscribeUserReportsDroppedEvents(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	ensureStreams(t, nats.ClientURL())
	nodeA := startNode(t, nats.ClientURL(), testOptions("node-a"))

	// Node B passes one event to a handler that blocks until the test
	// releases it, so its queue of one fills and NATS drops the rest.
	options := testOptions("node-b")
	options.LiveEventQueueLength = 1
	delivered := make(chan *eventsv1.ChatEvent, 100)
	release := make(chan struct{})
	dropped := make(chan int, 100)
	conn, _ := connect(t, nats.ClientURL())
	bus, err := natsbus.New(conn, options, natsbus.Handlers{
		OnEvent: func(event *eventsv1.ChatEvent) {
			<-release
			delivered <- event
		},
		OnEventsDropped: func(count int) { dropped <- count },
	}, discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- bus.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-runDone
		_ = bus.Close()
	})
	var releaseOnce sync.Once
	releaseHandler := func() { releaseOnce.Do(func() { close(release) }) }
	// Runs before the cleanup above, so Close never waits for a blocked
	// handler.
	t.Cleanup(releaseHandler)
	if err := bus.SubscribeUser(project, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Flush(); err != nil {
		t.Fatal(err)
	}

	const events = 10
	for range events {
		publish(t, nodeA, directEvent("alice", "bob"))
	}
	// The handler holds one event and the queue one more, so at least
	// events-2 are dropped before the handler is released.
	total := 0
	for total < events-2 {
		select {
		case count := <-dropped:
			total += count
		case <-time.After(10 * time.Second):
			t.Fatalf("reported %d dropped events, want at least %d", total, events-2)
		}
	}
	releaseHandler()
	received := 0
	for received+total < events {
		select {
		case <-delivered:
			received++
		case count := <-dropped:
			total += count
		case <-time.After(10 * time.Second):
			t.Fatalf("received %d and dropped %d of %d events", received, total, events)
		}
	}
	if received+total != events {
		t.Errorf("received %d and dropped %d events, want %d in all", received, total, events)
	}
	if received == 0 {
		t.Error("no event reached OnEvent")
	}
}

func TestSubscribeUserStartsNoGoroutines(t *testing.T) {
	nats := startNATS(t, "127.0.0.1:0", t.TempDir())
	n := startNode(t, nats.ClientURL(), testOptions("node-a"))
	flush(t, n)
	before := runtime.NumGoroutine()
	const users = 500
	for i := range users {
		if err := n.bus.SubscribeUser(project, fmt.Sprintf("user-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.bus.SubscribeRoom(project, "lobby"); err != nil {
		t.Fatal(err)
	}
	flush(t, n)
	// A few goroutines may come and go in the server and the client, but a
	// goroutine per subscription would add a thousand.
	if grown := runtime.NumGoroutine() - before; grown > 50 {
		t.Errorf("%d subscriptions added %d goroutines", 2*users+1, grown)
	}
	for i := range users {
		if err := n.bus.UnsubscribeUser(project, fmt.Sprintf("user-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
}
