package tokens

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/embedded"
)

// SQLiteStore is the embedded [Store]. It uses a database opened by
// embedded.Open, which the caller owns and closes. Expired rows are never
// returned; Run deletes them periodically so the file does not grow.
type SQLiteStore struct {
	db  *sql.DB
	now func() time.Time

	// prepareGet prepares the lookup once; parsing it on every call cost
	// about a tenth of a verification's CPU time.
	prepareGet func() (*sql.Stmt, error)
}

const getQuery = `SELECT project_id, user_id, expires_at FROM user_tokens
	WHERE token_hash = ? AND expires_at > ?`

// NewSQLiteStore returns a store on db that reads the time from now
// (time.Now when nil). The prepared lookup is released when db closes.
func NewSQLiteStore(db *sql.DB, now func() time.Time) *SQLiteStore {
	if now == nil {
		now = time.Now
	}
	return &SQLiteStore{
		db:  db,
		now: now,
		prepareGet: sync.OnceValues(func() (*sql.Stmt, error) {
			return db.Prepare(getQuery)
		}),
	}
}

// Put implements [Store].
func (s *SQLiteStore) Put(ctx context.Context, tokenHash string, identity Identity) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO user_tokens (token_hash, project_id, user_id, expires_at)
		 VALUES (?, ?, ?, ?)`,
		tokenHash, identity.ProjectID, identity.UserID, identity.ExpiresAt.UnixMilli())
	if embedded.IsPrimaryKeyConflict(err) {
		return ErrExists
	}
	return err
}

// Get implements [Store].
func (s *SQLiteStore) Get(ctx context.Context, tokenHash string) (Identity, error) {
	var identity Identity
	var expiresAt int64
	statement, err := s.prepareGet()
	if err != nil {
		return Identity{}, fmt.Errorf("prepare token lookup: %w", err)
	}
	err = statement.QueryRowContext(ctx, tokenHash, s.now().UnixMilli()).
		Scan(&identity.ProjectID, &identity.UserID, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Identity{}, ErrNotFound
	}
	if err != nil {
		return Identity{}, err
	}
	identity.ExpiresAt = time.UnixMilli(expiresAt).UTC()
	return identity, nil
}

// Ping implements [Store].
func (s *SQLiteStore) Ping(ctx context.Context) error {
	return s.db.PingContext(ctx)
}

// Sweep deletes expired tokens and ended rate-limit windows and returns how
// many rows it removed.
func (s *SQLiteStore) Sweep(ctx context.Context) (int64, error) {
	now := s.now().UnixMilli()
	var removed int64
	for _, statement := range []string{
		`DELETE FROM user_tokens WHERE expires_at <= ?`,
		`DELETE FROM rate_windows WHERE ends_at <= ?`,
	} {
		result, err := s.db.ExecContext(ctx, statement, now)
		if err != nil {
			return removed, fmt.Errorf("delete expired rows: %w", err)
		}
		count, _ := result.RowsAffected()
		removed += count
	}
	return removed, nil
}

// Run calls Sweep every interval until ctx is cancelled, then returns nil.
// A failed sweep is logged and retried at the next interval.
func (s *SQLiteStore) Run(ctx context.Context, interval time.Duration, logger *slog.Logger) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		removed, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Warn("sweep of expired tokens failed", "err", err)
			continue
		}
		if removed > 0 {
			logger.Debug("swept expired tokens and rate windows", "rows", removed)
		}
	}
}
