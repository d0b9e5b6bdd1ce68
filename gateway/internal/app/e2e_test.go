package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/peroxo/peroxo/gateway/internal/wire"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// conversationID calls GET /conversations with token.
func (g *gatewayNode) conversationID(t testing.TB, token, project, a, b string) string {
	t.Helper()
	status, body := g.getConversation(t, token, project, a, b)
	if status != http.StatusOK {
		t.Fatalf("GET /conversations: status %d %v", status, body)
	}
	return body["conversation_id"]
}

func (g *gatewayNode) getConversation(t testing.TB, token, project, a, b string,
) (int, map[string]string) {
	t.Helper()
	query := url.Values{"project_id": {project}, "user_id_1": {a}, "user_id_2": {b}}
	request, _ := http.NewRequest(http.MethodGet, g.url+"/conversations?"+query.Encode(), nil)
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(response.Body).Decode(&body)
	return response.StatusCode, body
}

func directMessage(project, to, conversation, content, clientID string) map[string]any {
	return map[string]any{
		"conversation_id":   conversation,
		"to":                map[string]string{"project_id": project, "user_id": to},
		"content":           content,
		"client_message_id": clientID,
	}
}

func TestDirectMessagesBothWaysWithAcks(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	aliceToken, bobToken := authsvc.token(t, "alice"), authsvc.token(t, "bob")
	alice := gateway.dial(t, aliceToken, "alice")
	bob := gateway.dial(t, bobToken, "bob")
	project := authsvc.projectID
	conversation := gateway.conversationID(t, aliceToken, project, "alice", "bob")
	if other := gateway.conversationID(t, bobToken, project, "bob", "alice"); other != conversation {
		t.Fatalf("bob's conversation id %s differs from alice's %s", other, conversation)
	}

	pairs := []struct {
		sender, recipient *client
		to                string
	}{{alice, bob, "bob"}, {bob, alice, "alice"}}
	for _, pair := range pairs {
		clientID := newID()
		pair.sender.send("SendDirectMessage",
			directMessage(project, pair.to, conversation, "hello "+pair.to, clientID))
		ack := pair.sender.expect("MessageAck")
		if ack["status"] != "Persisted" || ack["client_message_id"] != clientID {
			t.Errorf("%s ack = %v, want Persisted for %s", pair.sender.name, ack, clientID)
		}
		delivered := pair.recipient.expect("DirectMessage")
		if delivered["server_message_id"] != ack["message_id"] {
			t.Errorf("delivered id %v, ack id %v", delivered["server_message_id"],
				ack["message_id"])
		}
		if delivered["from"] != pair.sender.name || delivered["conversation_id"] != conversation {
			t.Errorf("%s received %v", pair.recipient.name, delivered)
		}
	}
	if got := gateway.counter(t, "chat_messages_total", "type", "direct"); got != 2 {
		t.Errorf("chat_messages_total{type=direct} = %v, want 2", got)
	}
	if got := gateway.counter(t, "websocket_messages_total", "direction", "in",
		"type", "SendDirectMessage"); got != 2 {
		t.Errorf("websocket_messages_total{in,SendDirectMessage} = %v, want 2", got)
	}
	if got := gateway.counter(t, "chat_message_processing_duration_seconds"); got != 2 {
		t.Errorf("chat_message_processing_duration_seconds count = %v, want 2", got)
	}
	if got := gateway.counter(t, "websocket_connections_active"); got != 2 {
		t.Errorf("websocket_connections_active = %v, want 2", got)
	}
	if got := gateway.counter(t, "http_requests_total", "route", "GET /conversations",
		"code", "200"); got != 2 {
		t.Errorf("http_requests_total{GET /conversations,200} = %v, want 2", got)
	}
}

func TestConnectionLimitRejectsWith503(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_MAX_CONNECTIONS": "1"}))
	gateway.dial(t, authsvc.token(t, "alice"), "alice")
	conn, response, err := websocket.Dial(context.Background(),
		gateway.wsURL()+"?token="+authsvc.token(t, "bob"), nil)
	if conn != nil {
		conn.CloseNow()
	}
	if response == nil || response.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second connection: response %v, err %v; want 503", response, err)
	}
	if got := gateway.counter(t, "gateway_rejections_total", "reason",
		"connection_limit"); got != 1 {
		t.Errorf("rejections{connection_limit} = %v, want 1", got)
	}
}

func TestRoomWithThreeMembers(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	users := []string{"alice", "bob", "carol"}
	clients := make([]*client, len(users))
	for i, user := range users {
		clients[i] = gateway.dial(t, authsvc.token(t, user), user)
		clients[i].send("JoinRoom", map[string]string{"room_id": "lobby"})
		clients[i].expect("RoomJoined")
	}
	clientID := newID()
	clients[0].send("RoomMessage", map[string]string{"room_id": "lobby", "from": "alice",
		"content": "hi all", "message_id": clientID})
	ack := clients[0].expect("MessageAck")
	if ack["status"] != "Persisted" {
		t.Errorf("ack = %v", ack)
	}
	for _, member := range clients[1:] {
		body := member.expect("RoomMessage")
		if body["message_id"] != ack["message_id"] || body["content"] != "hi all" {
			t.Errorf("%s received %v, ack %v", member.name, body, ack)
		}
	}
	clients[2].send("LeaveRoom", map[string]string{"room_id": "lobby"})
	clients[2].expect("RoomLeft")
}

func TestMultiDeviceCopiesAndIdempotentResend(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	project := authsvc.projectID
	aliceToken := authsvc.token(t, "alice")
	phone := gateway.dial(t, aliceToken, "alice-phone")
	laptop := gateway.dial(t, authsvc.token(t, "alice"), "alice-laptop")
	bobPhone := gateway.dial(t, authsvc.token(t, "bob"), "bob-phone")
	bobLaptop := gateway.dial(t, authsvc.token(t, "bob"), "bob-laptop")
	conversation := gateway.conversationID(t, aliceToken, project, "alice", "bob")

	clientID := newID()
	message := directMessage(project, "bob", conversation, "one copy each", clientID)
	phone.send("SendDirectMessage", message)
	first := phone.expect("MessageAck")
	for _, device := range []*client{laptop, bobPhone, bobLaptop} {
		body := device.expect("DirectMessage")
		if body["server_message_id"] != first["message_id"] {
			t.Errorf("%s received %v", device.name, body)
		}
	}

	phone.send("SendDirectMessage", message)
	second := phone.expect("MessageAck")
	if second["message_id"] != first["message_id"] || second["status"] != "Persisted" {
		t.Errorf("resend ack %v, first ack %v", second, first)
	}
	// A marker message proves nothing else was queued before it.
	marker := newID()
	phone.send("SendDirectMessage", directMessage(project, "bob", conversation, "marker", marker))
	phone.expect("MessageAck")
	for _, device := range []*client{laptop, bobPhone, bobLaptop} {
		body := device.expect("DirectMessage")
		if body["content"] != "marker" {
			t.Errorf("%s received %v before the marker: a duplicate", device.name, body)
		}
	}
}

func TestCrossTenantAttemptsAreRejected(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	project := authsvc.projectID
	aliceToken := authsvc.token(t, "alice")
	alice := gateway.dial(t, aliceToken, "alice")
	bob := gateway.dial(t, authsvc.token(t, "bob"), "bob")
	conversation := gateway.conversationID(t, aliceToken, project, "alice", "bob")
	bob.send("JoinRoom", map[string]string{"room_id": "lobby"})
	bob.expect("RoomJoined")

	tests := []struct {
		name  string
		frame string
		body  any
		code  wire.Code
	}{
		{"direct message to another project", "SendDirectMessage",
			directMessage("peroxo_pj_other", "bob", conversation, "x", newID()),
			wire.CodeForbiddenProject},
		{"conversation of another pair", "SendDirectMessage",
			directMessage(project, "bob", gateway.conversationID(t, aliceToken, project,
				"alice", "carol"), "x", newID()), wire.CodeConversationMismatch},
		{"room message from another user", "RoomMessage", map[string]string{
			"room_id": "lobby", "from": "bob", "content": "x", "message_id": newID()},
			wire.CodeNotSender},
		{"room message without joining", "RoomMessage", map[string]string{
			"room_id": "lobby", "from": "alice", "content": "x", "message_id": newID()},
			wire.CodeNotRoomMember},
		{"room history without joining", "GetRoomHistory", map[string]string{
			"room_id": "lobby"}, wire.CodeNotRoomMember},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			alice.t = t
			alice.send(test.frame, test.body)
			alice.expectError(int(test.code))
		})
	}
	alice.t = t
	// Nothing reached bob: the next frame he sees is the marker.
	marker := newID()
	alice.send("SendDirectMessage", directMessage(project, "bob", conversation, "marker", marker))
	if body := bob.expect("DirectMessage"); body["content"] != "marker" {
		t.Errorf("bob received %v", body)
	}

	status, _ := gateway.getConversation(t, aliceToken, "peroxo_pj_other", "alice", "bob")
	if status != http.StatusForbidden {
		t.Errorf("conversation in another project: status %d, want 403", status)
	}
	status, _ = gateway.getConversation(t, aliceToken, project, "bob", "carol")
	if status != http.StatusForbidden {
		t.Errorf("conversation of other users: status %d, want 403", status)
	}
}

func TestBadInputGetsErrorAndSessionSurvives(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_MAX_MESSAGE_BYTES": "32"}))
	alice := gateway.dial(t, authsvc.token(t, "alice"), "alice")
	project := authsvc.projectID
	id := newID()
	validDM := func(old, replacement string) string {
		frame := `{"SendDirectMessage":{"conversation_id":"` + id + `","to":{"project_id":"` +
			project + `","user_id":"bob"},"content":"hi","client_message_id":"` + id + `"}}`
		return strings.Replace(frame, old, replacement, 1)
	}
	tests := []struct {
		name  string
		frame string
		code  wire.Code
	}{
		{"not JSON", `hello`, wire.CodeInvalidFrame},
		{"JSON array", `[1,2]`, wire.CodeInvalidFrame},
		{"JSON number", `42`, wire.CodeInvalidFrame},
		{"unknown type", `{"Shout":{}}`, wire.CodeUnknownType},
		{"two keys", `{"JoinRoom":{"room_id":"a"},"LeaveRoom":{"room_id":"a"}}`,
			wire.CodeInvalidFrame},
		{"missing field", `{"JoinRoom":{}}`, wire.CodeInvalidField},
		{"mistyped field", `{"JoinRoom":{"room_id":true}}`, wire.CodeInvalidField},
		{"unknown field", `{"JoinRoom":{"room_id":"a","x":1}}`, wire.CodeInvalidField},
		{"invalid uuid", validDM(`"client_message_id":"`+id, `"client_message_id":"abc`),
			wire.CodeInvalidField},
		{"empty id", `{"JoinRoom":{"room_id":""}}`, wire.CodeInvalidField},
		{"long id", `{"JoinRoom":{"room_id":"` + strings.Repeat("x", 200) + `"}}`,
			wire.CodeInvalidField},
		{"control character in id", `{"JoinRoom":{"room_id":"a\u0000b"}}`,
			wire.CodeInvalidField},
		{"empty content", validDM(`"content":"hi"`, `"content":""`), wire.CodeInvalidField},
		{"long content", validDM(`"content":"hi"`,
			`"content":"`+strings.Repeat("y", 33)+`"`), wire.CodeInvalidField},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			alice.t = t
			alice.sendRaw(test.frame)
			alice.expectError(int(test.code))
		})
	}
	alice.t = t
	if err := alice.conn.Write(context.Background(), websocket.MessageBinary,
		[]byte(`{"JoinRoom":{"room_id":"a"}}`)); err != nil {
		t.Fatal(err)
	}
	alice.expectError(int(wire.CodeBinaryFrame))
	alice.send("JoinRoom", map[string]string{"room_id": "still-here"})
	alice.expect("RoomJoined")
}

func TestOversizeFrameClosesWith1009(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	alice := gateway.dial(t, authsvc.token(t, "alice"), "alice")
	alice.sendRaw(`{"JoinRoom":{"room_id":"` + strings.Repeat("x", 70*1024) + `"}}`)
	code, _ := alice.expectClose()
	if code != websocket.StatusMessageTooBig {
		t.Errorf("close code = %d, want 1009", code)
	}
}

func TestFloodIsRateLimitedAndSessionSurvives(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, map[string]string{
		"PEROXO_GATEWAY_MESSAGES_PER_SECOND": "1",
		"PEROXO_GATEWAY_MESSAGE_BURST":       "5",
	}))
	alice := gateway.dial(t, authsvc.token(t, "alice"), "alice")
	for range 20 {
		alice.send("JoinRoom", map[string]string{"room_id": "flood"})
	}
	limited := 0
	for range 20 {
		name, body := alice.next()
		if name == "Error" && body["code"] == float64(wire.CodeRateLimited) {
			limited++
		}
	}
	if limited < 10 {
		t.Errorf("%d of 20 frames were rate limited, want at least 10", limited)
	}
	if got := gateway.counter(t, "gateway_rate_limited_frames_total"); got < 10 {
		t.Errorf("gateway_rate_limited_frames_total = %v", got)
	}
	// The session stays open: once the bucket refills (one frame a second)
	// a request is served again. Every frame gets exactly one answer.
	for attempt := 0; ; attempt++ {
		alice.send("JoinRoom", map[string]string{"room_id": "after-flood"})
		name, body := alice.next()
		if name == "RoomJoined" {
			break
		}
		if name != "Error" || attempt == 50 {
			t.Fatalf("after the flood: %s %v", name, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// countFrames reads from c in the background until it has seen want
// frames containing marker, then reports the count; a read error ends it
// early.
func countFrames(c *client, marker string, want int) <-chan int {
	done := make(chan int, 1)
	go func() {
		seen := 0
		for seen < want {
			_, data, err := c.conn.Read(context.Background())
			if err != nil {
				break
			}
			if strings.Contains(string(data[:min(len(data), 64)]), marker) {
				seen++
			}
		}
		done <- seen
	}()
	return done
}

func TestSlowReaderIsDisconnected(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, map[string]string{
		"PEROXO_GATEWAY_MESSAGES_PER_SECOND": "100000",
		"PEROXO_GATEWAY_MESSAGE_BURST":       "100000",
		"PEROXO_GATEWAY_QUEUE_LENGTH":        "64",
		"PEROXO_GATEWAY_WRITE_TIMEOUT":       "2s",
		"PEROXO_GATEWAY_MAX_MESSAGE_BYTES":   "60000",
	}))
	sender := gateway.dial(t, authsvc.token(t, "alice"), "alice")
	reader := gateway.dial(t, authsvc.token(t, "bob"), "bob")
	slow := gateway.dial(t, authsvc.token(t, "carol"), "carol")
	for _, member := range []*client{sender, reader, slow} {
		member.send("JoinRoom", map[string]string{"room_id": "busy"})
		member.expect("RoomJoined")
	}
	// 400 frames of 60 kB exceed the slow reader's queue plus what the
	// loopback socket buffers hold, so its queue must fill.
	const messages = 400
	acks := countFrames(sender, "MessageAck", messages)
	received := countFrames(reader, "RoomMessage", messages)
	content := strings.Repeat("z", 60000)
	for range messages {
		sender.send("RoomMessage", map[string]string{"room_id": "busy", "from": "alice",
			"content": content, "message_id": newID()})
	}
	if got := <-received; got != messages {
		t.Errorf("the reading member received %d of %d messages", got, messages)
	}
	if got := <-acks; got != messages {
		t.Errorf("the sender received %d of %d acks", got, messages)
	}
	if got := gateway.counter(t, "gateway_slow_consumer_disconnects_total"); got != 1 {
		t.Errorf("slow consumer disconnects = %v, want 1", got)
	}
	slow.expectClose()
}

func TestTokenExpiryClosesAndRefreshKeepsOpen(t *testing.T) {
	authsvc := startAuth(t, 4*time.Second)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	expiring := gateway.dial(t, authsvc.token(t, "alice"), "alice-expiring")
	refreshing := gateway.dial(t, authsvc.token(t, "alice"), "alice-refreshing")

	// A token issued halfway through the first one's life expires about
	// two seconds after it.
	time.Sleep(2 * time.Second)
	refreshing.send("RefreshToken", map[string]string{"token": authsvc.token(t, "alice")})
	refreshed := refreshing.expect("TokenRefreshed")
	if expiresAt, _ := refreshed["expires_at"].(float64); expiresAt <= 0 {
		t.Errorf("TokenRefreshed = %v", refreshed)
	}

	code, reason := expiring.expectClose()
	if code != websocket.StatusCode(wire.CloseTokenExpired) || reason != wire.ReasonTokenExpired {
		t.Errorf("close = %d %q, want 4001 %q", code, reason, wire.ReasonTokenExpired)
	}
	refreshing.send("GetOnlineUsers", map[string]any{})
	online := refreshing.expect("OnlineUsers")
	if users, _ := online["users"].([]any); len(users) != 1 || users[0] != "alice" {
		t.Errorf("OnlineUsers = %v, want [alice]", online)
	}
	code, _ = refreshing.expectClose()
	if code != websocket.StatusCode(wire.CloseTokenExpired) {
		t.Errorf("refreshed session closed with %d, want 4001 once the new token expired", code)
	}
}

func TestRefreshWithAnotherUsersTokenFails(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, nil))
	alice := gateway.dial(t, authsvc.token(t, "alice"), "alice")
	alice.send("RefreshToken", map[string]string{"token": authsvc.token(t, "bob")})
	alice.expectError(int(wire.CodeTokenMismatch))
	alice.send("RefreshToken", map[string]string{"token": "pxtok_notarealtoken000000000"})
	alice.expectError(int(wire.CodeTokenInvalid))
}

func TestSessionsPerUserCap(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url,
		map[string]string{"PEROXO_GATEWAY_SESSIONS_PER_USER": "2"}))
	gateway.dial(t, authsvc.token(t, "alice"), "alice-1")
	gateway.dial(t, authsvc.token(t, "alice"), "alice-2")
	third := gateway.dial(t, authsvc.token(t, "alice"), "alice-3")
	code, reason := third.expectClose()
	if code != websocket.StatusCode(wire.CloseTooManySessions) ||
		reason != wire.ReasonTooManySessions {
		t.Errorf("close = %d %q, want 4003 %q", code, reason, wire.ReasonTooManySessions)
	}
	if got := gateway.counter(t, "gateway_rejections_total", "reason",
		"too_many_sessions"); got != 1 {
		t.Errorf("rejections{too_many_sessions} = %v, want 1", got)
	}
}

func TestHandshakeStatusCodes(t *testing.T) {
	authsvc := startAuth(t, 10*time.Minute)
	gateway := startGateway(t, testConfig(t, authsvc.url, map[string]string{
		"PEROXO_GATEWAY_ALLOWED_ORIGINS": "https://chat.example.test",
	}))
	unreachable := startGateway(t, testConfig(t, "http://"+freeAddr(t), nil))
	token := authsvc.token(t, "alice")

	tests := []struct {
		name    string
		node    *gatewayNode
		query   string
		headers http.Header
		status  int
	}{
		{"missing token", gateway, "", nil, http.StatusBadRequest},
		{"invalid token", gateway, "?token=pxtok_invalidinvalidinvalid00", nil,
			http.StatusUnauthorized},
		{"auth service down", unreachable, "?token=" + token, nil,
			http.StatusServiceUnavailable},
		{"foreign origin", gateway, "?token=" + token,
			http.Header{"Origin": {"https://evil.example.test"}}, http.StatusForbidden},
		{"origin prefix only", gateway, "?token=" + token,
			http.Header{"Origin": {"https://chat.example.test.evil.test"}},
			http.StatusForbidden},
		{"allowed origin", gateway, "?token=" + token,
			http.Header{"Origin": {"https://chat.example.test"}}, http.StatusSwitchingProtocols},
		{"bearer header", gateway, "", http.Header{"Authorization": {"Bearer " + token}},
			http.StatusSwitchingProtocols},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			conn, response, err := websocket.Dial(context.Background(),
				test.node.wsURL()+test.query, &websocket.DialOptions{HTTPHeader: test.headers})
			if conn != nil {
				conn.CloseNow()
			}
			if response == nil {
				t.Fatalf("no response: %v", err)
			}
			if response.StatusCode != test.status {
				t.Errorf("status = %d, want %d (%v)", response.StatusCode, test.status, err)
			}
		})
	}

	conn, _, err := websocket.Dial(context.Background(), gateway.wsURL(),
		&websocket.DialOptions{Subprotocols: []string{"peroxo.v1", "bearer." + token}})
	if err != nil {
		t.Fatalf("dial with the token as subprotocol: %v", err)
	}
	defer conn.CloseNow()
	if conn.Subprotocol() != "peroxo.v1" {
		t.Errorf("subprotocol = %q, want peroxo.v1", conn.Subprotocol())
	}
}
