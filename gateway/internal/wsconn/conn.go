// Package wsconn is the server side of a WebSocket connection (RFC 6455)
// built on gobwas/ws frames. It writes a batch of text messages with one
// flush, so a session that fell behind catches up with one system call.
// An idle connection holds no write buffer.
//
// A Conn has one reader goroutine (Read and Close) and any number of
// writers (WriteText, Ping, WriteClose); writes are serialized inside.
package wsconn

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Settings are the limits of one connection.
type Settings struct {
	// MaxMessageBytes bounds a client message, summed over its fragments.
	MaxMessageBytes int64
	// WriteTimeout bounds one batch write, so a client that does not read
	// for this long fails the write.
	WriteTimeout time.Duration
	// CloseTimeout is how long Close waits for the client's close frame.
	CloseTimeout time.Duration
	// ReadBufferBytes is the size of the connection's read buffer.
	ReadBufferBytes int
}

// Close status codes the package itself sends or reports.
const (
	StatusNormalClosure   = 1000
	StatusGoingAway       = 1001
	StatusProtocolError   = 1002
	StatusNoStatus        = 1005
	StatusAbnormalClosure = 1006
	StatusMessageTooBig   = 1009
)

// ErrMessageTooBig is returned by Read for a message longer than
// MaxMessageBytes. The caller closes with StatusMessageTooBig.
var ErrMessageTooBig = errors.New("websocket message exceeds the read limit")

// ErrClosed is returned by writes after a close frame was sent or after
// AbortWrites.
var ErrClosed = errors.New("websocket connection is closing")

// ErrBroken is returned by writes after a write failed: the client may
// have received part of a frame, so nothing more can follow it.
var ErrBroken = errors.New("websocket connection broken by a failed write")

// initialReadBytes bounds the first buffer of a message, whatever size its
// header claims.
const initialReadBytes = 4096

// CloseError is returned by Read when the client sent a close frame. Code
// is StatusNoStatus when the frame carried no code.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket closed by peer: %d %q", e.Code, e.Reason)
}

// CloseStatus returns the code of a *CloseError in err's chain, or -1.
func CloseStatus(err error) int {
	var closeErr *CloseError
	if errors.As(err, &closeErr) {
		return closeErr.Code
	}
	return -1
}

// IsProtocolError reports whether err is a violation of RFC 6455 by the
// client. The caller then closes with StatusProtocolError.
func IsProtocolError(err error) bool {
	var protocolErr ws.ProtocolError
	return errors.As(err, &protocolErr) ||
		errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected)
}

// Conn is one accepted WebSocket connection.
type Conn struct {
	netConn  net.Conn
	settings Settings
	reader   wsutil.Reader
	// lastPong is when the last pong arrived (Unix ns), or 0.
	lastPong atomic.Int64

	// aborted is set by AbortWrites, after which no batch is written.
	aborted atomic.Bool

	writeMu sync.Mutex
	// closeSent is set once a close frame went out, and broken once a
	// write failed, which may have left a frame half written. Both are
	// guarded by writeMu.
	closeSent bool
	broken    bool
}

// Accept completes the handshake of request, choosing subprotocol when
// the client offers it. On failure the client got an HTTP error already.
func Accept(writer http.ResponseWriter, request *http.Request, subprotocol string,
	handshakeTimeout time.Duration, settings Settings) (*Conn, error) {
	upgrader := ws.HTTPUpgrader{
		Timeout:  handshakeTimeout,
		Protocol: func(offered string) bool { return offered == subprotocol },
	}
	netConn, buffered, _, err := upgrader.Upgrade(request, writer)
	if err != nil {
		if netConn != nil {
			_ = netConn.Close()
		}
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	// Bytes the client sent right after the handshake may sit in the
	// HTTP server's buffer. They are copied and read first, so that buffer
	// can be freed.
	var source io.Reader = netConn
	if n := buffered.Reader.Buffered(); n > 0 {
		early, _ := buffered.Reader.Peek(n)
		source = io.MultiReader(bytes.NewReader(bytes.Clone(early)), netConn)
	}
	return newConn(netConn, source, settings), nil
}

func newConn(netConn net.Conn, source io.Reader, settings Settings) *Conn {
	conn := &Conn{netConn: netConn, settings: settings}
	conn.reader = wsutil.Reader{
		Source:       bufio.NewReaderSize(source, settings.ReadBufferBytes),
		State:        ws.StateServerSide,
		MaxFrameSize: settings.MaxMessageBytes,
	}
	conn.reader.OnIntermediate = conn.control
	return conn
}

// Read returns the next text or binary message. It replies to pings and
// records pongs. After a close frame it replies and returns a *CloseError.
func (c *Conn) Read() (ws.OpCode, []byte, error) {
	for {
		header, err := c.reader.NextFrame()
		if errors.Is(err, wsutil.ErrFrameTooLarge) {
			return 0, nil, ErrMessageTooBig
		}
		if err != nil {
			return 0, nil, err
		}
		if header.OpCode.IsControl() {
			if err := c.control(header, &c.reader); err != nil {
				return 0, nil, err
			}
			continue
		}
		data, err := c.readMessage(header)
		if err != nil {
			return 0, nil, err
		}
		return header.OpCode, data, nil
	}
}

// readMessage reads the payload of the message that header starts,
// following continuation frames, within MaxMessageBytes.
//
// The buffer starts at most at initialReadBytes and grows as bytes arrive,
// so a header that only claims a large size costs no memory. It never
// grows past the limit plus one byte, which is how an oversize message
// shows.
func (c *Conn) readMessage(header ws.Header) ([]byte, error) {
	ceiling := c.settings.MaxMessageBytes + 1
	data := make([]byte, 0, min(max(header.Length, 64), initialReadBytes, ceiling))
	for {
		if len(data) == cap(data) {
			data = slices.Grow(data, int(min(int64(2*cap(data)), ceiling))-len(data))
		}
		n, err := c.reader.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) >= ceiling {
			return nil, ErrMessageTooBig
		}
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if errors.Is(err, wsutil.ErrFrameTooLarge) {
			return nil, ErrMessageTooBig
		}
		if err != nil {
			return nil, err
		}
	}
}

// control handles a ping, pong or close frame whose payload is in payload.
func (c *Conn) control(header ws.Header, payload io.Reader) error {
	var buffer [ws.MaxControlFramePayloadSize]byte
	body := buffer[:header.Length]
	if _, err := io.ReadFull(payload, body); err != nil {
		return err
	}
	switch header.OpCode {
	case ws.OpPing:
		err := c.writeControl(ws.OpPong, body)
		if errors.Is(err, ErrClosed) {
			return nil
		}
		return err
	case ws.OpPong:
		c.lastPong.Store(time.Now().UnixNano())
		return nil
	case ws.OpClose:
		return c.peerClosed(body)
	}
	return nil
}

// peerClosed replies to the client's close frame, echoing its code, unless
// a close frame was sent already, and returns the *CloseError.
func (c *Conn) peerClosed(body []byte) error {
	if len(body) == 1 {
		return ws.ProtocolError("close frame payload of one byte")
	}
	closeErr := &CloseError{Code: StatusNoStatus}
	var reply []byte
	if len(body) >= 2 {
		code, reason := ws.ParseCloseFrameData(body)
		if err := ws.CheckCloseFrameData(code, reason); err != nil {
			return err
		}
		if code >= 5000 {
			return ws.ProtocolError("close code above 4999")
		}
		closeErr.Code, closeErr.Reason = int(code), reason
		reply = body[:2]
	}
	if err := c.writeControl(ws.OpClose, reply); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return closeErr
}

// LastPong returns when the last pong arrived, or the zero time before the
// first.
func (c *Conn) LastPong() time.Time {
	nanos := c.lastPong.Load()
	if nanos == 0 {
		return time.Time{}
	}
	return time.Unix(0, nanos)
}

// writerPool contains the buffers of batch writes, so an idle connection
// keeps none.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// WriteText writes each of messages as one text message and flushes once.
// The write fails after WriteTimeout, which leaves the connection broken.
func (c *Conn) WriteText(messages [][]byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	switch {
	case c.broken:
		return ErrBroken
	case c.closeSent || c.aborted.Load():
		return ErrClosed
	}

	if err := c.netConn.SetWriteDeadline(time.Now().Add(c.settings.WriteTimeout)); err != nil {
		return err
	}
	// An AbortWrites between the check above and the deadline would be
	// undone by the new deadline, so the flag is checked again.
	if c.aborted.Load() {
		return ErrClosed
	}

	writer := writerPool.Get().(*bufio.Writer)
	writer.Reset(c.netConn)
	defer func() {
		writer.Reset(nil)
		writerPool.Put(writer)
	}()
	for _, message := range messages {
		_, _ = writer.Write(appendHeader(writer.AvailableBuffer(), ws.OpText, len(message)))
		_, _ = writer.Write(message)
	}
	if err := writer.Flush(); err != nil {
		c.broken = true
		return err
	}
	return nil
}

// AbortWrites ends the batch write in progress at once and makes later
// batches fail with ErrClosed. Control frames, such as the close frame,
// still go out unless the aborted write broke the connection. It is safe
// to call from any goroutine.
func (c *Conn) AbortWrites() {
	c.aborted.Store(true)
	_ = c.netConn.SetWriteDeadline(time.Now())
}

// Ping sends a ping frame. The client's pong shows in LastPong.
func (c *Conn) Ping() error {
	return c.writeControl(ws.OpPing, nil)
}

// WriteClose sends a close frame with code and reason, once. The client
// then has CloseTimeout to send its close frame before Read fails. Later
// writes return ErrClosed.
func (c *Conn) WriteClose(code int, reason string) error {
	body := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(body, uint16(code))
	body = append(body, reason...)
	if len(body) > ws.MaxControlFramePayloadSize {
		body = body[:ws.MaxControlFramePayloadSize]
	}
	if err := c.writeControl(ws.OpClose, body); err != nil {
		return err
	}
	return c.netConn.SetReadDeadline(time.Now().Add(c.settings.CloseTimeout))
}

// Close sends a close frame, waits up to CloseTimeout for the client's,
// and closes the connection. Only the reading goroutine may call it.
func (c *Conn) Close(code int, reason string) error {
	if err := c.WriteClose(code, reason); err != nil {
		return errors.Join(err, c.CloseNow())
	}
	for {
		if _, _, err := c.Read(); err != nil {
			break
		}
	}
	return c.CloseNow()
}

// Drain reads and discards what the client sends until the connection
// fails, which WriteClose bounds by the close timeout. After Read failed
// on a broken frame, it lets the client finish writing and read the close
// frame rather than meet a reset connection. Only the reading goroutine
// may call it.
func (c *Conn) Drain() {
	_, _ = io.Copy(io.Discard, c.reader.Source)
}

// CloseNow closes the connection without a close frame. It ends a Read
// or write in progress.
func (c *Conn) CloseNow() error {
	return c.netConn.Close()
}

// writeControl writes one control frame. After a close frame it writes
// nothing and returns ErrClosed.
func (c *Conn) writeControl(opCode ws.OpCode, body []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	switch {
	case c.broken:
		return ErrBroken
	case c.closeSent:
		return ErrClosed
	}
	if opCode == ws.OpClose {
		c.closeSent = true
	}
	if err := c.netConn.SetWriteDeadline(time.Now().Add(c.settings.WriteTimeout)); err != nil {
		return err
	}
	frame := appendHeader(make([]byte, 0, 2+len(body)), opCode, len(body))
	if _, err := c.netConn.Write(append(frame, body...)); err != nil {
		c.broken = true
		return err
	}
	return nil
}

// appendHeader appends the header of an unmasked final frame of length n.
func appendHeader(dst []byte, opCode ws.OpCode, n int) []byte {
	dst = append(dst, 0x80|byte(opCode))
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(dst, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(dst, 127), uint64(n))
	}
}
