// Package backends opens the tenant store, token store and rate limiter
// that the settings select, for the server and the tenants CLI alike.
package backends

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/peroxo/peroxo/authsvc/internal/config"
	"github.com/peroxo/peroxo/authsvc/internal/embedded"
	"github.com/peroxo/peroxo/authsvc/internal/ratelimit"
	"github.com/peroxo/peroxo/authsvc/internal/tenants"
	"github.com/peroxo/peroxo/authsvc/internal/tokens"
	"github.com/peroxo/peroxo/platform/ops"
)

// openTimeout bounds connecting to every backend and migrating schemas,
// so an unreachable server fails the start instead of hanging it.
const openTimeout = 30 * time.Second

// Backends are the opened stores. The caller owns them and calls Close.
type Backends struct {
	Tenants       tenants.Store
	Tokens        tokens.Store
	TenantLimiter ratelimit.Limiter
	// Sweeper deletes expired rows of the embedded token store; nil with
	// Redis, which expires keys itself.
	Sweeper *tokens.SQLiteStore
	// Checks ping each backend, for /readyz.
	Checks map[string]ops.ReadinessCheck

	closers []func() error
}

// Open connects to the configured backends, migrating schemas as needed.
// The tenants CLI uses only Tenants but opens the same set, so that a
// broken setting is reported the same way as by the server.
func Open(ctx context.Context, cfg config.Config) (*Backends, error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	b := &Backends{Checks: make(map[string]ops.ReadinessCheck)}
	if err := b.open(ctx, cfg); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Backends) open(ctx context.Context, cfg config.Config) error {
	var db *sql.DB
	if cfg.TenantStore == config.BackendEmbedded || cfg.TokenStore == config.BackendEmbedded {
		var err error
		db, err = embedded.Open(ctx, cfg.DataDir)
		if err != nil {
			return err
		}
		b.closers = append(b.closers, db.Close)
		b.Checks["sqlite"] = db.PingContext
	}

	switch cfg.TenantStore {
	case config.BackendPostgres:
		store, err := tenants.OpenPostgres(ctx, cfg.PostgresURL)
		if err != nil {
			return err
		}
		b.closers = append(b.closers, func() error { store.Close(); return nil })
		b.Tenants = store
		b.Checks["postgres"] = store.Ping
	default:
		b.Tenants = tenants.NewSQLiteStore(db)
	}

	rule := ratelimit.Rule{Limit: cfg.TenantRateLimit, Window: cfg.TenantRateWindow}
	switch cfg.TokenStore {
	case config.BackendRedis:
		options, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("parse PEROXO_AUTH_REDIS_URL: %w", err)
		}
		client := redis.NewClient(options)
		b.closers = append(b.closers, client.Close)
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("connect to redis: %w", err)
		}
		b.Tokens = tokens.NewRedisStore(client, cfg.RedisPrefix)
		b.TenantLimiter = ratelimit.NewRedisLimiter(client, cfg.RedisPrefix, rule)
		b.Checks["redis"] = func(ctx context.Context) error { return client.Ping(ctx).Err() }
	default:
		b.Sweeper = tokens.NewSQLiteStore(db, nil)
		b.Tokens = b.Sweeper
		b.TenantLimiter = ratelimit.NewSQLiteLimiter(db, rule, nil)
	}
	return nil
}

// Close releases every backend, in reverse order of opening. It is safe to
// call more than once.
func (b *Backends) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}
