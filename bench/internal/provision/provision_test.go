package provision

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestIssueTokensKeepsOrderAndRetries(t *testing.T) {
	var calls atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/generate-user-token" {
			http.NotFound(w, r)
			return
		}
		// Every third request is rate limited once, which the client must
		// retry.
		if calls.Add(1)%3 == 0 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		var request map[string]string
		if err := json.NewDecoder(r.Body).Decode(&request); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if request["project_id"] != "peroxo_pj_1" || request["secret_api_key"] != "key" {
			http.Error(w, "bad key", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"user_token": "pxtok_" + request["user_id"]})
	}))
	t.Cleanup(server.Close)

	api := &Client{HTTP: server.Client(), AuthURL: server.URL, Concurrency: 4}
	users := []string{"a", "b", "c", "d", "e", "f", "g"}
	tokens, err := api.IssueTokens(t.Context(), Tenant{ProjectID: "peroxo_pj_1", SecretAPIKey: "key"}, users)
	if err != nil {
		t.Fatalf("IssueTokens: %v", err)
	}
	for i, user := range users {
		if tokens[i] != "pxtok_"+user {
			t.Errorf("tokens[%d] = %q, want %q", i, tokens[i], "pxtok_"+user)
		}
	}
}

func TestIssueTokensStopsOnRejection(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "invalid secret api key", http.StatusUnauthorized)
	}))
	t.Cleanup(server.Close)
	api := &Client{HTTP: server.Client(), AuthURL: server.URL, Concurrency: 2}
	_, err := api.IssueTokens(t.Context(), Tenant{ProjectID: "p", SecretAPIKey: "wrong"}, []string{"a"})
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("IssueTokens error = %v, want one naming HTTP 401", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("IssueTokens error %q shows the secret key", err)
	}
}

func TestCreateTenantHTTPSendsAdminToken(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/generate-tenant" || r.Header.Get("Authorization") != "Bearer admin" ||
			r.URL.Query().Get("name") != "peroxo-bench" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(Tenant{ProjectID: "peroxo_pj_2", SecretAPIKey: "k2"})
	}))
	t.Cleanup(server.Close)
	api := &Client{HTTP: server.Client(), AuthURL: server.URL}
	tenant, err := api.CreateTenantHTTP(t.Context(), "admin")
	if err != nil {
		t.Fatalf("CreateTenantHTTP: %v", err)
	}
	if tenant != (Tenant{ProjectID: "peroxo_pj_2", SecretAPIKey: "k2"}) {
		t.Errorf("CreateTenantHTTP = %+v", tenant)
	}
	_, err = api.CreateTenantHTTP(t.Context(), "wrong")
	if err == nil || !strings.Contains(err.Error(), "PEROXO_AUTH_ADMIN_TOKEN") {
		t.Errorf("CreateTenantHTTP with a wrong token: %v, want a hint naming PEROXO_AUTH_ADMIN_TOKEN", err)
	}
}

func TestConversationIDs(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.Query()
		if r.Header.Get("Authorization") != "Bearer pxtok_"+query.Get("user_id_1") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		id := query.Get("project_id") + "/" + query.Get("user_id_1") + "/" + query.Get("user_id_2")
		_ = json.NewEncoder(w).Encode(map[string]string{"conversation_id": id})
	}))
	t.Cleanup(server.Close)
	api := &Client{HTTP: server.Client(), GatewayURL: server.URL, Concurrency: 2}
	ids, err := api.ConversationIDs(t.Context(), []Pair{
		{ProjectID: "p", First: "a", Second: "b", FirstToken: "pxtok_a"},
		{ProjectID: "p", First: "c", Second: "d", FirstToken: "pxtok_c"},
	})
	if err != nil {
		t.Fatalf("ConversationIDs: %v", err)
	}
	if ids[0] != "p/a/b" || ids[1] != "p/c/d" {
		t.Errorf("ConversationIDs = %v", ids)
	}
}

func TestCreateTenantCommandParsesLastJSONLine(t *testing.T) {
	script := filepath.Join(t.TempDir(), "authsvc")
	body := "#!/bin/sh\n" +
		"[ \"$*\" = \"tenants create --name peroxo-bench\" ] || exit 3\n" +
		"echo 'migrating store'\n" +
		"echo '{\"project_id\":\"peroxo_pj_3\",\"secret_api_key\":\"k3\"}'\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatalf("write script: %v", err)
	}
	tenant, err := CreateTenantCommand(t.Context(), script)
	if err != nil {
		t.Fatalf("CreateTenantCommand: %v", err)
	}
	if tenant.ProjectID != "peroxo_pj_3" || tenant.SecretAPIKey != "k3" {
		t.Errorf("CreateTenantCommand = %+v", tenant)
	}
}
