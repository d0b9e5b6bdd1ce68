package session

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

// keepaliveLoop pings the client, closes the session when a pong is late,
// when no frame arrived within the idle timeout, or when the token expires
// without a refresh. A refresh arrives on s.refreshed.
func (s *Session) keepaliveLoop(ctx context.Context) {
	ping := time.NewTicker(s.settings.PingInterval)
	defer ping.Stop()
	// A token without an expiry never closes the session.
	expiry := time.NewTimer(time.Until(s.identity.ExpiresAt))
	defer expiry.Stop()
	if s.identity.ExpiresAt.IsZero() {
		expiry.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
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
			pingCtx, cancel := context.WithTimeout(ctx, s.settings.PongTimeout)
			err := s.conn.Ping(pingCtx)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.closeWith(closeCause{code: websocket.StatusCode(wire.ClosePongTimeout),
					reason: wire.ReasonPongTimeout})
				return
			}
		}
	}
}
