package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SQLiteLimiter is the embedded [Limiter], sharing the database that
// embedded.Open returns; the caller owns it. The token store's sweep
// deletes ended windows.
type SQLiteLimiter struct {
	db   *sql.DB
	rule Rule
	now  func() time.Time
}

// NewSQLiteLimiter returns a limiter on db that reads the time from now
// (time.Now when nil).
func NewSQLiteLimiter(db *sql.DB, rule Rule, now func() time.Time) *SQLiteLimiter {
	if now == nil {
		now = time.Now
	}
	return &SQLiteLimiter{db: db, rule: rule, now: now}
}

// Allow implements [Limiter]. One upsert counts the event and restarts an
// ended window. The right-hand sides of its SET clause read the row as it
// was before the update.
func (l *SQLiteLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	now := l.now().UnixMilli()
	end := now + l.rule.Window.Milliseconds()
	var count, endsAt int64
	err := l.db.QueryRowContext(ctx,
		`INSERT INTO rate_windows (key, started_at, ends_at, count) VALUES (?1, ?2, ?3, 1)
		 ON CONFLICT (key) DO UPDATE SET
		   count      = CASE WHEN ends_at <= ?2 THEN 1 ELSE count + 1 END,
		   started_at = CASE WHEN ends_at <= ?2 THEN ?2 ELSE started_at END,
		   ends_at    = CASE WHEN ends_at <= ?2 THEN ?3 ELSE ends_at END
		 RETURNING count, ends_at`,
		key, now, end).Scan(&count, &endsAt)
	if err != nil {
		return Decision{}, fmt.Errorf("count rate-limit event: %w", err)
	}
	return Decision{
		Allowed:    count <= int64(l.rule.Limit),
		RetryAfter: time.Duration(endsAt-now) * time.Millisecond,
	}, nil
}
