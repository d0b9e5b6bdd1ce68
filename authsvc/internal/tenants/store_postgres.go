package tenants

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var postgresMigrations embed.FS

// PostgresStore is the production [Store] on a pgx connection pool.
type PostgresStore struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to url, applies pending schema migrations and
// returns a store. Migrations run under a PostgreSQL advisory lock, so
// several replicas may start at once. Close releases the pool.
func OpenPostgres(ctx context.Context, url string) (*PostgresStore, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := migratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate postgres tenant schema: %w", err)
	}
	return &PostgresStore{pool: pool}, nil
}

func migratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	files, err := fs.Sub(postgresMigrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, files,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// Close releases the connection pool. It is safe to call more than once.
func (s *PostgresStore) Close() {
	s.pool.Close()
}

// Insert implements [Store].
func (s *PostgresStore) Insert(ctx context.Context, tenant Tenant, keyHash string) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO tenants (project_id, name, key_hash, creator, created_at)
		 VALUES ($1, $2, $3, $4, $5)`,
		tenant.ProjectID, tenant.Name, keyHash, tenant.Creator, tenant.CreatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return ErrExists
	}
	return err
}

// KeyHash implements [Store].
func (s *PostgresStore) KeyHash(ctx context.Context, projectID string) (string, error) {
	var hash string
	err := s.pool.QueryRow(ctx,
		`SELECT key_hash FROM tenants WHERE project_id = $1`, projectID).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return hash, err
}

// List implements [Store].
func (s *PostgresStore) List(ctx context.Context) ([]Tenant, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT project_id, name, creator, created_at FROM tenants
		 ORDER BY created_at, project_id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tenant, error) {
		var tenant Tenant
		err := row.Scan(&tenant.ProjectID, &tenant.Name, &tenant.Creator, &tenant.CreatedAt)
		tenant.CreatedAt = tenant.CreatedAt.UTC()
		return tenant, err
	})
}

// Ping implements [Store].
func (s *PostgresStore) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}
