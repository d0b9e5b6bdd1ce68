package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/secret"
)

// Form of user tokens: the prefix and 24 alphanumerics, about 143 bits of
// entropy.
const (
	Prefix      = "pxtok_"
	randomChars = 24
	// Length is the length in bytes of every user token.
	Length = len(Prefix) + randomChars
)

// ErrMalformed reports a string that cannot be a user token.
var ErrMalformed = errors.New("malformed user token")

// IsForm reports whether token has the form of a user token.
func IsForm(token string) bool {
	return secret.HasForm(token, Prefix, randomChars, secret.Alphanumerics)
}

// Issue creates a random token for identity and stores its hash.
func Issue(ctx context.Context, store Store, identity Identity) (string, error) {
	random, err := secret.Random(secret.Alphanumerics, randomChars)
	if err != nil {
		return "", fmt.Errorf("create user token: %w", err)
	}
	token := Prefix + random
	identity.ExpiresAt = identity.ExpiresAt.Truncate(time.Millisecond)
	if err := store.Put(ctx, secret.Hash(token), identity); err != nil {
		return "", fmt.Errorf("store user token: %w", err)
	}
	return token, nil
}

// Verify returns the identity behind token. It returns ErrMalformed without
// reading the store when token does not have the right form, and
// ErrNotFound when it is unknown or expired.
func Verify(ctx context.Context, store Store, token string) (Identity, error) {
	if !IsForm(token) {
		return Identity{}, ErrMalformed
	}
	return store.Get(ctx, secret.Hash(token))
}
