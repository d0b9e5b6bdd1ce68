package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/authsvc/internal/api"
	"github.com/peroxo/peroxo/authsvc/internal/backends"
	"github.com/peroxo/peroxo/authsvc/internal/config"
	"github.com/peroxo/peroxo/authsvc/internal/googleid"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/platform/runner"
)

// keyFetchTimeout bounds one fetch of the Google signing keys.
const keyFetchTimeout = 10 * time.Second

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	stores, err := backends.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer stores.Close()

	registry := ops.NewRegistry()
	health := ops.NewHealth()
	for name, check := range stores.Checks {
		health.AddCheck(name, check)
	}
	service := api.NewService(api.Options{
		Tenants:       stores.Tenants,
		Tokens:        stores.Tokens,
		TenantLimiter: stores.TenantLimiter,
		Google: googleid.New(cfg.GoogleIssuer, cfg.GoogleJWKSURL, cfg.GoogleClientID,
			&http.Client{Timeout: keyFetchTimeout}),
		AdminToken: cfg.AdminToken,
		TokenTTL:   cfg.TokenTTL,
		Metrics:    api.NewMetrics(registry),
		Logger:     logger,
	})
	mux := http.NewServeMux()
	health.Register(mux, registry)
	service.Register(mux, api.Readiness(stores.Checks), ops.NewRPCMetricsInterceptor(registry))
	handler := api.WithCORS(ops.NewHTTPMetrics(registry).Wrap(mux), cfg.CORSOrigins)

	server, listener, err := runner.ListenHTTP("PEROXO_AUTH_ADDR", cfg.Addr, handler, logger)
	if err != nil {
		return err
	}
	logger.Info("authsvc listening", "addr", listener.Addr().String(),
		"tenant_store", cfg.TenantStore, "token_store", cfg.TokenStore,
		"google_sign_in", cfg.GoogleClientID != "", "admin_token", cfg.AdminToken != "")

	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() error {
		return runner.ServeHTTP(groupCtx, server, listener, cfg.ShutdownTimeout)
	})
	if stores.Sweeper != nil {
		group.Go(func() error {
			return stores.Sweeper.Run(groupCtx, cfg.SweepInterval,
				logger.With("component", "token-sweeper"))
		})
	}
	err = group.Wait()
	logger.Info("authsvc stopped")
	return err
}
