// Command gateway serves PerOXO's WebSocket protocol, the web client and the
// gateway's HTTP API.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/gateway/internal/config"
	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	"github.com/peroxo/peroxo/platform/logging"
	"github.com/peroxo/peroxo/platform/natsconn"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/platform/runner"
)

func main() {
	runner.Main(run)
}

func run(ctx context.Context) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	logger, err := logging.New(os.Stderr, cfg.Log, "gateway")
	if err != nil {
		return err
	}
	slog.SetDefault(logger)

	natsURL := cfg.NATSURL
	if natsURL == "" {
		embedded, err := natsbus.StartEmbedded(natsbus.EmbeddedOptions{
			ListenAddr:  cfg.NATSListenAddr,
			StoreDir:    cfg.DataDir,
			ServerName:  "peroxo-gateway-" + cfg.NodeID,
			ClusterName: cfg.NATSClusterName,
			ClusterAddr: cfg.NATSClusterAddr,
			Routes:      cfg.NATSRoutes,
		}, logger.With("component", "nats"))
		if err != nil {
			return err
		}
		defer embedded.Close()
		natsURL = embedded.ClientURL()
	}
	natsConn, err := natsconn.Connect(natsURL, "peroxo-gateway", logger.With("component", "nats"))
	if err != nil {
		return err
	}
	defer natsConn.Drain()

	registry := ops.NewRegistry()
	health := ops.NewHealth()
	health.AddCheck("nats", natsconn.ReadinessCheck(natsConn))
	mux := http.NewServeMux()
	health.Register(mux, registry)

	server, listener, err := runner.ListenHTTP("PEROXO_GATEWAY_ADDR", cfg.Addr,
		ops.NewHTTPMetrics(registry).Wrap(mux), logger)
	if err != nil {
		return err
	}
	logger.Info("gateway listening", "addr", listener.Addr().String())

	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() error {
		return runner.ServeHTTP(groupCtx, server, listener, cfg.ShutdownTimeout)
	})
	err = group.Wait()
	logger.Info("gateway stopped")
	return err
}
