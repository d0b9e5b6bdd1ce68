package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/secret"
)

// Form of project ids and secret API keys.
const (
	ProjectIDPrefix = "peroxo_pj_"
	projectIDRandom = 20
	APIKeyPrefix    = "pxsk_"
	apiKeyRandom    = 40
)

// ErrWrongKey reports an API key that does not belong to the project.
var ErrWrongKey = errors.New("wrong secret API key")

// unknownProjectHash is compared against when the project does not exist,
// so that a wrong key and an unknown project take about the same time.
var unknownProjectHash = secret.Hash("pxsk_" + "no project has this key")

// Create makes a tenant with a fresh project id and API key, stores it, and
// returns the tenant with the key. The key is not kept anywhere else.
func Create(
	ctx context.Context,
	store Store,
	name string,
	creator string,
	now time.Time,
) (Tenant, string, error) {
	random, err := secret.Random(secret.LowerAlphanumerics, projectIDRandom)
	if err != nil {
		return Tenant{}, "", fmt.Errorf("create project id: %w", err)
	}
	keyRandom, err := secret.Random(secret.Alphanumerics, apiKeyRandom)
	if err != nil {
		return Tenant{}, "", fmt.Errorf("create api key: %w", err)
	}
	tenant := Tenant{
		ProjectID: ProjectIDPrefix + random,
		Name:      name,
		Creator:   creator,
		CreatedAt: now.Truncate(time.Millisecond),
	}
	key := APIKeyPrefix + keyRandom
	if err := store.Insert(ctx, tenant, secret.Hash(key)); err != nil {
		return Tenant{}, "", fmt.Errorf("insert tenant %s: %w", tenant.ProjectID, err)
	}
	return tenant, key, nil
}

// IsAPIKeyForm reports whether key has the form of a secret API key.
func IsAPIKeyForm(key string) bool {
	return secret.HasForm(key, APIKeyPrefix, apiKeyRandom, secret.Alphanumerics)
}

// Authenticate checks key against the stored hash of projectID in constant
// time. It returns ErrNotFound for an unknown project and ErrWrongKey for a
// key that does not match.
func Authenticate(ctx context.Context, store Store, projectID, key string) error {
	stored, err := store.KeyHash(ctx, projectID)
	if errors.Is(err, ErrNotFound) {
		secret.EqualHash(unknownProjectHash, secret.Hash(key))
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read key of tenant %s: %w", projectID, err)
	}
	if !secret.EqualHash(stored, secret.Hash(key)) {
		return ErrWrongKey
	}
	return nil
}

// IsProjectIDForm reports whether id has the form of a generated project id.
func IsProjectIDForm(id string) bool {
	return secret.HasForm(id, ProjectIDPrefix, projectIDRandom, secret.LowerAlphanumerics)
}
