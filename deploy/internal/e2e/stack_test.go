package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/peroxo/peroxo/deploy/internal/stack"
)

// stackProcesses are the four running services of one test.
type stackProcesses struct {
	bin      string
	authEnv  map[string]string
	services map[string]*process
}

// startStack builds the services and runs them on their embedded defaults,
// on loopback ports and with data directories of the test.
func startStack(t *testing.T) *stackProcesses {
	t.Helper()
	root, err := stack.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := buildServices(t, root)
	data := t.TempDir()
	natsURL := "nats://127.0.0.1:" + strconv.Itoa(reservePort(t))
	adminToken := "e2e_" + rand.Text()

	authEnv := map[string]string{
		"PEROXO_AUTH_ADDR":        "127.0.0.1:0",
		"PEROXO_AUTH_DATA_DIR":    filepath.Join(data, "authsvc"),
		"PEROXO_AUTH_ADMIN_TOKEN": adminToken,
	}
	authsvc := startService(t, bin, "authsvc", authEnv)
	chatsvc := startService(t, bin, "chatsvc", map[string]string{
		"PEROXO_CHAT_ADDR":     "127.0.0.1:0",
		"PEROXO_CHAT_DATA_DIR": filepath.Join(data, "chatsvc"),
	})
	gateway := startService(t, bin, "gateway", map[string]string{
		"PEROXO_GATEWAY_ADDR":             "127.0.0.1:0",
		"PEROXO_GATEWAY_DATA_DIR":         filepath.Join(data, "gateway"),
		"PEROXO_GATEWAY_NATS_LISTEN_ADDR": natsURL[len("nats://"):],
		"PEROXO_GATEWAY_AUTH_URL":         authsvc.url(),
		"PEROXO_GATEWAY_CHAT_URL":         chatsvc.url(),
	})
	consumer := startService(t, bin, "consumer", map[string]string{
		"PEROXO_CONSUMER_ADDR":     "127.0.0.1:0",
		"PEROXO_CONSUMER_DATA_DIR": filepath.Join(data, "consumer"),
		"PEROXO_CONSUMER_NATS_URL": natsURL,
		"PEROXO_CONSUMER_CHAT_URL": chatsvc.url(),
	})
	return &stackProcesses{
		bin:     bin,
		authEnv: authEnv,
		services: map[string]*process{
			"gateway": gateway, "authsvc": authsvc, "chatsvc": chatsvc, "consumer": consumer,
		},
	}
}

// tenant is a project with its secret API key.
type tenant struct {
	ProjectID    string `json:"project_id"`
	SecretAPIKey string `json:"secret_api_key"`
}

func (s *stackProcesses) createTenant(t *testing.T) tenant {
	t.Helper()
	output := runCommand(t, s.bin, "authsvc", s.authEnv,
		"tenants", "create", "--name", "e2e")
	var created tenant
	if err := json.Unmarshal(output, &created); err != nil {
		t.Fatalf("authsvc tenants create printed %q, want JSON: %v", output, err)
	}
	if created.ProjectID == "" || created.SecretAPIKey == "" {
		t.Fatalf("authsvc tenants create printed %q without project_id or secret_api_key",
			output)
	}
	return created
}

func (s *stackProcesses) userToken(t *testing.T, project tenant, user string) string {
	t.Helper()
	var response struct {
		UserToken string `json:"user_token"`
	}
	postJSON(t, s.services["authsvc"].url()+"/generate-user-token", map[string]string{
		"user_id": user, "project_id": project.ProjectID, "secret_api_key": project.SecretAPIKey,
	}, &response)
	if response.UserToken == "" {
		t.Fatalf("generate-user-token returned no user_token for %s", user)
	}
	return response.UserToken
}

// driveTraffic exchanges a direct message and a room message between two
// users and reads the direct conversation back from history once the
// consumer has projected it. It then sends a malformed frame and a
// handshake with a bad token, so that error and rejection counters move.
func (s *stackProcesses) driveTraffic(t *testing.T) {
	t.Helper()
	project := s.createTenant(t)
	aliceToken := s.userToken(t, project, "alice")
	bobToken := s.userToken(t, project, "bob")
	gatewayURL := s.services["gateway"].url()

	var conversation struct {
		ConversationID string `json:"conversation_id"`
	}
	getJSON(t, fmt.Sprintf("%s/conversations?project_id=%s&user_id_1=alice&user_id_2=bob",
		gatewayURL, project.ProjectID), aliceToken, &conversation)

	alice := dialGateway(t, gatewayURL, aliceToken)
	bob := dialGateway(t, gatewayURL, bobToken)

	directID := uuid.NewString()
	alice.send(t, "SendDirectMessage", map[string]any{
		"conversation_id":   conversation.ConversationID,
		"to":                map[string]string{"project_id": project.ProjectID, "user_id": "bob"},
		"content":           "hello bob",
		"client_message_id": directID,
	})
	ack := alice.await(t, "MessageAck", fieldEquals("client_message_id", directID))
	if !fieldEquals("status", "Persisted")(ack) {
		t.Fatalf("direct message ack = %s, want status Persisted", ack)
	}
	bob.await(t, "DirectMessage", fieldEquals("content", "hello bob"))

	for _, client := range []*wsClient{alice, bob} {
		client.send(t, "JoinRoom", map[string]string{"room_id": "lobby"})
		client.await(t, "RoomJoined", fieldEquals("room_id", "lobby"))
	}
	roomID := uuid.NewString()
	alice.send(t, "RoomMessage", map[string]string{
		"room_id": "lobby", "from": "alice", "content": "hello room", "message_id": roomID,
	})
	alice.await(t, "MessageAck", fieldEquals("client_message_id", roomID))
	bob.await(t, "RoomMessage", fieldEquals("content", "hello room"))

	s.awaitHistory(t, bob, project.ProjectID, conversation.ConversationID, "hello bob")

	alice.sendRaw(t, `{"NoSuchMessage":{}}`)
	alice.await(t, "Error", nil)
	s.rejectBadToken(t)
}

// awaitHistory pages the conversation until the consumer has projected a
// message with content into chatsvc.
func (s *stackProcesses) awaitHistory(t *testing.T, client *wsClient, project, conversationID, content string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		client.send(t, "GetPaginatedMessages", map[string]string{
			"project_id": project, "conversation_id": conversationID,
		})
		var history struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
		}
		fields := client.await(t, "ChatHistoryResponse", nil)
		if err := json.Unmarshal(fields, &history); err != nil {
			t.Fatalf("decode ChatHistoryResponse %s: %v", fields, err)
		}
		if slices.ContainsFunc(history.Messages, func(m struct {
			Content string `json:"content"`
		}) bool {
			return m.Content == content
		}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("history of %s lacks %q 30s after it was acknowledged",
				conversationID, content)
		}
		// NOTE: the projection sends no signal to clients, so the test sends
		// the request again after a pause; the deadline above bounds the wait.
		time.Sleep(200 * time.Millisecond)
	}
}

// rejectBadToken opens a WebSocket with a token the auth service never
// issued and expects the handshake to fail.
func (s *stackProcesses) rejectBadToken(t *testing.T) {
	t.Helper()
	request, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		s.services["gateway"].url()+"/ws?token=pxtok_000000000000000000000000", nil)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("handshake with a bad token: %v", err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusUnauthorized {
		t.Errorf("handshake with a bad token: status %s, want 401", response.Status)
	}
}

// TestDashboardMetricsExported runs the four services, drives traffic
// through them, and checks that every series a Grafana dashboard queries is
// exposed on the /metrics of the service its job label names.
func TestDashboardMetricsExported(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs all four services")
	}
	root, err := stack.FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	dashboards, err := stack.ReadDashboards(filepath.Join(root, stack.DashboardDir))
	if err != nil {
		t.Fatal(err)
	}

	running := startStack(t)
	running.driveTraffic(t)

	exposed := make(map[string]map[string]bool)
	for name, proc := range running.services {
		exposed[name] = scrapeSeries(t, proc.url())
	}
	missing := make(map[string][]string)
	for _, dashboard := range dashboards {
		for _, panel := range dashboard.AllPanels() {
			for _, target := range panel.Targets {
				selectors, err := stack.QuerySelectors(target.Expr)
				if err != nil {
					t.Errorf("%s: panel %s: %v", dashboard.File, panel.Title, err)
					continue
				}
				for _, selector := range selectors {
					series, ok := exposed[selector.Job]
					if !ok {
						t.Errorf("%s: panel %s selects job %q, which is no service",
							dashboard.File, panel.Title, selector.Job)
						continue
					}
					if !series[selector.Metric] &&
						!slices.Contains(missing[selector.Job], selector.Metric) {
						missing[selector.Job] = append(missing[selector.Job], selector.Metric)
					}
				}
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("dashboards query series that the services do not expose:%s",
			describeMissing(missing))
	}
}
