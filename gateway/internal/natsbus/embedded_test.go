package natsbus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	"github.com/peroxo/peroxo/platform/eventlog"
)

func TestEmbeddedServersFormJetStreamCluster(t *testing.T) {
	var servers []*natsbus.Embedded
	for i := range 3 {
		var routes []string
		if i > 0 {
			routes = []string{servers[0].ClusterURL()}
		}
		embedded, err := natsbus.StartEmbedded(natsbus.EmbeddedOptions{
			ListenAddr:  "127.0.0.1:0",
			StoreDir:    t.TempDir(),
			ServerName:  fmt.Sprintf("gateway-%d", i),
			ClusterName: "peroxo-test",
			ClusterAddr: "127.0.0.1:0",
			Routes:      routes,
		}, discard)
		if err != nil {
			t.Fatalf("start server %d: %v", i, err)
		}
		t.Cleanup(embedded.Close)
		servers = append(servers, embedded)
	}

	// The first streams request may come before the meta group elected a
	// leader; EnsureStreams is retried as the Bus does.
	conn, _ := connect(t, servers[2].ClientURL())
	js, err := jetstream.New(conn)
	if err != nil {
		t.Fatal(err)
	}
	settings := eventlog.StreamSettings{Replicas: 3, DuplicateWindow: time.Minute}
	deadline := time.Now().Add(30 * time.Second)
	var stream jetstream.Stream
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		stream, err = eventlog.EnsureStreams(ctx, js, settings)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ensure replicated streams: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	info, err := stream.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(info.Cluster.Replicas) + 1; got != 3 {
		t.Errorf("stream has %d copies, want 3", got)
	}

	nodeA := startNode(t, servers[0].ClientURL(), testOptions("node-a"))
	nodeC := startNode(t, servers[2].ClientURL(), testOptions("node-c"))
	if err := nodeC.bus.SubscribeUser(project, "bob"); err != nil {
		t.Fatal(err)
	}
	flush(t, nodeC)

	// Interest travels to the other servers over routes asynchronously, so
	// events are published until the first one arrives.
	timeout := time.After(10 * time.Second)
	for {
		publish(t, nodeA, directEvent("alice", "bob"))
		select {
		case <-nodeC.events:
			return
		case <-time.After(100 * time.Millisecond):
		case <-timeout:
			t.Fatal("no event reached node C through the cluster")
		}
	}
}
