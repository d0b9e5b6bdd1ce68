// Package tenants creates tenants (projects) with their secret API keys and
// checks keys. Tenants live in a [Store]: PostgreSQL in production, SQLite
// embedded by default.
package tenants

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound reports that no tenant has the requested project id.
var ErrNotFound = errors.New("tenant not found")

// ErrExists reports that a tenant with the same project id already exists.
var ErrExists = errors.New("tenant already exists")

// Tenant is one project. Its secret API key is never stored, only its hash.
type Tenant struct {
	// ProjectID is peroxo_pj_ followed by 20 random lowercase alphanumerics.
	ProjectID string
	// Name is an optional label for operators.
	Name string
	// Creator records how the tenant was created: "admin", "cli" or
	// "google:<subject>".
	Creator string
	// CreatedAt is the creation time, stored with millisecond precision.
	CreatedAt time.Time
}

// Store keeps tenants and the hashes of their API keys. Implementations
// are safe for concurrent use.
type Store interface {
	// Insert stores a new tenant with the hash of its key, or returns
	// ErrExists.
	Insert(ctx context.Context, tenant Tenant, keyHash string) error
	// KeyHash returns the stored key hash of projectID, or ErrNotFound.
	KeyHash(ctx context.Context, projectID string) (string, error)
	// List returns every tenant, oldest first.
	List(ctx context.Context) ([]Tenant, error)
	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
}
