// Package natsbus starts the embedded NATS server and connects to NATS.
package natsbus

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
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
	// ClusterName joins the server to a NATS cluster of that name; empty
	// runs it alone. JetStream in a cluster keeps its metadata in a Raft
	// group, so it needs a majority of the servers it has seen: three
	// servers tolerate one down, and two stop JetStream when either is down.
	ClusterName string
	// ClusterAddr is the host:port where the server accepts routes from
	// other cluster members; port 0 picks a free one.
	ClusterAddr string
	// Routes are the route URLs (nats-route://host:port) of other members.
	// One reachable member is enough because members share their routes.
	Routes []string
}

// Embedded is a NATS server with JetStream running in this process.
type Embedded struct {
	server *server.Server
}

// StartEmbedded starts a JetStream-enabled NATS server and waits until it
// accepts clients.
func StartEmbedded(options EmbeddedOptions, logger *slog.Logger) (*Embedded, error) {
	host, port, err := splitListenAddr(options.ListenAddr)
	if err != nil {
		return nil, err
	}
	serverOptions := &server.Options{
		ServerName: options.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(options.StoreDir, "jetstream"),
		NoSigs:     true,
		NoLog:      true,
	}
	if options.ClusterName != "" {
		clusterHost, clusterPort, err := splitListenAddr(options.ClusterAddr)
		if err != nil {
			return nil, err
		}
		serverOptions.Cluster = server.ClusterOpts{
			Name: options.ClusterName,
			Host: clusterHost,
			Port: clusterPort,
		}
		serverOptions.Routes = server.RoutesFromStr(strings.Join(options.Routes, ","))
	}
	natsServer, err := server.NewServer(serverOptions)
	if err != nil {
		return nil, fmt.Errorf("configure embedded nats server: %w", err)
	}
	natsServer.Start()
	if !natsServer.ReadyForConnections(30 * time.Second) {
		natsServer.Shutdown()
		return nil, fmt.Errorf("embedded nats server did not accept clients on %s within 30s", options.ListenAddr)
	}
	logger.Info("embedded nats server started", "url", natsServer.ClientURL(),
		"store_dir", options.StoreDir, "cluster", options.ClusterName)
	return &Embedded{server: natsServer}, nil
}

// splitListenAddr parses host:port, mapping port 0 to the server's
// "pick a free port" value.
func splitListenAddr(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("parse nats listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return "", 0, fmt.Errorf("parse nats listen port %q: %w", portText, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// ClientURL returns the URL NATS clients use to reach the server.
func (e *Embedded) ClientURL() string { return e.server.ClientURL() }

// ClusterURL returns the route URL other cluster members use to join this
// server, or "" when it runs alone.
func (e *Embedded) ClusterURL() string {
	addr := e.server.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats-route://" + addr.String()
}

// Close shuts the server down and waits for it to stop. It is idempotent.
func (e *Embedded) Close() {
	e.server.Shutdown()
	e.server.WaitForShutdown()
}
