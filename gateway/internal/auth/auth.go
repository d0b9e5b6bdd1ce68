// Package auth verifies user tokens through the auth service's Connect
// API. A [Verifier] holds no state of its own and is safe for concurrent
// use.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// Identity is the user behind a verified token.
type Identity struct {
	ProjectID string
	UserID    string
	ExpiresAt time.Time
}

// ErrInvalidToken means the auth service rejected the token: it is
// unknown, malformed or expired.
var ErrInvalidToken = errors.New("invalid or expired token")

// ErrUnavailable means the auth service could not answer: it is down,
// timed out or failed internally. The caller should retry later.
var ErrUnavailable = errors.New("auth service unavailable")

// Verifier checks user tokens with VerifyUserToken.
type Verifier struct {
	client authv1connect.AuthServiceClient
}

// NewVerifier returns a Verifier for the auth service at baseURL.
func NewVerifier(httpClient connect.HTTPClient, baseURL string) *Verifier {
	return &Verifier{client: authv1connect.NewAuthServiceClient(httpClient, baseURL)}
}

// Verify returns the identity behind token. Errors wrap [ErrInvalidToken]
// when the service rejected the token (Connect codes Unauthenticated,
// InvalidArgument, NotFound, PermissionDenied) and [ErrUnavailable] for
// every other failure, transport errors included.
func (v *Verifier) Verify(ctx context.Context, token string) (Identity, error) {
	response, err := v.client.VerifyUserToken(ctx,
		connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
	if err != nil {
		return Identity{}, classify(err)
	}
	message := response.Msg
	if message.GetProjectId() == "" || message.GetUserId() == "" {
		return Identity{}, fmt.Errorf("verify user token: %w: empty identity in answer",
			ErrUnavailable)
	}
	identity := Identity{ProjectID: message.GetProjectId(), UserID: message.GetUserId()}
	if message.GetExpiresAt() != nil {
		identity.ExpiresAt = message.GetExpiresAt().AsTime()
	}
	return identity, nil
}

func classify(err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeUnauthenticated, connect.CodeInvalidArgument, connect.CodeNotFound,
		connect.CodePermissionDenied:
		return fmt.Errorf("verify user token: %w", ErrInvalidToken)
	default:
		return fmt.Errorf("verify user token: %w: %w", ErrUnavailable, err)
	}
}

// DefaultHTTPClient returns the HTTP client for auth service calls, with
// timeout bounding each call.
func DefaultHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout}
}
