package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Conn is one open connection of the load generator. Its read loop runs on
// the goroutine that calls ReadLoop; Write and Close are safe to call from
// other goroutines.
type Conn struct {
	ws           *websocket.Conn
	writeTimeout time.Duration
	closing      atomic.Bool
}

// NewConn wraps ws; each Write gives up after writeTimeout.
func NewConn(ws *websocket.Conn, writeTimeout time.Duration) *Conn {
	return &Conn{ws: ws, writeTimeout: writeTimeout}
}

// Write sends one text frame.
func (c *Conn) Write(ctx context.Context, frame []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// ReadLoop reads frames until the connection ends and passes each decoded
// server frame to handle on this goroutine. The frame's byte slices are
// valid only during the call. Frames that do not decode go to undecodable.
// ReadLoop returns nil after Close and the read error otherwise, so a
// caller can count unexpected disconnects.
func (c *Conn) ReadLoop(handle func(ServerFrame), undecodable func(error)) error {
	var buffer bytes.Buffer
	for {
		_, reader, err := c.ws.Reader(context.Background())
		if err != nil {
			if c.closing.Load() {
				return nil
			}
			return fmt.Errorf("read frame: %w", err)
		}
		buffer.Reset()
		if _, err := buffer.ReadFrom(reader); err != nil {
			if c.closing.Load() {
				return nil
			}
			return fmt.Errorf("read frame: %w", err)
		}
		frame, err := DecodeServerFrame(buffer.Bytes())
		if err != nil {
			undecodable(err)
			continue
		}
		handle(frame)
	}
}

// Close closes the connection with a normal closure, waiting up to the
// close handshake timeout of coder/websocket (5 s) for the gateway's reply.
// Idempotent.
func (c *Conn) Close() {
	if c.closing.Swap(true) {
		return
	}
	err := c.ws.Close(websocket.StatusNormalClosure, "load run finished")
	if err != nil && !errors.Is(err, net.ErrClosed) {
		_ = c.ws.CloseNow()
	}
}

// CloseNow closes the connection without a close handshake. Idempotent.
func (c *Conn) CloseNow() {
	c.closing.Store(true)
	_ = c.ws.CloseNow()
}
