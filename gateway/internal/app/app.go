// Package app wires the gateway's parts: the router actor, the WebSocket
// handler, GET /conversations and, in development mode, POST /dev/token.
// cmd/gateway builds the NATS bus and hands it in, so tests can run the
// same wiring.
package app

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/gateway/internal/config"
	"github.com/peroxo/peroxo/gateway/internal/devmode"
	"github.com/peroxo/peroxo/gateway/internal/httpapi"
	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/router"
	"github.com/peroxo/peroxo/gateway/internal/session"
	"github.com/peroxo/peroxo/schemas/gen/peroxo/auth/v1/authv1connect"
)

// Gateway is one gateway node's WebSocket and HTTP API. It owns the router
// and the sessions; the bus and the services it calls are owned by the
// caller.
type Gateway struct {
	router    *router.Router
	websocket *httpapi.WebSocketHandler
	verifier  httpapi.Verifier
	metrics   *metrics.Metrics
	// demo is nil unless development mode is on.
	demo *devmode.Demo
}

// Dependencies are the parts a Gateway uses but does not own.
type Dependencies struct {
	Bus      router.Bus
	Verifier httpapi.Verifier
	// History serves history requests. When it is nil, every history
	// request gets an Error frame.
	History session.History
	// Auth is the auth service client that development mode uses to
	// create the demo project and issue tokens; unused otherwise.
	Auth     authv1connect.AuthServiceClient
	Registry prometheus.Registerer
	Logger   *slog.Logger
}

// New builds a gateway from validated settings.
func New(cfg config.Config, deps Dependencies) *Gateway {
	m := metrics.New(deps.Registry)
	limits := cfg.Limits
	r := router.New(router.Settings{
		NodeID:                cfg.NodeID,
		SessionsPerUser:       limits.SessionsPerUser,
		RoomsPerSession:       limits.RoomsPerSession,
		RoomMembersPerNode:    limits.RoomMembersPerNode,
		RecentIDs:             limits.RecentIDs,
		RecentIDBytes:         limits.RecentIDBytes,
		RecentIDTTL:           limits.RecentIDTTL,
		InboxLength:           limits.RouterQueueLength,
		RoomInboxLength:       limits.RoomQueueLength,
		PresenceFanoutMax:     limits.PresenceFanoutMax,
		PresenceBatchInterval: limits.PresenceBatchInterval,
	}, deps.Bus, m, deps.Logger)
	websocket := httpapi.NewWebSocketHandler(httpapi.WebSocketSettings{
		AllowedOrigins:   limits.AllowedOrigins,
		MaxConnections:   limits.MaxConnections,
		HandshakeTimeout: limits.HandshakeTimeout,
		Session: session.Settings{
			MaxFrameBytes:      limits.MaxFrameBytes,
			MaxContentBytes:    limits.MaxMessageBytes,
			QueueLength:        limits.QueueLength,
			MessagesPerSecond:  limits.MessagesPerSecond,
			MessageBurst:       limits.MessageBurst,
			PingInterval:       limits.PingInterval,
			PongTimeout:        limits.PongTimeout,
			IdleTimeout:        limits.IdleTimeout,
			WriteTimeout:       limits.WriteTimeout,
			WriteDelay:         limits.WriteDelay,
			RequestTimeout:     limits.RequestTimeout,
			MaxPendingRequests: limits.MaxPendingRequests,
		},
	}, deps.Verifier, session.Dependencies{
		Router:   r,
		Verifier: deps.Verifier,
		Presence: deps.Bus,
		History:  deps.History,
		Metrics:  m,
		Logger:   deps.Logger,
	})
	gateway := &Gateway{router: r, websocket: websocket, verifier: deps.Verifier, metrics: m}
	if cfg.Dev.Enabled {
		gateway.demo = devmode.New(deps.Auth, cfg.Dev.AuthAdminToken, cfg.DataDir, deps.Logger)
	}
	return gateway
}

// Register mounts GET /ws and GET /conversations on mux, and POST
// /dev/token in development mode only.
func (g *Gateway) Register(mux *http.ServeMux) {
	mux.Handle("GET /ws", g.websocket)
	mux.Handle("GET /conversations", httpapi.ConversationsHandler{Verifier: g.verifier})
	if g.demo != nil {
		mux.Handle("POST /dev/token", g.demo)
	}
}

// Router returns the router, whose HandleRemoteEvent and
// HandleRemotePresence receive the bus's events.
func (g *Gateway) Router() *router.Router {
	return g.router
}

// Run runs the router and serves sessions until ctx ends, then closes
// every session with code 1001 and waits for them and for the router.
func (g *Gateway) Run(ctx context.Context) error {
	group, groupCtx := errgroup.WithContext(ctx)
	routerCtx, stopRouter := context.WithCancel(context.Background())
	defer stopRouter()
	routerDone := make(chan error, 1)
	go func() { routerDone <- g.router.Run(routerCtx) }()
	group.Go(func() error { return g.websocket.Run(groupCtx) })
	if g.demo != nil {
		group.Go(func() error { return g.demo.Run(groupCtx) })
	}
	err := group.Wait()
	// Sessions unregister from the router while they close, so the router
	// stops only after the last session.
	g.router.Close()
	<-routerDone
	return err
}

// Close stops the sessions and the router. It is idempotent.
func (g *Gateway) Close() error {
	g.websocket.Close()
	return g.router.Close()
}
