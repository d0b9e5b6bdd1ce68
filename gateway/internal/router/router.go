// Package router runs the gateway's router actor. One goroutine owns the
// registry of local sessions, their room memberships, the room actors and
// the per-user cache of recent client message ids; sessions and the NATS
// bridge talk to it only through its channels, so no mutex guards the
// routing path.
package router

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/room"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// Client is a local session as the router sees it.
type Client interface {
	room.Member
	// Project returns the project of the session's token.
	Project() string
	// User returns the user id of the session's token.
	User() string
}

// Settings bound the router's state and queues.
type Settings struct {
	NodeID             string
	SessionsPerUser    int
	RoomsPerSession    int
	RoomMembersPerNode int
	// RecentIDs is the number of client message ids remembered per user.
	RecentIDs int
	// RecentIDBytes bounds the encoded size of the events remembered per
	// user, which resends publish again.
	RecentIDBytes int
	// RecentIDTTL is how long a client message id is remembered.
	RecentIDTTL     time.Duration
	InboxLength     int
	RoomInboxLength int
	// PresenceFanoutMax is the max local sessions of a project that get
	// Presence frames. Larger projects get none, and clients ask
	// GetOnlineUsers.
	PresenceFanoutMax int
	// PresenceBatchInterval is how often coalesced presence changes are
	// sent. Zero sends each change at once.
	PresenceBatchInterval time.Duration
}

// ErrTooManySessions is returned by Register when the user already holds
// Settings.SessionsPerUser sessions on this node.
var ErrTooManySessions = errors.New("too many sessions for this user")

// ErrStopped is returned when the router no longer runs.
var ErrStopped = errors.New("router stopped")

// Router is the routing actor. Its exported methods are safe for
// concurrent use; everything they change is owned by the goroutine in Run.
type Router struct {
	settings Settings
	bus      Bus
	metrics  *metrics.Metrics
	logger   *slog.Logger
	now      func() time.Time

	inbox     chan any
	remote    chan any
	stop      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	runOnce   sync.Once

	// Owned by the Run goroutine.
	users   map[userKey]*userState
	clients map[Client]*clientState
	rooms   map[roomKey]*roomState
	recent  map[userKey]*recentIDs
	// projectUsers holds the local users of each project for presence.
	projectUsers map[string]map[string]*userState
	// projectSessions counts the local sessions of each project.
	projectSessions map[string]int
	// presence holds, per project, the latest status of each user whose
	// presence changed since the last flush.
	presence map[string]map[string]string
	// presenceTicks, when set before Run, replaces the batch ticker.
	presenceTicks <-chan time.Time
	roomGroup     sync.WaitGroup
}

type userKey struct{ project, user string }

type roomKey struct{ project, room string }

type userState struct {
	user    string
	clients map[Client]struct{}
}

type clientState struct {
	rooms map[string]struct{}
}

type roomState struct {
	actor   *room.Room
	members map[Client]struct{}
}

// New returns a router. Call Run to start it.
func New(settings Settings, bus Bus, m *metrics.Metrics, logger *slog.Logger) *Router {
	return &Router{
		settings:        settings,
		bus:             bus,
		metrics:         m,
		logger:          logger.With("component", "router"),
		now:             time.Now,
		inbox:           make(chan any, settings.InboxLength),
		remote:          make(chan any, settings.InboxLength),
		stop:            make(chan struct{}),
		stopped:         make(chan struct{}),
		users:           make(map[userKey]*userState),
		clients:         make(map[Client]*clientState),
		rooms:           make(map[roomKey]*roomState),
		recent:          make(map[userKey]*recentIDs),
		projectUsers:    make(map[string]map[string]*userState),
		projectSessions: make(map[string]int),
		presence:        make(map[string]map[string]string),
	}
}

// Run serves requests until ctx ends or Close is called, then stops the
// room actors and waits for them. It returns nil
// after Close and ctx.Err() when ctx ended. Run may be called once.
func (r *Router) Run(ctx context.Context) error {
	err := errors.New("router already ran")
	r.runOnce.Do(func() { err = r.run(ctx) })
	return err
}

func (r *Router) run(ctx context.Context) error {
	defer close(r.stopped)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	sweep := time.NewTicker(sweepInterval(r.settings.RecentIDTTL))
	defer sweep.Stop()
	if r.presenceTicks == nil && r.settings.PresenceBatchInterval > 0 {
		presenceTicker := time.NewTicker(r.settings.PresenceBatchInterval)
		defer presenceTicker.Stop()
		r.presenceTicks = presenceTicker.C
	}
	defer r.stopRooms()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.stop:
			return nil
		case request := <-r.inbox:
			r.handle(ctx, request)
		case request := <-r.remote:
			r.handle(ctx, request)
		case <-sweep.C:
			r.expireRecentIDs()
		case <-r.presenceTicks:
			r.flushPresence()
		}
	}
}

func sweepInterval(ttl time.Duration) time.Duration {
	return max(ttl/2, time.Second)
}

func (r *Router) stopRooms() {
	for key, state := range r.rooms {
		state.actor.Close()
		delete(r.rooms, key)
	}
	r.roomGroup.Wait()
}

// Close stops the router. It is idempotent and does not wait; Run returns
// once the router has stopped.
func (r *Router) Close() error {
	r.closeOnce.Do(func() { close(r.stop) })
	return nil
}

func (r *Router) handle(ctx context.Context, request any) {
	switch request := request.(type) {
	case registerRequest:
		request.reply <- r.register(request.client)
	case unregisterRequest:
		r.unregister(request.client)
	case directRequest:
		r.sendDirect(request)
	case joinRequest:
		r.join(ctx, request.client, request.room)
	case leaveRequest:
		r.leave(request.client, request.room, true)
	case roomMessageRequest:
		r.sendRoom(request)
	case memberRequest:
		request.reply <- r.isMember(request.client, request.room)
	case remoteEvent:
		r.deliverRemote(request.event)
	case remotePresence:
		r.deliverRemotePresence(request.event)
	}
}

// submit hands request to the router, waiting while the inbox is full.
func (r *Router) submit(ctx context.Context, request any) error {
	select {
	case r.inbox <- request:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-r.stopped:
		return ErrStopped
	}
}

// sendError queues an Error frame for client.
func (r *Router) sendError(client Client, code wire.Code, request, clientMessageID,
	message string) {
	r.metrics.RequestErrors.WithLabelValues(codeLabel(code)).Inc()
	r.metrics.Messages.WithLabelValues("out", "Error").Inc()
	client.Send(wire.MustEncode(wire.Error{
		Code:            code,
		Message:         message,
		Request:         request,
		ClientMessageID: clientMessageID,
	}))
}

// send queues a frame of the named type for client and counts it.
func (r *Router) send(client Client, frameType string, frame []byte) {
	r.metrics.Messages.WithLabelValues("out", frameType).Inc()
	client.Send(frame)
}

// HandleRemoteEvent routes an event published by another node to local
// sessions. It never blocks: when the router's queue for remote input is
// full the event is dropped and counted, since it is stored in the event
// log and clients recover it with SyncMessages.
func (r *Router) HandleRemoteEvent(event *eventsv1.ChatEvent) {
	r.offerRemote(remoteEvent{event: event}, "remote_event")
}

// HandleRemotePresence forwards another node's presence change to local
// sessions of the project. It never blocks and drops when full, counted.
func (r *Router) HandleRemotePresence(event *eventsv1.PresenceEvent) {
	r.offerRemote(remotePresence{event: event}, "presence")
}

// HandleDroppedRemoteEvents counts events from other nodes that the bus
// dropped before they reached the router. Safe for concurrent use.
func (r *Router) HandleDroppedRemoteEvents(count int) {
	r.metrics.Dropped.WithLabelValues("remote_event").Add(float64(count))
}

func (r *Router) offerRemote(request any, queue string) {
	select {
	case r.remote <- request:
	default:
		r.metrics.Dropped.WithLabelValues(queue).Inc()
	}
}

type remoteEvent struct{ event *eventsv1.ChatEvent }

type remotePresence struct{ event *eventsv1.PresenceEvent }
