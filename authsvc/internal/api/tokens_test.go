package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/protobuf/encoding/protojson"

	authv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

func TestIssueAndVerifyOverEveryProtocol(t *testing.T) {
	server := startServer(t, serverConfig{})
	projectID, key := server.createTenant(t)
	token := server.issueToken(t, projectID, key, "alice")

	reply := server.post(t, "/verify-user-token", map[string]string{"user_token": token})
	if reply.Status != http.StatusOK {
		t.Fatalf("verify over HTTP: status %d, body %v", reply.Status, reply.Body)
	}
	if reply.text("project_id") != projectID || reply.text("user_id") != "alice" {
		t.Errorf("verify over HTTP returned %v", reply.Body)
	}
	expiresAt, _ := reply.Body["expires_at"].(float64)
	if untilExpiry := time.Until(time.UnixMilli(int64(expiresAt))); untilExpiry <= 0 || untilExpiry > time.Minute {
		t.Errorf("expires_at is %s from now, want within the 1m TTL", untilExpiry)
	}
	if reply.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", reply.Header.Get("Cache-Control"))
	}

	clients := map[string]func() (*connect.Response[authv1.VerifyUserTokenResponse], error){
		"connect": func() (*connect.Response[authv1.VerifyUserTokenResponse], error) {
			return server.connectClient().VerifyUserToken(t.Context(),
				connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
		},
		"grpc": func() (*connect.Response[authv1.VerifyUserTokenResponse], error) {
			return server.grpcClient(t).VerifyUserToken(t.Context(),
				connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
		},
		"grpc-web": func() (*connect.Response[authv1.VerifyUserTokenResponse], error) {
			client := authv1connect.NewAuthServiceClient(http.DefaultClient, server.URL,
				connect.WithGRPCWeb())
			return client.VerifyUserToken(t.Context(),
				connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
		},
	}
	for name, call := range clients {
		t.Run(name, func(t *testing.T) {
			verified, err := call()
			if err != nil {
				t.Fatal(err)
			}
			if verified.Msg.GetProjectId() != projectID || verified.Msg.GetUserId() != "alice" {
				t.Errorf("identity = %v", verified.Msg)
			}
			if verified.Msg.GetExpiresAt().AsTime().UnixMilli() != int64(expiresAt) {
				t.Errorf("expires_at = %v, want %d ms", verified.Msg.GetExpiresAt(), int64(expiresAt))
			}
		})
	}
	if got := testutil.ToFloat64(server.Options.Metrics.tokensVerified); got != 4 {
		t.Errorf("authsvc_user_tokens_verified_total = %v, want 4", got)
	}
}

func TestIssueOverConnect(t *testing.T) {
	server := startServer(t, serverConfig{})
	projectID, key := server.createTenant(t)
	issued, err := server.grpcClient(t).IssueUserToken(t.Context(),
		connect.NewRequest(&authv1.IssueUserTokenRequest{
			ProjectId: projectID, UserId: "bob", SecretApiKey: key,
		}))
	if err != nil {
		t.Fatal(err)
	}
	reply := server.post(t, "/verify-user-token", map[string]string{"user_token": issued.Msg.GetUserToken()})
	if reply.Status != http.StatusOK || reply.text("user_id") != "bob" {
		t.Errorf("verify token issued over gRPC: status %d, body %v", reply.Status, reply.Body)
	}
	if got := testutil.ToFloat64(server.Options.Metrics.tokensIssued); got != 1 {
		t.Errorf("authsvc_user_tokens_issued_total = %v, want 1", got)
	}
}

func TestTokenExpires(t *testing.T) {
	server := startServer(t, serverConfig{tokenTTL: 200 * time.Millisecond})
	projectID, key := server.createTenant(t)
	token := server.issueToken(t, projectID, key, "carol")
	if reply := server.post(t, "/verify-user-token", map[string]string{"user_token": token}); reply.Status != http.StatusOK {
		t.Fatalf("fresh token: status %d", reply.Status)
	}
	time.Sleep(200 * time.Millisecond)
	reply := server.post(t, "/verify-user-token", map[string]string{"user_token": token})
	if reply.Status != http.StatusUnauthorized {
		t.Errorf("expired token: status %d, want 401", reply.Status)
	}
	if reply.text("field") != "user_token" {
		t.Errorf("expired token: field %q, want user_token", reply.text("field"))
	}
	_, err := server.connectClient().VerifyUserToken(t.Context(),
		connect.NewRequest(&authv1.VerifyUserTokenRequest{UserToken: token}))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Errorf("expired token over Connect: %v, want Unauthenticated", err)
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	server := startServer(t, serverConfig{})
	projectID, key := server.createTenant(t)
	_, otherKey := server.createTenant(t)
	valid := map[string]string{"user_id": "alice", "project_id": projectID, "secret_api_key": key}
	with := func(field, value string) map[string]string {
		body := map[string]string{}
		for name, fieldValue := range valid {
			body[name] = fieldValue
		}
		body[field] = value
		return body
	}
	without := func(field string) map[string]string {
		body := with(field, "")
		delete(body, field)
		return body
	}
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantField  string
	}{
		{"malformed json", `{"user_id": "alice"`, http.StatusBadRequest, ""},
		{"empty body", ``, http.StatusBadRequest, ""},
		{"array body", `[]`, http.StatusBadRequest, ""},
		{"two objects", `{} {}`, http.StatusBadRequest, ""},
		{"number user_id", `{"user_id": 5}`, http.StatusBadRequest, "user_id"},
		{"missing user_id", jsonText(t, without("user_id")), http.StatusBadRequest, "user_id"},
		{"empty user_id", jsonText(t, with("user_id", "")), http.StatusBadRequest, "user_id"},
		{"long user_id", jsonText(t, with("user_id", strings.Repeat("u", MaxUserIDBytes+1))), http.StatusBadRequest, "user_id"},
		{"control in user_id", jsonText(t, with("user_id", "al\nice")), http.StatusBadRequest, "user_id"},
		{"missing project_id", jsonText(t, without("project_id")), http.StatusBadRequest, "project_id"},
		{"long project_id", jsonText(t, with("project_id", strings.Repeat("p", MaxProjectIDBytes+1))), http.StatusBadRequest, "project_id"},
		{"control in project_id", jsonText(t, with("project_id", "peroxo_pj_\u0000")), http.StatusBadRequest, "project_id"},
		{"missing key", jsonText(t, without("secret_api_key")), http.StatusBadRequest, "secret_api_key"},
		{"malformed key", jsonText(t, with("secret_api_key", "pxsk_short")), http.StatusBadRequest, "secret_api_key"},
		{"wrong key", jsonText(t, with("secret_api_key", otherKey)), http.StatusUnauthorized, "secret_api_key"},
		{"unknown project", jsonText(t, with("project_id", "peroxo_pj_00000000000000000000")), http.StatusUnauthorized, "project_id"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			reply := server.do(t, http.MethodPost, "/generate-user-token", "", []byte(test.body))
			if reply.Status != test.wantStatus {
				t.Errorf("status = %d, want %d (body %v)", reply.Status, test.wantStatus, reply.Body)
			}
			if reply.text("field") != test.wantField {
				t.Errorf("field = %q, want %q", reply.text("field"), test.wantField)
			}
			if reply.text("error") == "" {
				t.Error("no error message")
			}
			if reply.text("user_token") != "" {
				t.Error("a token was issued")
			}
		})
	}
	if got := testutil.ToFloat64(server.Options.Metrics.tokensIssued); got != 0 {
		t.Errorf("authsvc_user_tokens_issued_total = %v, want 0", got)
	}
	wrongKey := server.Options.Metrics.rejected.WithLabelValues(opIssueToken, string(reasonWrongKey))
	if got := testutil.ToFloat64(wrongKey); got != 1 {
		t.Errorf("rejections for wrong_key = %v, want 1", got)
	}
}

func TestIssueRejectsBadInputOverConnect(t *testing.T) {
	server := startServer(t, serverConfig{})
	projectID, key := server.createTenant(t)
	tests := []struct {
		name      string
		request   *authv1.IssueUserTokenRequest
		wantCode  connect.Code
		wantField string
	}{
		{"empty user_id", &authv1.IssueUserTokenRequest{ProjectId: projectID, SecretApiKey: key},
			connect.CodeInvalidArgument, "user_id"},
		{"tab in user_id", &authv1.IssueUserTokenRequest{UserId: "a\tb", ProjectId: projectID, SecretApiKey: key},
			connect.CodeInvalidArgument, "user_id"},
		{"unknown project", &authv1.IssueUserTokenRequest{UserId: "a", ProjectId: "peroxo_pj_x", SecretApiKey: key},
			connect.CodeUnauthenticated, "project_id"},
		{"wrong key", &authv1.IssueUserTokenRequest{UserId: "a", ProjectId: projectID, SecretApiKey: "pxsk_" + strings.Repeat("k", 40)},
			connect.CodeUnauthenticated, "secret_api_key"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := server.connectClient().IssueUserToken(t.Context(), connect.NewRequest(test.request))
			var connectErr *connect.Error
			if !errors.As(err, &connectErr) {
				t.Fatalf("err = %v, want a Connect error", err)
			}
			if connectErr.Code() != test.wantCode {
				t.Errorf("code = %v, want %v", connectErr.Code(), test.wantCode)
			}
			if !strings.HasPrefix(connectErr.Message(), test.wantField+": ") {
				t.Errorf("message %q does not name %s", connectErr.Message(), test.wantField)
			}
		})
	}
}

func TestVerifyRejectsBadTokens(t *testing.T) {
	server := startServer(t, serverConfig{})
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   connect.Code
	}{
		{"missing token", `{}`, http.StatusBadRequest, connect.CodeInvalidArgument},
		{"wrong prefix", `{"user_token": "pxtak_AAAAAAAAAAAAAAAAAAAAAAAA"}`, http.StatusBadRequest, connect.CodeInvalidArgument},
		{"too short", `{"user_token": "pxtok_AAAA"}`, http.StatusBadRequest, connect.CodeInvalidArgument},
		{"too long", `{"user_token": "pxtok_AAAAAAAAAAAAAAAAAAAAAAAAA"}`, http.StatusBadRequest, connect.CodeInvalidArgument},
		{"symbol inside", `{"user_token": "pxtok_AAAAAAAAAAAA/AAAAAAAAAAA"}`, http.StatusBadRequest, connect.CodeInvalidArgument},
		{"unknown token", `{"user_token": "pxtok_AAAAAAAAAAAAAAAAAAAAAAAA"}`, http.StatusUnauthorized, connect.CodeUnauthenticated},
		{"number token", `{"user_token": 1}`, http.StatusBadRequest, connect.CodeInvalidArgument},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			reply := server.do(t, http.MethodPost, "/verify-user-token", "", []byte(test.body))
			if reply.Status != test.wantStatus {
				t.Errorf("status = %d, want %d (body %v)", reply.Status, test.wantStatus, reply.Body)
			}
			if reply.text("field") != "user_token" {
				t.Errorf("field = %q, want user_token", reply.text("field"))
			}
			if test.name == "number token" {
				return
			}
			var request authv1.VerifyUserTokenRequest
			if err := protojson.Unmarshal([]byte(test.body), &request); err != nil {
				t.Fatal(err)
			}
			_, err := server.connectClient().VerifyUserToken(t.Context(), connect.NewRequest(&request))
			if connect.CodeOf(err) != test.wantCode {
				t.Errorf("over Connect: %v, want %v", err, test.wantCode)
			}
		})
	}
	malformed := server.Options.Metrics.rejected.WithLabelValues(opVerifyToken, string(reasonMalformedToken))
	if got := testutil.ToFloat64(malformed); got != 8 {
		t.Errorf("rejections for malformed_token = %v, want 8 (4 over HTTP, 4 over Connect)", got)
	}
}

func TestIssueIgnoresUnknownFields(t *testing.T) {
	server := startServer(t, serverConfig{})
	projectID, key := server.createTenant(t)
	reply := server.post(t, "/generate-user-token", map[string]any{
		"user_id": "alice", "project_id": projectID, "secret_api_key": key,
		"client_version": 7,
	})
	if reply.Status != http.StatusOK {
		t.Errorf("status = %d, want 200 (body %v)", reply.Status, reply.Body)
	}
}

func TestIssueRejectsOversizedBody(t *testing.T) {
	server := startServer(t, serverConfig{})
	projectID, key := server.createTenant(t)
	body := jsonText(t, map[string]string{
		"user_id": "alice", "project_id": projectID, "secret_api_key": key,
		"padding": strings.Repeat("x", MaxBodyBytes),
	})
	reply := server.do(t, http.MethodPost, "/generate-user-token", "", []byte(body))
	if reply.Status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", reply.Status)
	}
	if !strings.Contains(reply.text("error"), "exceeds") {
		t.Errorf("error %q does not mention the size limit", reply.text("error"))
	}
}

func TestConnectRejectsOversizeRequest(t *testing.T) {
	server := startServer(t, serverConfig{})
	body := `{"userToken":"` + strings.Repeat("a", 2*MaxBodyBytes) + `"}`
	request, err := http.NewRequest(http.MethodPost,
		server.URL+"/peroxo.auth.v1.AuthService/VerifyUserToken", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Content-Type", "application/json")
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("post oversize request: %v", err)
	}
	defer response.Body.Close()
	reply, _ := io.ReadAll(response.Body)
	// A well-formed token field of the wrong form would get invalid_argument;
	// resource_exhausted shows the size cap rejected the body first.
	if !strings.Contains(string(reply), "resource_exhausted") {
		t.Errorf("reply to a %d-byte body = %d %s, want resource_exhausted",
			len(body), response.StatusCode, reply)
	}
}
