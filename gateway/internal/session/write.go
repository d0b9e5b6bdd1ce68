package session

import (
	"context"

	"github.com/coder/websocket"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// writeLoop writes queued frames until ctx ends. A write that does not
// finish within the write timeout means the client stopped reading, so the
// session closes as a slow consumer.
func (s *Session) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case frame := <-s.out:
			writeCtx, cancel := context.WithTimeout(ctx, s.settings.WriteTimeout)
			err := s.conn.Write(writeCtx, websocket.MessageText, frame)
			cancel()
			if err != nil {
				if ctx.Err() == nil && s.closeWith(closeCause{
					code:     websocket.StatusCode(wire.CloseSlowConsumer),
					reason:   wire.ReasonSlowConsumer,
					peerGone: true,
				}) {
					s.deps.Metrics.SlowConsumerDrops.Inc()
				}
				return
			}
		}
	}
}
