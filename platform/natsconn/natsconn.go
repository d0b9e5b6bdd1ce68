// Package natsconn connects services to NATS with retries, so a service may
// start before the NATS server it uses.
package natsconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect dials url and keeps retrying in the background, with exponential
// backoff capped at five seconds plus jitter, while the server is down, both
// at start and after a lost connection. The returned connection buffers
// publishes while it reconnects. name identifies the client in the
// server's monitoring; extra options follow the defaults.
func Connect(url, name string, logger *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	options := []nats.Option{
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				logger.Warn("nats connection lost", "err", err)
			}
		}),
		nats.ReconnectHandler(func(conn *nats.Conn) {
			logger.Info("nats connected", "url", conn.ConnectedUrlRedacted())
		}),
		nats.ConnectHandler(func(conn *nats.Conn) {
			logger.Info("nats connected", "url", conn.ConnectedUrlRedacted())
		}),
	}
	conn, err := nats.Connect(url, append(options, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats at %s: %w", url, err)
	}
	return conn, nil
}

func reconnectDelay(attempts int) time.Duration {
	delay := 100 * time.Millisecond << min(attempts, 6)
	delay = min(delay, 5*time.Second)
	return delay/2 + rand.N(delay/2+1)
}

// ReadinessCheck reports an error unless conn is connected.
func ReadinessCheck(conn *nats.Conn) func(context.Context) error {
	return func(context.Context) error {
		if !conn.IsConnected() {
			return errors.New("nats not connected: " + conn.Status().String())
		}
		return nil
	}
}
