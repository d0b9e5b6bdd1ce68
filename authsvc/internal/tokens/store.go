// Package tokens issues and verifies the short-lived user tokens that open
// WebSocket connections. Tokens live in a [Store] under the hash of the
// token, never the token itself: Redis in production, SQLite embedded by
// default.
package tokens

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound reports a token that was never issued or has expired.
var ErrNotFound = errors.New("user token not found or expired")

// ErrExists reports that a token with the same hash is already stored.
var ErrExists = errors.New("user token already exists")

// Identity is the user a token stands for and when it stops being valid.
type Identity struct {
	ProjectID string
	UserID    string
	// ExpiresAt has millisecond precision in every store.
	ExpiresAt time.Time
}

// Store keeps token hashes with their identity until they expire.
// Implementations are safe for concurrent use.
type Store interface {
	// Put stores identity under tokenHash until identity.ExpiresAt, or
	// returns ErrExists.
	Put(ctx context.Context, tokenHash string, identity Identity) error
	// Get returns the identity of an unexpired token, or ErrNotFound.
	Get(ctx context.Context, tokenHash string) (Identity, error)
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
}
