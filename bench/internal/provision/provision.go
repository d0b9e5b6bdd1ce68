// Package provision prepares what a load run needs from the auth service
// and the gateway: a tenant, a user token per simulated user and the
// conversation id of each DM pair.
package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Tenant is a project and its secret API key.
type Tenant struct {
	ProjectID    string `json:"project_id"`
	SecretAPIKey string `json:"secret_api_key"`
}

// Client calls the auth service and the gateway's HTTP API with bounded
// retries. Safe for concurrent use.
type Client struct {
	HTTP        *http.Client
	AuthURL     string
	GatewayURL  string
	Concurrency int // parallel requests in IssueTokens and ConversationIDs
}

// Retries of one request that the server rejected with 429 or 503, or that
// failed to connect: at most maxAttempts tries, with a backoff that doubles
// from minBackoff up to maxBackoff, so a request gives up within about 35 s.
const (
	maxAttempts = 40
	minBackoff  = 50 * time.Millisecond
	maxBackoff  = time.Second
)

// tenantName labels the tenants the generator creates, so an operator can
// find and remove them.
const tenantName = "peroxo-bench"

// StatusError is a response of the auth service with a status other than
// 200 OK.
type StatusError struct {
	Request string
	Status  int
	Body    string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.Request, e.Status, e.Body)
}

// CreateTenantHTTP creates a tenant through the auth service's
// GET /generate-tenant, authorized with the service's admin token.
func (c *Client) CreateTenantHTTP(ctx context.Context, adminToken string) (Tenant, error) {
	var tenant Tenant
	err := c.do(ctx, http.MethodGet, c.AuthURL+"/generate-tenant?name="+tenantName, nil, adminToken, &tenant)
	var statusErr *StatusError
	if errors.As(err, &statusErr) && statusErr.Status == http.StatusUnauthorized {
		return Tenant{}, fmt.Errorf("create tenant: the auth service at %s rejected the admin "+
			"token; give -admin-token or %s the value of its PEROXO_AUTH_ADMIN_TOKEN: %w",
			c.AuthURL, "PEROXO_BENCH_ADMIN_TOKEN", err)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("create tenant: %w", err)
	}
	if tenant.ProjectID == "" || tenant.SecretAPIKey == "" {
		return Tenant{}, errors.New("create tenant: response has no project_id or secret_api_key")
	}
	return tenant, nil
}

// CreateTenantCommand creates a tenant by running `<authsvc> tenants
// create --name peroxo-bench`, which prints the tenant as a JSON object on standard output. The
// command inherits this process's environment, so PEROXO_AUTH_ settings
// reach it.
func CreateTenantCommand(ctx context.Context, authsvcPath string) (Tenant, error) {
	command := exec.CommandContext(ctx, authsvcPath, "tenants", "create", "--name", tenantName)
	var stderr bytes.Buffer
	command.Stderr = &stderr
	output, err := command.Output()
	if err != nil {
		return Tenant{}, fmt.Errorf("run %s tenants create: %w: %s",
			authsvcPath, err, strings.TrimSpace(stderr.String()))
	}
	// The JSON object is the last line that parses; logs may precede it.
	lines := strings.Split(strings.TrimSpace(string(output)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var tenant Tenant
		if json.Unmarshal([]byte(lines[i]), &tenant) == nil && tenant.ProjectID != "" {
			return tenant, nil
		}
	}
	return Tenant{}, fmt.Errorf("run %s tenants create: no JSON object with project_id on standard output", authsvcPath)
}

// IssueTokens returns one user token per entry of users, in order, asking
// the auth service's POST /generate-user-token with at most Concurrency
// requests in flight.
func (c *Client) IssueTokens(ctx context.Context, tenant Tenant, users []string) ([]string, error) {
	tokens := make([]string, len(users))
	group, ctx := errgroup.WithContext(ctx)
	group.SetLimit(max(c.Concurrency, 1))
	for i, user := range users {
		group.Go(func() error {
			request := map[string]string{
				"user_id":        user,
				"project_id":     tenant.ProjectID,
				"secret_api_key": tenant.SecretAPIKey,
			}
			var response struct {
				UserToken string `json:"user_token"`
			}
			err := c.do(ctx, http.MethodPost, c.AuthURL+"/generate-user-token", request, "", &response)
			if err != nil {
				return fmt.Errorf("issue token for user %s: %w", user, err)
			}
			if response.UserToken == "" {
				return fmt.Errorf("issue token for user %s: response has no user_token", user)
			}
			tokens[i] = response.UserToken
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return tokens, nil
}

// Pair is two users of one project and the token of the first, which
// authorizes the conversation lookup.
type Pair struct {
	ProjectID     string
	First, Second string
	FirstToken    string
}

// ConversationIDs returns the conversation id of each pair, in order, from
// the gateway's GET /conversations.
func (c *Client) ConversationIDs(ctx context.Context, pairs []Pair) ([]string, error) {
	ids := make([]string, len(pairs))
	group, ctx := errgroup.WithContext(ctx)
	group.SetLimit(max(c.Concurrency, 1))
	for i, pair := range pairs {
		group.Go(func() error {
			query := url.Values{
				"project_id": {pair.ProjectID},
				"user_id_1":  {pair.First},
				"user_id_2":  {pair.Second},
			}
			var response struct {
				ConversationID string `json:"conversation_id"`
			}
			endpoint := c.GatewayURL + "/conversations?" + query.Encode()
			if err := c.do(ctx, http.MethodGet, endpoint, nil, pair.FirstToken, &response); err != nil {
				return fmt.Errorf("look up conversation of %s and %s: %w", pair.First, pair.Second, err)
			}
			if response.ConversationID == "" {
				return fmt.Errorf("look up conversation of %s and %s: response has no conversation_id",
					pair.First, pair.Second)
			}
			ids[i] = response.ConversationID
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	return ids, nil
}

// do sends one JSON request and decodes the JSON response into out. It
// retries connection failures and 429 or 503 responses with exponential
// backoff, honouring Retry-After in seconds.
func (c *Client) do(ctx context.Context, method, endpoint string, body any, bearer string, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
	}
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		retryAfter, err := c.attempt(ctx, method, endpoint, payload, bearer, out)
		if err == nil || retryAfter < 0 || attempt == maxAttempts {
			return err
		}
		wait := max(backoff, retryAfter)
		backoff = min(2*backoff, maxBackoff)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		}
	}
}

// attempt sends one request. A non-negative retryAfter with an error means
// the request may be retried after that long.
func (c *Client) attempt(
	ctx context.Context,
	method, endpoint string,
	payload []byte,
	bearer string,
	out any,
) (retryAfter time.Duration, err error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	request, err := http.NewRequestWithContext(ctx, method, endpoint, body)
	if err != nil {
		return -1, fmt.Errorf("build request: %w", err)
	}
	if payload != nil {
		request.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		request.Header.Set("Authorization", "Bearer "+bearer)
	}
	response, err := c.HTTP.Do(request)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("%s %s: %w", method, redact(endpoint), err)
		}
		return 0, fmt.Errorf("%s %s: %w", method, redact(endpoint), err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(io.LimitReader(response.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("read response of %s %s: %w", method, redact(endpoint), err)
	}
	if response.StatusCode != http.StatusOK {
		err := &StatusError{Request: method + " " + redact(endpoint),
			Status: response.StatusCode, Body: strings.TrimSpace(string(data))}
		if response.StatusCode == http.StatusTooManyRequests ||
			response.StatusCode == http.StatusServiceUnavailable {
			seconds, _ := strconv.Atoi(response.Header.Get("Retry-After"))
			return time.Duration(seconds) * time.Second, err
		}
		return -1, err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return -1, fmt.Errorf("decode response of %s %s: %w", method, redact(endpoint), err)
	}
	return -1, nil
}

// redact drops the query, which may name users, from an endpoint in error
// messages; bodies carrying keys are never printed.
func redact(endpoint string) string {
	path, _, _ := strings.Cut(endpoint, "?")
	return path
}
