package session

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/wire"
	"github.com/peroxo/peroxo/gateway/internal/wsconn"
)

// maxSpareBatch is the largest batch array the write loop keeps for
// reuse; a longer one, left by a burst, is let go, so an idle session
// holds at most two small arrays.
const maxSpareBatch = 8

// writeLoop writes queued frames until the session closes. It also pings
// the client. It closes the session when a pong is late, when no frame
// arrived within the idle timeout, or when the token expires without a
// refresh (which arrives on s.refreshed). When ctx ends it closes the
// session with code 1001.
//
// Each wake-up takes every queued frame and writes them with one flush,
// so a client that fell behind costs one system call per batch, not one
// per frame. When the session closes, the write loop unregisters it and
// sends the close frame, or closes the connection when the peer is gone.
func (s *Session) writeLoop(ctx context.Context) {
	defer s.finish()
	ping := time.NewTicker(s.settings.PingInterval)
	defer ping.Stop()
	// A token without an expiry never closes the session.
	expiry := time.NewTimer(time.Until(s.identity.ExpiresAt))
	defer expiry.Stop()
	if s.identity.ExpiresAt.IsZero() {
		expiry.Stop()
	}
	pongDue := time.NewTimer(s.settings.PongTimeout)
	pongDue.Stop()
	defer pongDue.Stop()
	// pingSent is when the ping in flight went out; zero when none is.
	var pingSent time.Time
	var batch [][]byte
	// flushDue fires WriteDelay after a wake-up; it is nil while the
	// setting is 0, and a nil channel never fires.
	var flushDue <-chan time.Time
	delay := time.NewTimer(s.settings.WriteDelay)
	delay.Stop()
	defer delay.Stop()
	write := func() bool {
		batch = s.takeQueue(batch)
		err := s.conn.WriteText(batch)
		clear(batch)
		if cap(batch) > maxSpareBatch {
			batch = nil
		}
		if err != nil {
			s.closeAfterWriteError(err)
			return false
		}
		return true
	}
	for {
		select {
		case <-ctx.Done():
			s.closeWith(closeCause{code: wire.CloseGoingAway, reason: wire.ReasonGoingAway})
			return
		case <-s.closing:
			return
		case <-s.wake:
			if s.settings.WriteDelay > 0 {
				if flushDue == nil {
					delay.Reset(s.settings.WriteDelay)
					flushDue = delay.C
				}
				continue
			}
			if !write() {
				return
			}
		case <-flushDue:
			flushDue = nil
			if !write() {
				return
			}
		case expiresAt := <-s.refreshed:
			expiry.Reset(time.Until(expiresAt))
		case <-expiry.C:
			s.logger.Info("closing session: token expired")
			s.closeWith(closeCause{code: wire.CloseTokenExpired, reason: wire.ReasonTokenExpired})
			return
		case now := <-ping.C:
			if now.Sub(time.Unix(0, s.lastRead.Load())) > s.settings.IdleTimeout {
				s.closeWith(closeCause{code: wire.CloseIdleTimeout, reason: wire.ReasonIdleTimeout})
				return
			}
			if !pingSent.IsZero() {
				continue
			}
			if err := s.conn.Ping(); err != nil {
				s.closeAfterWriteError(err)
				return
			}
			pingSent = now
			pongDue.Reset(s.settings.PongTimeout)
		case <-pongDue.C:
			if s.conn.LastPong().Before(pingSent) {
				s.closeWith(closeCause{code: wire.ClosePongTimeout, reason: wire.ReasonPongTimeout})
				return
			}
			pingSent = time.Time{}
		}
	}
}

// finish runs when the write loop ends: the session leaves the router and
// the client gets the close frame, or loses the connection when it is
// gone already. The read loop then ends with the client's close frame or
// the close timeout.
func (s *Session) finish() {
	s.deps.Router.Unregister(s)
	if s.cause.peerGone {
		_ = s.conn.CloseNow()
		return
	}
	if err := s.conn.WriteClose(int(s.cause.code), s.cause.reason); err != nil {
		_ = s.conn.CloseNow()
	}
}

// closeAfterWriteError ends the session after a failed write. A write past
// the write timeout means the client stopped reading: a slow consumer.
func (s *Session) closeAfterWriteError(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.closeSlowConsumer(true)
		return
	}
	s.closeWith(closeCause{code: wire.CloseCode(wsconn.StatusAbnormalClosure), reason: "connection lost",
		peerGone: true})
}

// closeSlowConsumer closes the session as a slow consumer and counts the
// drop once.
func (s *Session) closeSlowConsumer(peerGone bool) {
	if s.closeWith(closeCause{code: wire.CloseSlowConsumer,
		reason: wire.ReasonSlowConsumer, peerGone: peerGone}) {
		s.deps.Metrics.SlowConsumerDrops.Inc()
		s.logger.Info("closing slow consumer", "queue", s.settings.QueueLength)
	}
}
