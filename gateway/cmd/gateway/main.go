// Command gateway serves PerOXO's WebSocket protocol, the web client and the
// gateway's HTTP API.
package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/gateway/internal/app"
	"github.com/peroxo/peroxo/gateway/internal/auth"
	"github.com/peroxo/peroxo/gateway/internal/config"
	"github.com/peroxo/peroxo/gateway/internal/history"
	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	"github.com/peroxo/peroxo/gateway/internal/router"
	"github.com/peroxo/peroxo/gateway/internal/web"
	platformconfig "github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
	"github.com/peroxo/peroxo/platform/natsconn"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/platform/runner"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
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
	platformconfig.LogUnknownSettings(logger, &cfg, "PEROXO_GATEWAY_")
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
	natsConn, err := natsconn.Connect(natsURL, "peroxo-gateway", logger.With("component", "nats"),
		natsbus.ConnectOptions()...)
	if err != nil {
		return err
	}
	defer natsConn.Drain()

	// The bus calls its handlers from NATS goroutines as soon as it exists,
	// before the router does; until then remote events are dropped.
	var routerRef atomic.Pointer[router.Router]
	bus, err := natsbus.New(natsConn, natsbus.OptionsFromConfig(cfg), natsbus.Handlers{
		OnEvent: func(event *eventsv1.ChatEvent) {
			if r := routerRef.Load(); r != nil {
				r.HandleRemoteEvent(event)
			}
		},
		OnPresence: func(event *eventsv1.PresenceEvent) {
			if r := routerRef.Load(); r != nil {
				r.HandleRemotePresence(event)
			}
		},
		OnEventsDropped: func(count int) {
			if r := routerRef.Load(); r != nil {
				r.HandleDroppedRemoteEvents(count)
			}
		},
	}, logger)
	if err != nil {
		return err
	}
	defer bus.Close()

	registry := ops.NewRegistry()
	serviceHTTP := auth.DefaultHTTPClient(cfg.Limits.RequestTimeout)
	gateway := app.New(cfg, app.Dependencies{
		Bus:      bus,
		Verifier: auth.NewVerifier(serviceHTTP, cfg.AuthURL),
		History:  history.New(serviceHTTP, cfg.ChatURL, logger),
		Auth:     authv1connect.NewAuthServiceClient(serviceHTTP, cfg.AuthURL),
		Registry: registry,
		Logger:   logger,
	})
	routerRef.Store(gateway.Router())

	health := ops.NewHealth()
	health.AddCheck("nats", natsconn.ReadinessCheck(natsConn))
	mux := http.NewServeMux()
	health.Register(mux, registry)
	gateway.Register(mux)
	// The web client is the fallback for every GET no other route matches.
	mux.Handle("GET /", web.Handler(web.Options{DevMode: cfg.Dev.Enabled}))

	server, listener, err := runner.ListenHTTP("PEROXO_GATEWAY_ADDR", cfg.Addr,
		ops.NewHTTPMetrics(registry).Wrap(mux), logger)
	if err != nil {
		return err
	}
	logger.Info("gateway listening", "addr", listener.Addr().String(),
		"node", cfg.NodeID, "dev_mode", cfg.Dev.Enabled)

	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() error { return bus.Run(groupCtx) })
	group.Go(func() error { return gateway.Run(groupCtx) })
	group.Go(func() error {
		return runner.ServeHTTP(groupCtx, server, listener, cfg.ShutdownTimeout)
	})
	if cfg.PprofAddr != "" {
		group.Go(func() error { return serveProfiles(groupCtx, cfg, logger) })
	}
	err = group.Wait()
	logger.Info("gateway stopped")
	return err
}

// serveProfiles serves net/http/pprof on PEROXO_GATEWAY_PPROF_ADDR until
// ctx ends.
func serveProfiles(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	server, listener, err := runner.ListenHTTP("PEROXO_GATEWAY_PPROF_ADDR", cfg.PprofAddr,
		mux, logger)
	if err != nil {
		return err
	}
	logger.Info("serving runtime profiles", "addr", listener.Addr().String())
	return runner.ServeHTTP(ctx, server, listener, cfg.ShutdownTimeout)
}
