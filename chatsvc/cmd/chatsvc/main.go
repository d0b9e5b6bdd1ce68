// Command chatsvc stores message history and serves it over Connect-RPC.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"connectrpc.com/connect"
	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/chatsvc/internal/chatrpc"
	"github.com/peroxo/peroxo/chatsvc/internal/config"
	"github.com/peroxo/peroxo/chatsvc/internal/store"
	platformconfig "github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
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
	logger, err := logging.New(os.Stderr, cfg.Log, "chatsvc")
	if err != nil {
		return err
	}
	platformconfig.LogUnknownSettings(logger, &cfg, "PEROXO_CHAT_")
	slog.SetDefault(logger)

	history, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer history.Close()

	registry := ops.NewRegistry()
	instrumented := store.NewInstrumented(history, registry)
	health := ops.NewHealth()
	health.AddCheck("store", instrumented.Ping)
	mux := http.NewServeMux()
	health.Register(mux, registry)

	server := chatrpc.NewServer(instrumented, chatrpc.Limits{
		MaxContentBytes: cfg.MaxContentBytes,
		MaxBatch:        cfg.MaxBatch,
	}, logger)
	server.Register(mux, connect.WithInterceptors(ops.NewRPCMetricsInterceptor(registry)))

	httpServer, listener, err := runner.ListenHTTP("PEROXO_CHAT_ADDR", cfg.Addr,
		ops.NewHTTPMetrics(registry).Wrap(mux), logger)
	if err != nil {
		return err
	}
	logger.Info("chatsvc listening", "addr", listener.Addr().String())

	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() error {
		return runner.ServeHTTP(groupCtx, httpServer, listener, cfg.ShutdownTimeout)
	})
	err = group.Wait()
	logger.Info("chatsvc stopped")
	return err
}

// openStore opens the history store that the settings select.
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger) (store.Store, error) {
	if cfg.StoreKind() == config.StoreEmbedded {
		history, err := store.OpenSQLite(ctx, cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("open embedded store: %w", err)
		}
		logger.Info("history store opened", "store", "embedded", "dir", cfg.DataDir)
		return history, nil
	}
	history, err := store.OpenCQL(ctx, store.CQLConfig{
		Hosts:            cfg.CQLHosts,
		Keyspace:         cfg.CQLKeyspace,
		Replication:      cfg.CQLReplication,
		Consistency:      cfg.CQLConsistency,
		Timeout:          cfg.CQLTimeout,
		ConnectTimeout:   cfg.CQLConnectTimeout,
		Bucket:           cfg.CQLBucket,
		WriteConcurrency: cfg.CQLWriteConcurrency,
		Logger:           logger.With("component", "gocql"),
	})
	if err != nil {
		return nil, fmt.Errorf("open cql store: %w", err)
	}
	logger.Info("history store opened", "store", "cql", "hosts", cfg.CQLHosts,
		"keyspace", cfg.CQLKeyspace)
	return history, nil
}
