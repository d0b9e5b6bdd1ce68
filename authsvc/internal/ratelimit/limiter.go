// Package ratelimit counts events per key in fixed windows: the first event
// for a key opens a window of the configured length, and at most Limit
// events are allowed until it ends. Counters live in Redis in production
// and in SQLite embedded by default.
package ratelimit

import (
	"context"
	"time"
)

// Rule is how many events one key may have in one window.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Decision is the outcome of one event.
type Decision struct {
	// Allowed is false when the event went over the limit.
	Allowed bool
	// RetryAfter is how long until the current window ends.
	RetryAfter time.Duration
}

// Limiter records events and decides whether each is allowed.
// Implementations are safe for concurrent use, also across processes that
// share the backend.
type Limiter interface {
	// Allow counts one event for key, including a rejected one, and
	// reports whether it is within the rule.
	Allow(ctx context.Context, key string) (Decision, error)
}
