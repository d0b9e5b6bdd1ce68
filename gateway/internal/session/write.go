package session

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// writeLoop writes queued frames until ctx ends, and keeps the connection
// alive: it pings the client, closes the session when a pong is late, when
// no frame arrived within the idle timeout, or when the token expires
// without a refresh. A refresh arrives on s.refreshed.
//
// Writes get a context without a deadline, so the websocket library arms
// no timer per frame. Instead a watchdog timer, reset for each write,
// closes the connection when a write takes longer than the write timeout,
// which means the client stopped reading. The read loop may see the end
// first; it classifies it through writeStarted.
func (s *Session) writeLoop(ctx context.Context) {
	watchdog := time.AfterFunc(s.settings.WriteTimeout, s.closeStalledWrite)
	watchdog.Stop()
	defer watchdog.Stop()
	ping := time.NewTicker(s.settings.PingInterval)
	defer ping.Stop()
	// A token without an expiry never closes the session.
	expiry := time.NewTimer(time.Until(s.identity.ExpiresAt))
	defer expiry.Stop()
	if s.identity.ExpiresAt.IsZero() {
		expiry.Stop()
	}
	// pong receives the outcome of the ping in flight; it is nil while no
	// ping is in flight.
	var pong chan error
	defer func() {
		if pong != nil {
			<-pong
		}
	}()
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
		case expiresAt := <-s.refreshed:
			expiry.Reset(time.Until(expiresAt))
		case <-expiry.C:
			s.logger.Info("closing session: token expired")
			s.closeWith(closeCause{code: websocket.StatusCode(wire.CloseTokenExpired),
				reason: wire.ReasonTokenExpired})
			return
		case <-ping.C:
			idle := time.Since(time.Unix(0, s.lastRead.Load()))
			if idle > s.settings.IdleTimeout {
				s.closeWith(closeCause{code: websocket.StatusCode(wire.CloseIdleTimeout),
					reason: wire.ReasonIdleTimeout})
				return
			}
			if pong == nil {
				pong = make(chan error, 1)
				go s.ping(ctx, pong)
			}
		case err := <-pong:
			pong = nil
			if err != nil && ctx.Err() == nil {
				s.closeWith(closeCause{code: websocket.StatusCode(wire.ClosePongTimeout),
					reason: wire.ReasonPongTimeout})
				return
			}
		}
	}
}

// ping sends a ping and sends the outcome to pong once the pong arrived or
// the pong timeout passed. It runs in its own goroutine because
// websocket.Conn.Ping waits for the pong, which must not hold up writes.
func (s *Session) ping(ctx context.Context, pong chan<- error) {
	ctx, cancel := context.WithTimeout(ctx, s.settings.PongTimeout)
	defer cancel()
	pong <- s.conn.Ping(ctx)
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
