// Package natsbus starts the embedded NATS server and connects to NATS.
package natsbus

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedOptions configures the NATS server that runs inside the gateway.
type EmbeddedOptions struct {
	// ListenAddr is the host:port for NATS clients; port 0 picks a free one.
	ListenAddr string
	// StoreDir holds JetStream's files.
	StoreDir string
	// ServerName must be unique within a cluster.
	ServerName string
}

// Embedded is a NATS server with JetStream running in this process.
type Embedded struct {
	server *server.Server
}

// StartEmbedded starts a JetStream-enabled NATS server and waits until it
// accepts clients.
func StartEmbedded(options EmbeddedOptions, logger *slog.Logger) (*Embedded, error) {
	host, portText, err := net.SplitHostPort(options.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("parse nats listen address %q: %w", options.ListenAddr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("parse nats listen port %q: %w", portText, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	natsServer, err := server.NewServer(&server.Options{
		ServerName: options.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(options.StoreDir, "jetstream"),
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("configure embedded nats server: %w", err)
	}
	natsServer.Start()
	if !natsServer.ReadyForConnections(30 * time.Second) {
		natsServer.Shutdown()
		return nil, fmt.Errorf("embedded nats server did not accept clients on %s within 30s", options.ListenAddr)
	}
	logger.Info("embedded nats server started", "url", natsServer.ClientURL(), "store_dir", options.StoreDir)
	return &Embedded{server: natsServer}, nil
}

// ClientURL returns the URL NATS clients use to reach the server.
func (e *Embedded) ClientURL() string { return e.server.ClientURL() }

// Close shuts the server down and waits for it to stop. It is idempotent.
func (e *Embedded) Close() {
	e.server.Shutdown()
	e.server.WaitForShutdown()
}
