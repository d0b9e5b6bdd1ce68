package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// protocolServer serves the part of the gateway and auth service protocol
// that the scenarios use, in memory, so the generator's counting can be
// tested with known faults. The integration test runs the real services.
type protocolServer struct {
	// dropEvery and duplicateEvery, when positive, make every n-th direct
	// message vanish or arrive twice.
	dropEvery      int64
	duplicateEvery int64

	directCount atomic.Int64
	active      atomic.Int64

	mu    sync.Mutex
	users map[string][]*websocket.Conn // only under mu
	rooms map[string][]*websocket.Conn // only under mu
}

func startProtocolServer(t testing.TB, server *protocolServer) string {
	t.Helper()
	server.users = make(map[string][]*websocket.Conn)
	server.rooms = make(map[string][]*websocket.Conn)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /generate-tenant", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer admin" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]string{"project_id": "peroxo_pj_test", "secret_api_key": "key"})
	})
	mux.HandleFunc("POST /generate-user-token", func(w http.ResponseWriter, r *http.Request) {
		var request map[string]string
		_ = json.NewDecoder(r.Body).Decode(&request)
		writeJSON(w, map[string]string{"user_token": "pxtok_" + request["user_id"]})
	})
	mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.Query()
		writeJSON(w, map[string]string{"conversation_id": query.Get("user_id_1") + "+" + query.Get("user_id_2")})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		// 1,000 bytes of resident memory and one goroutine per connection.
		active := server.active.Load()
		fmt.Fprintf(w, "process_resident_memory_bytes %d\n", 1_000_000+1000*active)
		fmt.Fprintf(w, "go_memstats_heap_inuse_bytes %d\n", 500_000+500*active)
		fmt.Fprintf(w, "go_memstats_sys_bytes %d\n", 2_000_000+2000*active)
		fmt.Fprintf(w, "go_goroutines %d\n", 10+active)
		fmt.Fprintf(w, "websocket_connections_active %d\n", active)
	})
	mux.HandleFunc("GET /ws", server.serveWebSocket)
	httpServer := httptest.NewServer(mux)
	t.Cleanup(httpServer.Close)
	return httpServer.URL
}

func writeJSON(w http.ResponseWriter, value any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(value)
}

func (s *protocolServer) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	user, ok := strings.CutPrefix(r.URL.Query().Get("token"), "pxtok_")
	if !ok {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	// Counted before the upgrade completes, so a client that reads the
	// metrics right after its dial returned finds its connection counted.
	s.active.Add(1)
	defer s.active.Add(-1)
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.users[user] = append(s.users[user], conn)
	s.mu.Unlock()
	ctx := context.Background()
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		var frame map[string]json.RawMessage
		if json.Unmarshal(data, &frame) != nil {
			continue
		}
		s.handleFrame(ctx, conn, frame)
	}
}

func (s *protocolServer) handleFrame(ctx context.Context, conn *websocket.Conn, frame map[string]json.RawMessage) {
	var fields struct {
		RoomID          string `json:"room_id"`
		From            string `json:"from"`
		Content         string `json:"content"`
		MessageID       string `json:"message_id"`
		ClientMessageID string `json:"client_message_id"`
		ConversationID  string `json:"conversation_id"`
		To              struct {
			UserID string `json:"user_id"`
		} `json:"to"`
	}
	send := func(target *websocket.Conn, typ string, body any) {
		data, _ := json.Marshal(map[string]any{typ: body})
		_ = target.Write(ctx, websocket.MessageText, data)
	}
	ack := func(clientID string) {
		send(conn, "MessageAck", map[string]any{
			"client_message_id": clientID, "message_id": clientID, "timestamp": 1, "status": "Persisted",
		})
	}
	switch {
	case frame["JoinRoom"] != nil:
		_ = json.Unmarshal(frame["JoinRoom"], &fields)
		s.mu.Lock()
		s.rooms[fields.RoomID] = append(s.rooms[fields.RoomID], conn)
		s.mu.Unlock()
		send(conn, "RoomJoined", map[string]any{"room_id": fields.RoomID, "members": []string{}})
	case frame["RoomMessage"] != nil:
		_ = json.Unmarshal(frame["RoomMessage"], &fields)
		s.mu.Lock()
		members := append([]*websocket.Conn(nil), s.rooms[fields.RoomID]...)
		s.mu.Unlock()
		for _, member := range members {
			send(member, "RoomMessage", map[string]any{
				"room_id": fields.RoomID, "from": fields.From, "content": fields.Content,
				"message_id": fields.MessageID, "timestamp": 1,
			})
		}
		ack(fields.MessageID)
	case frame["SendDirectMessage"] != nil:
		_ = json.Unmarshal(frame["SendDirectMessage"], &fields)
		copies := 1
		if strings.Contains(fields.Content, " m ") {
			n := s.directCount.Add(1)
			if s.dropEvery > 0 && n%s.dropEvery == 0 {
				copies = 0
			}
			if s.duplicateEvery > 0 && n%s.duplicateEvery == 0 {
				copies = 2
			}
		}
		s.mu.Lock()
		recipients := append([]*websocket.Conn(nil), s.users[fields.To.UserID]...)
		s.mu.Unlock()
		for range copies {
			for _, recipient := range recipients {
				send(recipient, "DirectMessage", map[string]any{
					"from": "x", "to": fields.To.UserID, "content": fields.Content,
					"server_message_id": "s", "timestamp": 1, "conversation_id": fields.ConversationID,
				})
			}
		}
		ack(fields.ClientMessageID)
	}
}

// testOptions returns options for a small, short run against url.
func testOptions(url, scenario string) Options {
	options := DefaultOptions()
	options.Scenario = scenario
	options.GatewayURL = url
	options.AuthURL = url
	options.AdminToken = "admin"
	options.Duration = 500 * time.Millisecond
	options.Drain = 5 * time.Second
	options.Warmup = 10 * time.Second
	options.Settle = 0
	options.Rate = 200
	options.Members = 5
	options.Publishers = 2
	options.Pairs = 2
	options.Connections = 10
	options.ChurnRate = 20
	options.ChurnHold = 50 * time.Millisecond
	return options
}
