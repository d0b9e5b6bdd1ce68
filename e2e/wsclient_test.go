package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// frameTimeout bounds every wait for a frame.
const frameTimeout = 30 * time.Second

// frame is one server frame: its type, its fields and when the reader
// goroutine received it.
type frame struct {
	kind     string
	body     map[string]any
	received time.Time
}

// wsClient is one WebSocket session. A reader goroutine queues every
// frame, so waits never block the connection's reads.
type wsClient struct {
	name   string
	conn   *websocket.Conn
	frames chan frame
	closed chan struct{}
	// keep, when set, names the frame types the reader queues; it drops
	// the others.
	keep map[string]bool
}

// dial opens a session on the gateway at gatewayURL with token; the
// session closes when the test ends.
func dial(t testing.TB, gatewayURL, token, name string) *wsClient {
	t.Helper()
	return dialFiltered(t, gatewayURL, token, name, nil)
}

// dialFiltered is [dial] for a session that queues only the frame types
// in keep, or every frame when keep is nil.
func dialFiltered(t testing.TB, gatewayURL, token, name string, keep map[string]bool) *wsClient {
	t.Helper()
	wsURL := "ws" + strings.TrimPrefix(gatewayURL, "http") + "/ws?token=" + token
	ctx, cancel := context.WithTimeout(t.Context(), frameTimeout)
	defer cancel()
	conn, response, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		status := 0
		if response != nil {
			status = response.StatusCode
		}
		t.Fatalf("dial %s as %s: status %d: %v", gatewayURL, name, status, err)
	}
	conn.SetReadLimit(1 << 22)
	client := &wsClient{
		name: name, conn: conn, keep: keep,
		frames: make(chan frame, 4096), closed: make(chan struct{}),
	}
	go client.read()
	t.Cleanup(func() { conn.CloseNow() })
	return client
}

func (c *wsClient) read() {
	defer close(c.closed)
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			return
		}
		var envelope map[string]map[string]any
		if err := json.Unmarshal(data, &envelope); err != nil {
			continue
		}
		received := time.Now()
		for kind, body := range envelope {
			if c.keep != nil && !c.keep[kind] {
				continue
			}
			c.frames <- frame{kind: kind, body: body, received: received}
		}
	}
}

// send writes {"<kind>": body}.
func (c *wsClient) send(t testing.TB, kind string, body any) {
	t.Helper()
	data, err := json.Marshal(map[string]any{kind: body})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), frameTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, data); err != nil {
		t.Fatalf("%s: write %s: %v", c.name, kind, err)
	}
}

// await returns the first frame of kind for which match returns true,
// skipping other frames, such as Presence, that the cluster sends in any
// order.
func (c *wsClient) await(t testing.TB, kind string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	return c.awaitFrame(t, kind, match).body
}

// awaitFrame is [wsClient.await] returning the whole frame.
func (c *wsClient) awaitFrame(t testing.TB, kind string, match func(map[string]any) bool) frame {
	t.Helper()
	timeout := time.After(frameTimeout)
	for {
		select {
		case received := <-c.frames:
			if received.kind == kind && (match == nil || match(received.body)) {
				return received
			}
			if received.kind == "Error" {
				t.Logf("%s received Error %v while waiting for %s", c.name, received.body, kind)
			}
		case <-c.closed:
			t.Fatalf("%s: connection closed while waiting for %s", c.name, kind)
		case <-timeout:
			t.Fatalf("%s: no %s within %v", c.name, kind, frameTimeout)
		}
	}
}

// tryAwait waits up to timeout for a frame of kind that match accepts and
// reports whether one arrived. Frames it skips are dropped, as with await.
func (c *wsClient) tryAwait(kind string, match func(map[string]any) bool,
	timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case received := <-c.frames:
			if received.kind == kind && (match == nil || match(received.body)) {
				return true
			}
		case <-c.closed:
			return false
		case <-deadline:
			return false
		}
	}
}

// field returns a string field of a frame body.
func field(body map[string]any, name string) string {
	value, _ := body[name].(string)
	return value
}

// fieldIs returns a matcher for frames whose field name equals value.
func fieldIs(name, value string) func(map[string]any) bool {
	return func(body map[string]any) bool { return field(body, name) == value }
}
