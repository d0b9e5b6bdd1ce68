package wsconn_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/peroxo/peroxo/gateway/internal/wsconn"
)

var testSettings = wsconn.Settings{
	MaxMessageBytes: 100,
	WriteTimeout:    time.Second,
	CloseTimeout:    time.Second,
	ReadBufferBytes: 16,
}

// echoServer accepts connections and writes every message it reads back
// twice, in one batch, until Read fails; the error goes to errs. A broken
// frame gets close code 1009 or 1002.
func echoServer(t *testing.T) (url string, errs <-chan error) {
	t.Helper()
	readErrs := make(chan error, 16)
	server := httptest.NewServer(http.HandlerFunc(
		func(writer http.ResponseWriter, request *http.Request) {
			conn, err := wsconn.Accept(writer, request, "test.v1", time.Second, testSettings)
			if err != nil {
				readErrs <- err
				return
			}
			defer conn.CloseNow()
			for {
				_, data, err := conn.Read()
				if err != nil {
					readErrs <- err
					code := wsconn.StatusProtocolError
					if errors.Is(err, wsconn.ErrMessageTooBig) {
						code = wsconn.StatusMessageTooBig
					}
					if wsconn.CloseStatus(err) == -1 {
						_ = conn.WriteClose(code, "broken frame")
						conn.Drain()
					}
					return
				}
				if err := conn.WriteText([][]byte{data, data}); err != nil {
					readErrs <- err
					return
				}
			}
		}))
	t.Cleanup(server.Close)
	return "ws" + strings.TrimPrefix(server.URL, "http"), readErrs
}

func TestEchoBatchesArriveAsSeparateMessages(t *testing.T) {
	url, _ := echoServer(t)
	ctx := context.Background()
	conn, response, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"other", "test.v1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if got := response.Header.Get("Sec-WebSocket-Protocol"); got != "test.v1" {
		t.Fatalf("subprotocol %q, want test.v1", got)
	}
	for _, message := range []string{"", "a", strings.Repeat("x", 100)} {
		if err := conn.Write(ctx, websocket.MessageText, []byte(message)); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			kind, data, err := conn.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if kind != websocket.MessageText || string(data) != message {
				t.Fatalf("got %v %q, want text %q", kind, data, message)
			}
		}
	}
	if err := conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
}

// dialRaw opens a connection on which the test writes frames itself.
func dialRaw(t *testing.T, url string) net.Conn {
	t.Helper()
	conn, _, _, err := ws.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func writeFrame(t *testing.T, conn net.Conn, op ws.OpCode, fin bool, payload string) {
	t.Helper()
	frame := ws.MaskFrame(ws.NewFrame(op, fin, []byte(payload)))
	if err := ws.WriteFrame(conn, frame); err != nil {
		t.Fatal(err)
	}
}

// readFrames reads server frames until a close frame and returns the data
// payloads, the pong payloads and the close code.
func readFrames(t *testing.T, conn net.Conn) (data, pongs []string, code ws.StatusCode) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		frame, err := ws.ReadFrame(conn)
		if err != nil {
			t.Fatalf("read frame: %v (data %q)", err, data)
		}
		switch frame.Header.OpCode {
		case ws.OpClose:
			code, _ = ws.ParseCloseFrameData(frame.Payload)
			return data, pongs, code
		case ws.OpPong:
			pongs = append(pongs, string(frame.Payload))
		default:
			data = append(data, string(frame.Payload))
		}
	}
}

func TestFragmentsAndControlFrames(t *testing.T) {
	url, errs := echoServer(t)
	conn := dialRaw(t, url)
	writeFrame(t, conn, ws.OpText, false, "hel")
	writeFrame(t, conn, ws.OpPing, true, "p1")
	writeFrame(t, conn, ws.OpContinuation, false, "lo ")
	writeFrame(t, conn, ws.OpContinuation, true, "world")
	writeFrame(t, conn, ws.OpPing, true, "p2")
	writeFrame(t, conn, ws.OpClose, true, string(ws.NewCloseFrameBody(4321, "done")))
	data, pongs, code := readFrames(t, conn)
	if strings.Join(data, "|") != "hello world|hello world" {
		t.Errorf("data %q, want the joined message twice", data)
	}
	if strings.Join(pongs, "|") != "p1|p2" {
		t.Errorf("pongs %q, want p1|p2", pongs)
	}
	if code != 4321 {
		t.Errorf("close reply %d, want the client's 4321 echoed", code)
	}
	if got := wsconn.CloseStatus(<-errs); got != 4321 {
		t.Errorf("server saw close %d, want 4321", got)
	}
}

func TestBrokenFramesFailRead(t *testing.T) {
	tests := []struct {
		name  string
		write func(net.Conn) error
		check func(error) bool
		code  ws.StatusCode
	}{
		{"one frame over the limit", func(conn net.Conn) error {
			return ws.WriteFrame(conn, ws.MaskFrame(ws.NewTextFrame(bytes.Repeat([]byte("x"), 101))))
		}, func(err error) bool { return errors.Is(err, wsconn.ErrMessageTooBig) }, 1009},
		{"fragments over the limit", func(conn net.Conn) error {
			// The first fragment is under the limit and the second
			// crosses it.
			first := bytes.Repeat([]byte("x"), 70)
			if err := ws.WriteFrame(conn, ws.MaskFrame(ws.NewFrame(ws.OpText, false, first))); err != nil {
				return err
			}
			second := ws.NewFrame(ws.OpContinuation, true, bytes.Repeat([]byte("x"), 40))
			return ws.WriteFrame(conn, ws.MaskFrame(second))
		}, func(err error) bool { return errors.Is(err, wsconn.ErrMessageTooBig) }, 1009},
		{"unmasked frame", func(conn net.Conn) error {
			return ws.WriteFrame(conn, ws.NewTextFrame([]byte("hi")))
		}, wsconn.IsProtocolError, 1002},
		{"continuation without a start", func(conn net.Conn) error {
			return ws.WriteFrame(conn, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte("x"))))
		}, wsconn.IsProtocolError, 1002},
		{"close frame with one byte", func(conn net.Conn) error {
			return ws.WriteFrame(conn, ws.MaskFrame(ws.NewCloseFrame([]byte{3})))
		}, wsconn.IsProtocolError, 1002},
		{"close code above 4999", func(conn net.Conn) error {
			return ws.WriteFrame(conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(5000, ""))))
		}, wsconn.IsProtocolError, 1002},
		{"length with its top bit set", func(conn net.Conn) error {
			_, err := conn.Write([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
			return err
		}, wsconn.IsProtocolError, 1002},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			url, errs := echoServer(t)
			conn := dialRaw(t, url)
			if err := test.write(conn); err != nil {
				t.Fatal(err)
			}
			if err := <-errs; !test.check(err) {
				t.Fatalf("read error %v", err)
			}
			if _, _, code := readFrames(t, conn); code != test.code {
				t.Fatalf("close code %d, want %d", code, test.code)
			}
		})
	}
}

func TestHandshakeRejectsPlainRequest(t *testing.T) {
	url, errs := echoServer(t)
	response, err := http.Get("http" + strings.TrimPrefix(url, "ws"))
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", response.StatusCode)
	}
	if err := <-errs; err == nil {
		t.Error("Accept succeeded on a request without Upgrade")
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	go func() { _, _, _ = wsutil.ReadServerData(client) }()
	conn := wsconn.NewForTest(server, testSettings)
	if err := conn.WriteClose(wsconn.StatusGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	if err := conn.WriteText([][]byte{[]byte("late")}); !errors.Is(err, wsconn.ErrClosed) {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
}

func TestAbortWritesEndsStalledBatch(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	conn := wsconn.NewForTest(server, wsconn.Settings{
		MaxMessageBytes: 100, WriteTimeout: time.Hour, CloseTimeout: time.Hour,
		ReadBufferBytes: 16,
	})
	// The client reads one byte and then stops, so the write has begun
	// and blocks.
	written := make(chan error, 1)
	go func() { written <- conn.WriteText([][]byte{bytes.Repeat([]byte("x"), 64)}) }()
	if _, err := client.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	conn.AbortWrites()
	if err := <-written; err == nil {
		t.Fatal("the stalled write succeeded")
	}
	if err := conn.WriteClose(wsconn.StatusGoingAway, "bye"); !errors.Is(err, wsconn.ErrBroken) {
		t.Errorf("close frame after a broken write: %v, want ErrBroken", err)
	}
	if err := conn.WriteText([][]byte{[]byte("late")}); !errors.Is(err, wsconn.ErrBroken) {
		t.Errorf("batch after a broken write: %v, want ErrBroken", err)
	}
}
