package session

import (
	"context"
	"errors"
	"time"

	"github.com/gobwas/ws"

	"github.com/peroxo/peroxo/gateway/internal/wire"
	"github.com/peroxo/peroxo/gateway/internal/wsconn"
)

// readLoop reads client frames until the connection fails or closes. A
// malformed frame gets an Error frame and the session goes on; only the
// frame size limit (close 1009), a WebSocket protocol violation (1002) and
// connection errors end it here. Frames that arrive while the session
// closes are dropped.
func (s *Session) readLoop(ctx context.Context) {
	limits := wire.Limits{MaxContentBytes: s.settings.MaxContentBytes}
	for {
		opCode, data, err := s.conn.Read()
		if err != nil {
			s.closeAfterReadError(err)
			return
		}
		received := time.Now()
		s.lastRead.Store(received.UnixNano())
		select {
		case <-s.closing:
			continue
		default:
		}
		if !s.limiter.Allow() {
			s.deps.Metrics.RateLimited.Inc()
			s.deps.Metrics.Messages.WithLabelValues("in", "rate_limited").Inc()
			s.deps.Metrics.RequestErrors.WithLabelValues("3000").Inc()
			s.sendOptional(wire.MustEncode(wire.Error{Code: wire.CodeRateLimited,
				Message: "too many frames per second; this frame was dropped"}))
			continue
		}
		if opCode != ws.OpText {
			s.deps.Metrics.Messages.WithLabelValues("in", "binary").Inc()
			s.sendError(wire.Error{Code: wire.CodeBinaryFrame,
				Message: "binary frames are not supported; send JSON text frames"})
			continue
		}
		request, err := wire.Decode(data, limits)
		if err != nil {
			var decodeErr *wire.DecodeError
			errors.As(err, &decodeErr)
			s.deps.Metrics.Messages.WithLabelValues("in", "invalid").Inc()
			s.sendError(decodeErr.Frame())
			continue
		}
		s.deps.Metrics.Messages.WithLabelValues("in", request.Type()).Inc()
		if err := s.dispatch(ctx, request, received); err != nil {
			s.closeWith(closeCause{code: wire.CloseGoingAway, reason: wire.ReasonGoingAway})
			return
		}
	}
}

// closeAfterReadError ends the session after Read failed. After the
// session started closing, the error is the client's close frame or the
// close timeout and changes nothing.
func (s *Session) closeAfterReadError(err error) {
	status := wsconn.CloseStatus(err)
	switch {
	case errors.Is(err, wsconn.ErrMessageTooBig):
		s.deps.Metrics.Rejections.WithLabelValues("frame_too_big").Inc()
		s.closeWith(closeCause{code: wire.CloseMessageTooBig, reason: "frame too big"})
		s.conn.Drain()
	case wsconn.IsProtocolError(err):
		s.closeWith(closeCause{code: wire.CloseProtocolError, reason: err.Error()})
		s.conn.Drain()
	case status != -1:
		s.closeWith(closeCause{code: wire.CloseCode(status), reason: "closed by client",
			peerGone: true})
	default:
		s.closeWith(closeCause{code: wire.CloseCode(wsconn.StatusAbnormalClosure), reason: "connection lost",
			peerGone: true})
	}
}

// sendError queues an Error frame and counts it.
func (s *Session) sendError(frame wire.Error) {
	s.deps.Metrics.RequestErrors.WithLabelValues(codeLabel(frame.Code)).Inc()
	s.deps.Metrics.Messages.WithLabelValues("out", "Error").Inc()
	s.Send(wire.MustEncode(frame))
}
