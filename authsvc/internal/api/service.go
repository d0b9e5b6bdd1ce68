// Package api implements the auth service's operations (create a tenant,
// issue and verify user tokens) and serves them as JSON over HTTP and as
// the Connect service peroxo.auth.v1.AuthService.
package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/peroxo/peroxo/authsvc/internal/googleid"
	"github.com/peroxo/peroxo/authsvc/internal/ratelimit"
	"github.com/peroxo/peroxo/authsvc/internal/secret"
	"github.com/peroxo/peroxo/authsvc/internal/tenants"
	"github.com/peroxo/peroxo/authsvc/internal/tokens"
)

const creatorAdmin = "admin"

// Options are the parts a [Service] uses. Every field except Now is
// required.
type Options struct {
	Tenants tenants.Store
	Tokens  tokens.Store
	// TenantLimiter counts tenants created per Google subject.
	TenantLimiter ratelimit.Limiter
	Google        *googleid.Verifier
	// AdminToken enables operator tenant creation; empty disables it.
	AdminToken string
	// TokenTTL is how long issued user tokens stay valid.
	TokenTTL time.Duration
	Metrics  *Metrics
	Logger   *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	adminTokenHash string
}

// Service carries out the auth operations. It is safe for concurrent use
// and holds no state of its own: tenants, tokens and rate-limit counters
// live in the stores.
type Service struct {
	options   Options
	logger    *slog.Logger
	rejectLog *sampledLogger
}

// NewService returns a service over options.
func NewService(options Options) *Service {
	if options.Now == nil {
		options.Now = time.Now
	}
	if options.AdminToken != "" {
		// Comparing digests of equal length hides the admin token's length.
		options.adminTokenHash = secret.Hash(options.AdminToken)
	}
	logger := options.Logger.With("component", "api")
	return &Service{options: options, logger: logger, rejectLog: newSampledLogger(logger)}
}

// CreatedTenant is the result of CreateTenant. APIKey is shown once.
type CreatedTenant struct {
	ProjectID string
	APIKey    string
}

// CreateTenant creates a tenant for the caller named by authorization, the
// value of the Authorization header: "Bearer " and either the admin token
// or a Google ID token. Google callers are rate limited per subject.
func (s *Service) CreateTenant(ctx context.Context, authorization, name string) (CreatedTenant, error) {
	created, err := s.createTenant(ctx, authorization, name)
	s.countRejection(opCreateTenant, err)
	return created, err
}

func (s *Service) createTenant(ctx context.Context, authorization, name string) (CreatedTenant, error) {
	if err := checkText("name", name, MaxNameBytes, true); err != nil {
		return CreatedTenant{}, err
	}

	credential, ok := bearer(authorization)
	if !ok {
		return CreatedTenant{}, unauthenticated("authorization", reasonMissingCredentials,
			"send Authorization: Bearer with a Google ID token or the admin token")
	}
	var creator string
	if s.options.AdminToken != "" && secret.EqualHash(secret.Hash(credential), s.options.adminTokenHash) {
		creator = creatorAdmin
	} else {
		subject, err := s.signInWithGoogle(ctx, credential)
		if err != nil {
			return CreatedTenant{}, err
		}
		creator = "google:" + subject
	}

	tenant, key, err := tenants.Create(ctx, s.options.Tenants, name, creator, s.options.Now())
	if err != nil {
		s.logger.Error("tenant creation failed", "err", err)
		return CreatedTenant{}, backendError()
	}
	method, subject, isGoogle := strings.Cut(creator, ":")
	attributes := []any{"project", tenant.ProjectID, "method", method}
	if isGoogle {
		attributes = append(attributes, "google_subject", subject)
	}
	s.logger.Info("tenant created", attributes...)
	s.options.Metrics.tenantsCreated.WithLabelValues(method).Inc()
	return CreatedTenant{ProjectID: tenant.ProjectID, APIKey: key}, nil
}

// signInWithGoogle verifies an ID token and counts one tenant creation
// against its subject's window.
func (s *Service) signInWithGoogle(ctx context.Context, idToken string) (string, error) {
	if !s.options.Google.Enabled() {
		message := "the bearer token is not the admin token, and Google sign-in is " +
			"disabled because PEROXO_AUTH_GOOGLE_CLIENT_ID is empty"
		s.rejectLog.Info(ctx, "tenant creation rejected", "reason", reasonSignInDisabled)
		return "", unauthenticated("authorization", reasonSignInDisabled, message)
	}
	subject, err := s.options.Google.Verify(ctx, idToken)
	if err != nil {
		// go-oidc errors name the failed check, never the token itself.
		// NOTE: a failed key fetch (issuer unreachable) also ends here as
		// 401, because go-oidc v3.21 flattens that error to text. The log
		// line shows the cause.
		s.rejectLog.Info(ctx, "tenant creation rejected", "reason", reasonBadIDToken, "err", err)
		return "", unauthenticated("authorization", reasonBadIDToken,
			"the Google ID token is invalid or expired")
	}
	decision, err := s.options.TenantLimiter.Allow(ctx, "tenants:google:"+subject)
	if err != nil {
		s.logger.Error("tenant rate limit check failed", "err", err)
		return "", backendError()
	}
	if !decision.Allowed {
		s.rejectLog.Info(ctx, "tenant creation rejected", "reason", reasonRateLimited,
			"google_subject", subject)
		return "", &Error{
			Code:       connect.CodeResourceExhausted,
			Message:    "too many tenants created by this Google account; retry later",
			Reason:     reasonRateLimited,
			RetryAfter: decision.RetryAfter,
		}
	}
	return subject, nil
}

// IssueRequest are the fields of IssueUserToken.
type IssueRequest struct {
	UserID       string
	ProjectID    string
	SecretAPIKey string
}

// IssueUserToken checks the project's API key and issues a token for the
// user, valid for the configured TTL.
func (s *Service) IssueUserToken(ctx context.Context, request IssueRequest) (string, time.Time, error) {
	token, expiresAt, err := s.issueUserToken(ctx, request)
	s.countRejection(opIssueToken, err)
	return token, expiresAt, err
}

func (s *Service) issueUserToken(ctx context.Context, request IssueRequest) (string, time.Time, error) {
	if err := checkText("user_id", request.UserID, MaxUserIDBytes, false); err != nil {
		return "", time.Time{}, err
	}
	if err := checkText("project_id", request.ProjectID, MaxProjectIDBytes, false); err != nil {
		return "", time.Time{}, err
	}
	if err := checkAPIKey(request.SecretAPIKey); err != nil {
		return "", time.Time{}, err
	}
	err := tenants.Authenticate(ctx, s.options.Tenants, request.ProjectID, request.SecretAPIKey)
	switch {
	case errors.Is(err, tenants.ErrNotFound):
		s.rejectLog.Info(ctx, "user token not issued", "reason", reasonUnknownProject,
			"project", request.ProjectID)
		return "", time.Time{}, unauthenticated("project_id", reasonUnknownProject,
			"no project has this project_id")
	case errors.Is(err, tenants.ErrWrongKey):
		s.rejectLog.Info(ctx, "user token not issued", "reason", reasonWrongKey,
			"project", request.ProjectID)
		return "", time.Time{}, unauthenticated("secret_api_key", reasonWrongKey,
			"the secret_api_key does not belong to this project")
	case err != nil:
		s.logger.Error("api key check failed", "project", request.ProjectID, "err", err)
		return "", time.Time{}, backendError()
	}
	identity := tokens.Identity{
		ProjectID: request.ProjectID,
		UserID:    request.UserID,
		ExpiresAt: s.options.Now().Add(s.options.TokenTTL).Truncate(time.Millisecond),
	}
	token, err := tokens.Issue(ctx, s.options.Tokens, identity)
	if err != nil {
		s.logger.Error("user token issue failed", "project", request.ProjectID, "err", err)
		return "", time.Time{}, backendError()
	}
	s.options.Metrics.tokensIssued.Inc()
	return token, identity.ExpiresAt, nil
}

// VerifyUserToken returns the identity behind a valid, unexpired token.
func (s *Service) VerifyUserToken(ctx context.Context, token string) (tokens.Identity, error) {
	identity, err := s.verifyUserToken(ctx, token)
	s.countRejection(opVerifyToken, err)
	return identity, err
}

func (s *Service) verifyUserToken(ctx context.Context, token string) (tokens.Identity, error) {
	if err := checkUserToken(token); err != nil {
		s.rejectLog.Info(ctx, "user token rejected", "reason", err.Reason)
		return tokens.Identity{}, err
	}
	identity, err := tokens.Verify(ctx, s.options.Tokens, token)
	if errors.Is(err, tokens.ErrNotFound) {
		// The project is unknown here: an expired token's entry is gone.
		s.rejectLog.Info(ctx, "user token rejected", "reason", reasonUnknownToken)
		return tokens.Identity{}, unauthenticated("user_token", reasonUnknownToken,
			"the user token is unknown or expired")
	}
	if err != nil {
		s.logger.Error("user token lookup failed", "err", err)
		return tokens.Identity{}, backendError()
	}
	s.options.Metrics.tokensVerified.Inc()
	return identity, nil
}

func (s *Service) countRejection(operation string, err error) {
	var apiErr *Error
	if errors.As(err, &apiErr) {
		s.options.Metrics.rejected.WithLabelValues(operation, string(apiErr.Reason)).Inc()
	}
}

// bearer extracts the credential of an "Authorization: Bearer" value. The
// scheme is case-insensitive (RFC 9110, section 11.1).
func bearer(authorization string) (string, bool) {
	scheme, credential, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	credential = strings.TrimSpace(credential)
	return credential, credential != ""
}
