// Package googleid verifies Google ID tokens locally: the signature against
// the issuer's published JSON Web Key Set, the issuer, the audience and the
// expiry.
package googleid

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
)

// ErrDisabled reports that no client id is configured, so Google sign-in
// is off.
var ErrDisabled = errors.New("google sign-in is disabled: PEROXO_AUTH_GOOGLE_CLIENT_ID is empty")

// Verifier checks ID tokens. It is safe for concurrent use. The key set is
// fetched on the first verification, never at construction, and cached;
// an unknown key id triggers one refetch.
type Verifier struct {
	verifier *oidc.IDTokenVerifier
}

// New returns a verifier for tokens issued by issuer to clientID, signed
// with RS256 by a key published at jwksURL. client fetches the keys. An
// empty clientID returns a verifier that rejects everything with
// ErrDisabled.
func New(issuer, jwksURL, clientID string, client *http.Client) *Verifier {
	if clientID == "" {
		return &Verifier{}
	}
	// The context only carries the HTTP client, as go-oidc expects.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), client), jwksURL)
	return &Verifier{verifier: oidc.NewVerifier(issuer, keys, &oidc.Config{
		ClientID: clientID,
		// Google signs with RS256 only; every other alg, "none" included,
		// is rejected before any key is consulted.
		SupportedSigningAlgs: []string{oidc.RS256},
	})}
}

// Enabled reports whether a client id is configured.
func (v *Verifier) Enabled() bool {
	return v.verifier != nil
}

// Verify checks rawToken and returns its subject, the stable id of the
// Google account.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (string, error) {
	if v.verifier == nil {
		return "", ErrDisabled
	}
	token, err := v.verifier.Verify(ctx, rawToken)
	if err != nil {
		return "", fmt.Errorf("verify google id token: %w", err)
	}
	if token.Subject == "" {
		return "", errors.New("verify google id token: the sub claim is empty")
	}
	return token.Subject, nil
}
