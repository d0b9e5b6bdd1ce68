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
// reuse. A longer one, left by a burst, is let go, so an idle session
// holds at most two small arrays.
const maxSpareBatch = 8

// writeLoop writes queued frames until the session closes. It also pings
// the client. It closes the session when a pong is late, when no frame
// arrived within the idle timeout, or when the token expires without a
// refresh. When ctx ends it closes the session with code 1001.
//
// Each wake-up takes every queued frame and writes them with one flush,
// so a client that fell behind costs one system call per batch, not one
// per frame. Pings, pongs and the token expiry share one timer, so a
// wake-up selects over few channels. When the session closes, the write
// loop unregisters it and sends the close frame, or closes the connection
// when the peer is gone.
func (s *Session) writeLoop(ctx context.Context) {
	defer s.finish()
	stopCtx := context.AfterFunc(ctx, func() {
		s.closeWith(closeCause{code: wire.CloseGoingAway, reason: wire.ReasonGoingAway})
	})
	defer stopCtx()
	keepalive := keepalive{nextPing: time.Now().Add(s.settings.PingInterval)}
	timer := time.NewTimer(time.Until(keepalive.next(s)))
	defer timer.Stop()
	// flushDue fires WriteDelay after a wake-up. It is nil while no delay
	// runs, and a nil channel never fires.
	var flushDue <-chan time.Time
	delay := time.NewTimer(s.settings.WriteDelay)
	delay.Stop()
	defer delay.Stop()
	var batch [][]byte
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
		case <-s.closing:
			return
		case <-s.wake:
			if s.rearm.Swap(false) {
				timer.Reset(time.Until(keepalive.next(s)))
			}
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
		case now := <-timer.C:
			if !keepalive.run(s, now) {
				return
			}
			timer.Reset(time.Until(keepalive.next(s)))
		}
	}
}

// keepalive is the write loop's ping and expiry state.
type keepalive struct {
	nextPing time.Time
	// pingSent is when the ping in flight went out, or zero when none is.
	pingSent time.Time
}

// next returns when run must look again: the next ping, the pong's due
// time or the token expiry, whichever comes first.
func (k *keepalive) next(s *Session) time.Time {
	next := k.nextPing
	if !k.pingSent.IsZero() {
		next = minTime(next, k.pingSent.Add(s.settings.PongTimeout))
	}
	if expiresAt := s.expiresAt.Load(); expiresAt != 0 {
		next = minTime(next, time.Unix(0, expiresAt))
	}
	return next
}

// run closes the session when its token expired, a pong is late or the
// client was idle too long, and sends the next ping when due. It returns
// false when the session closes.
func (k *keepalive) run(s *Session, now time.Time) bool {
	if expiresAt := s.expiresAt.Load(); expiresAt != 0 && !now.Before(time.Unix(0, expiresAt)) {
		s.logger.Info("closing session: token expired")
		s.closeWith(closeCause{code: wire.CloseTokenExpired, reason: wire.ReasonTokenExpired})
		return false
	}
	if !k.pingSent.IsZero() && !now.Before(k.pingSent.Add(s.settings.PongTimeout)) {
		if s.conn.LastPong().Before(k.pingSent) {
			s.closeWith(closeCause{code: wire.ClosePongTimeout, reason: wire.ReasonPongTimeout})
			return false
		}
		k.pingSent = time.Time{}
	}
	if now.Before(k.nextPing) {
		return true
	}
	k.nextPing = now.Add(s.settings.PingInterval)
	lastActive := time.Unix(0, s.lastRead.Load())
	if pong := s.conn.LastPong(); pong.After(lastActive) {
		lastActive = pong
	}
	if now.Sub(lastActive) > s.settings.IdleTimeout {
		s.closeWith(closeCause{code: wire.CloseIdleTimeout, reason: wire.ReasonIdleTimeout})
		return false
	}
	if !k.pingSent.IsZero() {
		return true
	}
	if err := s.conn.Ping(); err != nil {
		s.closeAfterWriteError(err)
		return false
	}
	k.pingSent = now
	return true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
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
// drop once. It also ends a batch write in progress, which would otherwise
// hold the session for up to the write timeout. The close frame goes out
// only when that write did not stop halfway through a frame.
func (s *Session) closeSlowConsumer(peerGone bool) {
	if s.closeWith(closeCause{code: wire.CloseSlowConsumer,
		reason: wire.ReasonSlowConsumer, peerGone: peerGone}) {
		if conn := s.sharedConn.Load(); conn != nil {
			conn.AbortWrites()
		}
		s.deps.Metrics.SlowConsumerDrops.Inc()
		s.logger.Info("closing slow consumer", "queue", s.settings.QueueLength)
	}
}
