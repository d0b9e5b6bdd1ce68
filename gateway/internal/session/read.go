package session

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// readLoop reads client frames until the connection fails or closes. A
// malformed frame gets an Error frame and the session goes on; only the
// frame size limit (close 1009, enforced by the websocket library) and
// connection errors end it here.
func (s *Session) readLoop(ctx context.Context) {
	limits := wire.Limits{MaxContentBytes: s.settings.MaxContentBytes}
	for {
		messageType, data, err := s.conn.Read(ctx)
		if err != nil {
			s.closeAfterReadError(err)
			return
		}
		received := time.Now()
		s.lastRead.Store(received.UnixNano())
		if messageType != websocket.MessageText {
			s.deps.Metrics.Messages.WithLabelValues("in", "binary").Inc()
			s.sendError(wire.Error{Code: wire.CodeBinaryFrame,
				Message: "binary frames are not supported; send JSON text frames"})
			continue
		}
		if !s.limiter.Allow() {
			s.deps.Metrics.RateLimited.Inc()
			s.deps.Metrics.Messages.WithLabelValues("in", "rate_limited").Inc()
			s.deps.Metrics.RequestErrors.WithLabelValues("3000").Inc()
			s.sendOptional(wire.MustEncode(wire.Error{Code: wire.CodeRateLimited,
				Message: "too many frames per second; this frame was dropped"}))
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
			return
		}
	}
}

func (s *Session) closeAfterReadError(err error) {
	status := websocket.CloseStatus(err)
	switch {
	case s.writeStalled():
		s.closeSlowConsumer(true)
	case errors.Is(err, websocket.ErrMessageTooBig):
		s.deps.Metrics.Rejections.WithLabelValues("frame_too_big").Inc()
		s.closeWith(closeCause{code: websocket.StatusMessageTooBig,
			reason: "frame too big", peerGone: true})
	case status != -1:
		s.closeWith(closeCause{code: status, reason: "closed by client", peerGone: true})
	default:
		s.closeWith(closeCause{code: websocket.StatusAbnormalClosure,
			reason: "connection lost", peerGone: true})
	}
}

// sendError queues an Error frame and counts it.
func (s *Session) sendError(frame wire.Error) {
	s.deps.Metrics.RequestErrors.WithLabelValues(codeLabel(frame.Code)).Inc()
	s.deps.Metrics.Messages.WithLabelValues("out", "Error").Inc()
	s.Send(wire.MustEncode(frame))
}
