package session

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// writeLoop writes queued frames until ctx ends. A write that does not
// finish within the write timeout means the client stopped reading, so the
// session closes as a slow consumer. The websocket library closes the
// connection when the write times out, so the read loop may see the end
// first; it classifies it through writeStarted.
func (s *Session) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case frame := <-s.out:
			writeCtx, cancel := context.WithTimeout(ctx, s.settings.WriteTimeout)
			s.writeStarted.Store(time.Now().UnixNano())
			err := s.conn.Write(writeCtx, websocket.MessageText, frame)
			s.writeStarted.Store(0)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					s.closeSlowConsumer(true)
				}
				return
			}
		}
	}
}

// writeStalled reports whether a write has been in progress for at least
// the write timeout, which means the library closed the connection for it.
func (s *Session) writeStalled() bool {
	started := s.writeStarted.Load()
	return started != 0 && time.Since(time.Unix(0, started)) >= s.settings.WriteTimeout
}

// closeSlowConsumer closes the session as a slow consumer and counts the
// drop once.
func (s *Session) closeSlowConsumer(peerGone bool) {
	if s.closeWith(closeCause{code: websocket.StatusCode(wire.CloseSlowConsumer),
		reason: wire.ReasonSlowConsumer, peerGone: peerGone}) {
		s.deps.Metrics.SlowConsumerDrops.Inc()
		s.logger.Info("closing slow consumer", "queue", cap(s.out))
	}
}
