// Command authsvc manages tenants, API keys and user tokens.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/authsvc/internal/config"
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
	logger, err := logging.New(os.Stderr, cfg.Log, "authsvc")
	if err != nil {
		return err
	}
	slog.SetDefault(logger)

	registry := ops.NewRegistry()
	health := ops.NewHealth()
	mux := http.NewServeMux()
	health.Register(mux, registry)

	server, listener, err := runner.ListenHTTP("PEROXO_AUTH_ADDR", cfg.Addr,
		ops.NewHTTPMetrics(registry).Wrap(mux), logger)
	if err != nil {
		return err
	}
	logger.Info("authsvc listening", "addr", listener.Addr().String())

	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() error {
		return runner.ServeHTTP(groupCtx, server, listener, cfg.ShutdownTimeout)
	})
	err = group.Wait()
	logger.Info("authsvc stopped")
	return err
}
