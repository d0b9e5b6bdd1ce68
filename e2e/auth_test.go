package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/peroxo/peroxo/platform/testenv/process"
)

const authsvcPackage = "github.com/peroxo/peroxo/authsvc/cmd/authsvc"

// authService is an authsvc process on its embedded stores with one
// tenant.
type authService struct {
	*process.Process
	projectID string
	apiKey    string
}

// startAuthsvc creates a tenant with "authsvc tenants create" and serves
// the auth API. Every Google URL points at a closed loopback port, so no
// test reaches Google.
func startAuthsvc(t testing.TB) *authService {
	t.Helper()
	binary := process.Build(t, authsvcPackage)
	addr := process.FreeAddr(t)
	env := []string{
		"PEROXO_AUTH_ADDR=" + addr,
		"PEROXO_AUTH_DATA_DIR=" + t.TempDir(),
		"PEROXO_AUTH_ADMIN_TOKEN=e2e-admin-token-0123456789",
		"PEROXO_AUTH_GOOGLE_ISSUER=http://127.0.0.1:1",
		"PEROXO_AUTH_GOOGLE_JWKS_URL=http://127.0.0.1:1/keys",
		"PEROXO_AUTH_GOOGLE_CLIENT_ID=e2e",
		"PEROXO_LOG_LEVEL=warn",
	}
	created := process.Run(t, time.Minute, process.Options{
		Name: "authsvc tenants create", Binary: binary,
		Args: []string{"tenants", "create"}, Env: env,
	})
	var tenant struct {
		ProjectID    string `json:"project_id"`
		SecretAPIKey string `json:"secret_api_key"`
	}
	if err := json.Unmarshal(created, &tenant); err != nil {
		t.Fatalf("decode tenant %q: %v", created, err)
	}
	serve := process.Start(t, process.Options{
		Name: "authsvc", Binary: binary, Args: []string{"serve"}, Env: env,
		HealthAddr: addr,
	})
	return &authService{Process: serve, projectID: tenant.ProjectID, apiKey: tenant.SecretAPIKey}
}

// token issues a user token through POST /generate-user-token.
func (a *authService) token(t testing.TB, user string) string {
	t.Helper()
	body, err := json.Marshal(map[string]string{
		"user_id": user, "project_id": a.projectID, "secret_api_key": a.apiKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.Post(a.URL()+"/generate-user-token", "application/json",
		bytes.NewReader(body))
	if err != nil {
		t.Fatalf("generate a token for %q: %v", user, err)
	}
	defer response.Body.Close()
	var answer struct {
		UserToken string `json:"user_token"`
	}
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil || answer.UserToken == "" {
		t.Fatalf("generate a token for %q: status %d, %v", user, response.StatusCode, err)
	}
	return answer.UserToken
}

// conversationID requests from a gateway the id of the conversation of a pair
// with GET /conversations, as a client does before its first DM.
func conversationID(t testing.TB, gatewayURL, token, project, a, b string) string {
	t.Helper()
	query := url.Values{"project_id": {project}, "user_id_1": {a}, "user_id_2": {b}}
	request, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		gatewayURL+"/conversations?"+query.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("get the conversation of %q and %q: %v", a, b, err)
	}
	defer response.Body.Close()
	var answer struct {
		ConversationID string `json:"conversation_id"`
	}
	if err := json.NewDecoder(response.Body).Decode(&answer); err != nil ||
		answer.ConversationID == "" {
		t.Fatalf("get the conversation of %q and %q: status %d, %v", a, b,
			response.StatusCode, err)
	}
	return answer.ConversationID
}
