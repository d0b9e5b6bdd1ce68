// Command consumer projects the chat event log into message history.
//
//	consumer [run]          project live through the shared durable consumer
//	consumer replay [flags] re-project stored events; see consumer replay -h
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/consumer/internal/config"
	"github.com/peroxo/peroxo/consumer/internal/projector"
	platformconfig "github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
	"github.com/peroxo/peroxo/platform/natsconn"
	"github.com/peroxo/peroxo/platform/ops"
	"github.com/peroxo/peroxo/platform/runner"
)

func main() {
	runner.Main(run)
}

func run(ctx context.Context) error {
	command, args := "run", os.Args[1:]
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		command, args = args[0], args[1:]
	}
	switch command {
	case "run":
		if len(args) > 0 {
			return fmt.Errorf("consumer run takes no arguments, got %q", args)
		}
		return runProjector(ctx)
	case "replay":
		return runReplay(ctx, args)
	}
	return fmt.Errorf("unknown command %q: expected run or replay", command)
}

// setup loads the settings, the logger and the NATS connection that both
// commands use.
func setup() (config.Config, *slog.Logger, *nats.Conn, jetstream.JetStream, error) {
	cfg, err := config.Load()
	if err != nil {
		return cfg, nil, nil, nil, err
	}
	logger, err := logging.New(os.Stderr, cfg.Log, "consumer")
	if err != nil {
		return cfg, nil, nil, nil, err
	}
	platformconfig.LogUnknownSettings(logger, &cfg, "PEROXO_CONSUMER_")
	slog.SetDefault(logger)
	conn, err := natsconn.Connect(cfg.NATSURL, "peroxo-consumer", logger.With("component", "nats"))
	if err != nil {
		return cfg, nil, nil, nil, err
	}
	js, err := jetstream.New(conn)
	if err != nil {
		conn.Close()
		return cfg, nil, nil, nil, fmt.Errorf("create jetstream context: %w", err)
	}
	return cfg, logger, conn, js, nil
}

func newWriter(cfg config.Config) *projector.ChatWriter {
	return projector.NewChatWriter(http.DefaultClient, cfg.ChatURL, cfg.WriteTimeout)
}

func runProjector(ctx context.Context) error {
	cfg, logger, conn, js, err := setup()
	if err != nil {
		return err
	}
	defer conn.Close()

	registry := ops.NewRegistry()
	health := ops.NewHealth()
	health.AddCheck("nats", natsconn.ReadinessCheck(conn))
	health.AddCheck("chatsvc", chatReadiness(cfg.ChatURL))
	mux := http.NewServeMux()
	health.Register(mux, registry)

	projection := projector.New(js, newWriter(cfg), projector.Options{
		Durable:    cfg.Durable,
		BatchSize:  cfg.BatchSize,
		BatchWait:  cfg.BatchWait,
		MaxDeliver: cfg.MaxDeliver,
		AckWait:    cfg.AckWait,
		RetryMin:   cfg.RetryMin,
		RetryMax:   cfg.RetryMax,
	}, projector.NewMetrics(registry), logger)

	server, listener, err := runner.ListenHTTP("PEROXO_CONSUMER_ADDR", cfg.Addr,
		ops.NewHTTPMetrics(registry).Wrap(mux), logger)
	if err != nil {
		return err
	}
	logger.Info("consumer listening", "addr", listener.Addr().String(),
		"nats", cfg.NATSURL, "chatsvc", cfg.ChatURL)

	group, groupCtx := errgroup.WithContext(ctx)
	group.Go(func() error {
		return runner.ServeHTTP(groupCtx, server, listener, cfg.ShutdownTimeout)
	})
	group.Go(func() error { return projection.Run(groupCtx) })
	err = group.Wait()
	logger.Info("consumer stopped")
	return err
}

// chatReadiness reports an error unless chatsvc's /readyz returns 200.
func chatReadiness(baseURL string) ops.ReadinessCheck {
	client := &http.Client{Timeout: 2 * time.Second}
	return func(ctx context.Context) error {
		request, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("build chatsvc readiness request: %w", err)
		}
		response, err := client.Do(request)
		if err != nil {
			return fmt.Errorf("reach chatsvc: %w", err)
		}
		response.Body.Close()
		if response.StatusCode != http.StatusOK {
			return errors.New("chatsvc not ready: " + response.Status)
		}
		return nil
	}
}
