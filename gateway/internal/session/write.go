package session

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// writeLoop writes queued frames until ctx ends. Writes get a context
// without a deadline, so the websocket library arms no timer per frame.
// Instead a watchdog timer, reset for each write, closes the connection
// when a write takes longer than the write timeout, which means the client
// stopped reading. The read loop may see the end first; it classifies it
// through writeStarted.
func (s *Session) writeLoop(ctx context.Context) {
	watchdog := time.AfterFunc(s.settings.WriteTimeout, s.closeStalledWrite)
	watchdog.Stop()
	defer watchdog.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case frame := <-s.out:
			s.writeStarted.Store(time.Now().UnixNano())
			watchdog.Reset(s.settings.WriteTimeout)
			err := s.conn.Write(context.Background(), websocket.MessageText, frame)
			watchdog.Stop()
			s.writeStarted.Store(0)
			if err != nil {
				if ctx.Err() == nil {
					s.closeSlowConsumer(true)
				}
				return
			}
		}
	}
}

// closeStalledWrite closes the session as a slow consumer and its
// connection, which ends the stalled write. It does nothing when the
// write finished while the watchdog fired.
func (s *Session) closeStalledWrite() {
	if !s.writeStalled() {
		return
	}
	s.closeSlowConsumer(true)
	_ = s.conn.CloseNow()
}

// writeStalled reports whether a write has been in progress for at least
// the write timeout, which means the watchdog closed the connection.
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
