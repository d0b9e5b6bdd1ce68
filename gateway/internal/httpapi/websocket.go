// Package httpapi serves the gateway's HTTP endpoints: the WebSocket
// handshake at /ws and GET /conversations.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/session"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	"github.com/peroxo/peroxo/gateway/internal/wsconn"
)

// readBufferBytes is the read buffer of a connection: a few client frames,
// which the frame rate limit keeps small and rare.
const readBufferBytes = 1024

// WebSocketSettings configure the handshake.
type WebSocketSettings struct {
	// AllowedOrigins are exact Origin values accepted besides the
	// gateway's own origin (an Origin whose host equals the Host header).
	AllowedOrigins   []string
	MaxConnections   int
	HandshakeTimeout time.Duration
	Session          session.Settings
}

// WebSocketHandler upgrades GET /ws after checking the connection limit,
// the Origin and the token, and runs one session per connection. The
// sessions it starts are owned by it: Close ends them and Run waits for
// them.
type WebSocketHandler struct {
	settings    WebSocketSettings
	origins     map[string]struct{}
	deps        session.Dependencies
	verifier    Verifier
	metrics     *metrics.Metrics
	logger      *slog.Logger
	connections atomic.Int64
	connIDs     atomic.Uint64
	// sessionsMu orders sessions.Add before sessions.Wait: once closed is
	// set no session starts. Only handshakes take it, never routing.
	sessionsMu sync.Mutex
	closed     bool
	sessions   sync.WaitGroup
	ctx        context.Context
	cancel     context.CancelFunc
}

// NewWebSocketHandler returns a handler; deps.Logger and deps.Metrics are
// used for the handshake as well.
func NewWebSocketHandler(settings WebSocketSettings, verifier Verifier,
	deps session.Dependencies) *WebSocketHandler {
	origins := make(map[string]struct{}, len(settings.AllowedOrigins))
	for _, origin := range settings.AllowedOrigins {
		origins[strings.ToLower(origin)] = struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &WebSocketHandler{
		settings: settings,
		origins:  origins,
		deps:     deps,
		verifier: verifier,
		metrics:  deps.Metrics,
		logger:   deps.Logger.With("component", "websocket"),
		ctx:      ctx,
		cancel:   cancel,
	}
}

// Run waits until ctx ends, then closes every session with code 1001 and
// waits for them. It returns nil.
func (h *WebSocketHandler) Run(ctx context.Context) error {
	<-ctx.Done()
	h.Close()
	h.sessionsMu.Lock()
	h.closed = true
	h.sessionsMu.Unlock()
	h.sessions.Wait()
	return nil
}

// Close ends every session with code 1001 and rejects new handshakes. It
// is idempotent and does not wait.
func (h *WebSocketHandler) Close() error {
	h.cancel()
	return nil
}

// ServeHTTP performs the handshake and starts the session on a goroutine
// of its own. Returning early lets the HTTP server drop the request and
// its connection buffers (about 10 KB), which a session never uses.
func (h *WebSocketHandler) ServeHTTP(writer http.ResponseWriter, request *http.Request) {
	if h.ctx.Err() != nil {
		h.reject(writer, "shutting_down", http.StatusServiceUnavailable,
			"the gateway is shutting down")
		return
	}
	if h.connections.Add(1) > int64(h.settings.MaxConnections) {
		h.connections.Add(-1)
		writer.Header().Set("Retry-After", "5")
		h.reject(writer, "connection_limit", http.StatusServiceUnavailable,
			"this gateway node has reached its connection limit; retry later")
		return
	}
	started := false
	defer func() {
		if !started {
			h.connections.Add(-1)
		}
	}()
	if !h.originAllowed(request) {
		h.reject(writer, "origin", http.StatusForbidden, "origin not allowed")
		return
	}
	handshakeCtx, cancel := context.WithTimeout(request.Context(), h.settings.HandshakeTimeout)
	defer cancel()
	identity, ok := authenticate(writer, request.WithContext(handshakeCtx), h.verifier)
	if !ok {
		h.metrics.Rejections.WithLabelValues("token").Inc()
		return
	}
	connID := strconv.FormatUint(h.connIDs.Add(1), 10)
	sess := session.New(identity, connID, h.settings.Session, h.deps)
	// Registering before the handshake completes means a message sent to
	// this user right after the client connects is not missed.
	registerErr := sess.Register(handshakeCtx)
	unregister := func() {
		if registerErr == nil {
			h.deps.Router.Unregister(sess)
		}
	}
	conn, err := wsconn.Accept(writer, request, Subprotocol, h.settings.HandshakeTimeout,
		wsconn.Settings{
			MaxMessageBytes: h.settings.Session.MaxFrameBytes,
			WriteTimeout:    h.settings.Session.WriteTimeout,
			CloseTimeout:    h.settings.Session.WriteTimeout,
			ReadBufferBytes: readBufferBytes,
		})
	if err != nil {
		unregister()
		h.metrics.Rejections.WithLabelValues("upgrade").Inc()
		h.logger.Info("websocket upgrade failed", "err", err)
		return
	}
	h.sessionsMu.Lock()
	if h.closed {
		h.sessionsMu.Unlock()
		unregister()
		_ = conn.Close(int(wire.CloseGoingAway), wire.ReasonGoingAway)
		return
	}
	h.sessions.Add(1)
	h.sessionsMu.Unlock()
	started = true
	go func() {
		defer h.sessions.Done()
		defer h.connections.Add(-1)
		if err := sess.Run(h.ctx, conn); err != nil {
			h.logger.Warn("session ended with an error", "err", err, "conn", connID)
		}
	}()
}

func (h *WebSocketHandler) reject(writer http.ResponseWriter, reason string, status int,
	message string) {
	h.metrics.Rejections.WithLabelValues(reason).Inc()
	writeError(writer, status, message)
}

// originAllowed accepts a request without Origin (not a browser), an
// Origin whose host equals the request's Host (same origin), and an Origin
// listed exactly, compared without case, in AllowedOrigins.
func (h *WebSocketHandler) originAllowed(request *http.Request) bool {
	origin := request.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if _, ok := h.origins[strings.ToLower(origin)]; ok {
		return true
	}
	parsed, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(parsed.Host, request.Host)
}
