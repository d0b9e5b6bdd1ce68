package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/embedded"
)

// SQLiteStore is the embedded [Store]. It uses a database opened by
// embedded.Open, which the caller owns and closes.
type SQLiteStore struct {
	db *sql.DB
}

// NewSQLiteStore returns a store on db.
func NewSQLiteStore(db *sql.DB) *SQLiteStore {
	return &SQLiteStore{db: db}
}

// Insert implements [Store].
func (s *SQLiteStore) Insert(ctx context.Context, tenant Tenant, keyHash string) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO tenants (project_id, name, key_hash, creator, created_at)
		 VALUES (?, ?, ?, ?, ?)`,
		tenant.ProjectID, tenant.Name, keyHash, tenant.Creator, tenant.CreatedAt.UnixMilli())
	if embedded.IsPrimaryKeyConflict(err) {
		return ErrExists
	}
	return err
}

// KeyHash implements [Store].
func (s *SQLiteStore) KeyHash(ctx context.Context, projectID string) (string, error) {
	var hash string
	err := s.db.QueryRowContext(ctx,
		`SELECT key_hash FROM tenants WHERE project_id = ?`, projectID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return hash, err
}

// List implements [Store].
func (s *SQLiteStore) List(ctx context.Context) ([]Tenant, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT project_id, name, creator, created_at FROM tenants
		 ORDER BY created_at, project_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []Tenant
	for rows.Next() {
		var tenant Tenant
		var createdAt int64
		if err := rows.Scan(&tenant.ProjectID, &tenant.Name, &tenant.Creator, &createdAt); err != nil {
			return nil, fmt.Errorf("scan tenant: %w", err)
		}
		tenant.CreatedAt = time.UnixMilli(createdAt).UTC()
		list = append(list, tenant)
	}
	return list, rows.Err()
}

// Ping implements [Store].
func (s *SQLiteStore) Ping(ctx context.Context) error {
	return s.db.PingContext(ctx)
}
