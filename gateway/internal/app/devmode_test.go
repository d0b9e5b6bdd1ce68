package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/devmode"
)

// devToken calls POST /dev/token until the demo project is ready, because
// the gateway creates it in the background.
func devToken(t testing.TB, gateway *gatewayNode, user string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user_id": user})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		response, err := http.Post(gateway.url+"/dev/token", "application/json",
			bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var answer map[string]any
		_ = json.NewDecoder(response.Body).Decode(&answer)
		response.Body.Close()
		if response.StatusCode == http.StatusOK {
			return answer
		}
		if response.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("POST /dev/token: status %d %v", response.StatusCode, answer)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the demo project did not become ready")
	return nil
}

func TestDevModeIssuesTokens(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	cfg := testConfig(t, authsvc.url, map[string]string{
		"PEROXO_GATEWAY_DEV_MODE":         "true",
		"PEROXO_GATEWAY_AUTH_ADMIN_TOKEN": adminToken,
	})
	gateway := startGateway(t, cfg)
	answer := devToken(t, gateway, "alice")
	token, _ := answer["user_token"].(string)
	if token == "" || answer["project_id"] == "" || answer["expires_at"] == nil {
		t.Fatalf("POST /dev/token = %v", answer)
	}
	alice := gateway.dial(t, token, "alice")
	alice.send("JoinRoom", map[string]string{"room_id": "demo"})
	alice.expect("RoomJoined")

	info, err := os.Stat(filepath.Join(cfg.DataDir, devmode.ProjectFile))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("demo project file mode = %o, want 600", mode)
	}
}

func TestDevTokenIsAbsentWithoutDevMode(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	response, err := http.Post(gateway.url+"/dev/token", "application/json",
		bytes.NewReader([]byte(`{"user_id":"alice"}`)))
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusNotFound {
		t.Errorf("status = %d, want 404", response.StatusCode)
	}
}
