package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// frameTimeout bounds the wait for one expected server frame.
const frameTimeout = 15 * time.Second

// frame is a decoded server frame: its type key and its fields.
type frame struct {
	Type   string
	Fields json.RawMessage
}

// wsClient is one WebSocket session of a test user. A reader goroutine
// owns the connection's read side and forwards frames on frames.
type wsClient struct {
	conn   *websocket.Conn
	frames chan frame
}

func dialGateway(t *testing.T, gatewayURL, token string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), frameTimeout)
	defer cancel()
	wsURL := "ws" + gatewayURL[len("http"):] + "/ws?token=" + url.QueryEscape(token)
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		t.Fatalf("dial gateway: %v", err)
	}

	client := &wsClient{conn: conn, frames: make(chan frame, 64)}
	readCtx, stopReading := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(client.frames)
		for {
			_, data, err := conn.Read(readCtx)
			if err != nil {
				return
			}
			var decoded map[string]json.RawMessage
			if json.Unmarshal(data, &decoded) != nil || len(decoded) != 1 {
				t.Errorf("gateway sent a frame that is not {type: fields}: %s", data)
				continue
			}
			for key, fields := range decoded {
				client.frames <- frame{Type: key, Fields: fields}
			}
		}
	}()

	t.Cleanup(func() {
		_ = conn.Close(websocket.StatusNormalClosure, "test done")
		stopReading()
		<-done
	})
	return client
}

// send writes one client frame {"<messageType>": fields}.
func (c *wsClient) send(t *testing.T, messageType string, fields any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), frameTimeout)
	defer cancel()
	data := mustJSON(t, map[string]any{messageType: fields})
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		t.Fatalf("send %s: %v", messageType, err)
	}
}

// sendRaw writes data as one text frame, for malformed input.
func (c *wsClient) sendRaw(t *testing.T, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), frameTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		t.Fatalf("send raw frame: %v", err)
	}
}

// await reads frames until one of messageType satisfies match, skipping
// others, and returns its fields. A failure lists the skipped frames.
func (c *wsClient) await(t *testing.T, messageType string, match func(json.RawMessage) bool) json.RawMessage {
	t.Helper()
	timeout := time.After(frameTimeout)
	var skipped []string
	for {
		select {
		case received, ok := <-c.frames:
			if !ok {
				t.Fatalf("connection closed while waiting for %s; skipped %q",
					messageType, skipped)
			}
			if received.Type == messageType && (match == nil || match(received.Fields)) {
				return received.Fields
			}
			skipped = append(skipped, received.Type+" "+string(received.Fields))
		case <-timeout:
			t.Fatalf("no matching %s frame within %s; skipped %q",
				messageType, frameTimeout, skipped)
		}
	}
}

// fieldEquals returns a matcher for frames whose string field name is value.
func fieldEquals(name, value string) func(json.RawMessage) bool {
	return func(fields json.RawMessage) bool {
		var decoded map[string]any
		if json.Unmarshal(fields, &decoded) != nil {
			return false
		}
		got, _ := decoded[name].(string)
		return got == value
	}
}

// postJSON sends body to url as JSON and decodes a 200 response into target.
func postJSON(t *testing.T, url string, body, target any) {
	t.Helper()
	request, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url,
		bytes.NewReader([]byte(mustJSON(t, body))))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Content-Type", "application/json")
	doJSON(t, request, target)
}

// getJSON sends GET url with a bearer token and decodes a 200 response.
func getJSON(t *testing.T, url, token string, target any) {
	t.Helper()
	request, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", "Bearer "+token)
	doJSON(t, request, target)
}

func doJSON(t *testing.T, request *http.Request, target any) {
	t.Helper()
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("%s %s: %v", request.Method, request.URL.Path, err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", request.Method, request.URL.Path, err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %s: %s", request.Method, request.URL.Path, response.Status, data)
	}
	if err := json.Unmarshal(data, target); err != nil {
		t.Fatalf("%s %s: decode %s: %v", request.Method, request.URL.Path, data, err)
	}
}
