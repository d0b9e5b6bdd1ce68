// Package session runs one WebSocket connection: a read loop that decodes
// and rate-limits client frames and hands them to the router, and a write
// loop that drains a bounded outbound queue, pings, enforces the idle
// timeout and closes the session when its token expires.
package session

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/peroxo/peroxo/gateway/internal/auth"
	"github.com/peroxo/peroxo/gateway/internal/metrics"
	"github.com/peroxo/peroxo/gateway/internal/router"
	"github.com/peroxo/peroxo/gateway/internal/wire"
	"github.com/peroxo/peroxo/gateway/internal/wsconn"
)

// Settings are the per-session limits.
type Settings struct {
	MaxFrameBytes     int64
	MaxContentBytes   int
	QueueLength       int
	MessagesPerSecond float64
	MessageBurst      int
	PingInterval      time.Duration
	PongTimeout       time.Duration
	IdleTimeout       time.Duration
	WriteTimeout      time.Duration
	// WriteDelay is how long the write loop waits after a wake-up before
	// it takes the queue, so more frames share one write; 0 waits not.
	WriteDelay         time.Duration
	RequestTimeout     time.Duration
	MaxPendingRequests int
}

// TokenVerifier verifies a refreshed token; *auth.Verifier implements it.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

// Presence returns the users online in a project on any node.
type Presence interface {
	OnlineUsers(ctx context.Context, project string) ([]string, error)
}

// History serves history requests for a user. It returns the encoded
// answer frame, or an error of type *wire.Error for the client.
type History interface {
	Answer(ctx context.Context, project, user string, request wire.Request) ([]byte, error)
}

// Dependencies are the services a session calls.
type Dependencies struct {
	Router   *router.Router
	Verifier TokenVerifier
	Presence Presence
	// History may be nil. Then every history request gets an Error frame.
	History History
	Metrics *metrics.Metrics
	Logger  *slog.Logger
}

// Session is one WebSocket connection of one user. It runs two
// goroutines: the read loop in the caller of Run and the write loop. Its
// limiter belongs to the read loop, and queueMu guards the queue. Send is
// safe for concurrent use by the router, room actors and publishers.
type Session struct {
	conn *wsconn.Conn
	// sharedConn is conn for goroutines other than the session's own,
	// which may run before Run sets conn.
	sharedConn atomic.Pointer[wsconn.Conn]
	identity   auth.Identity
	settings   Settings
	deps       Dependencies
	logger     *slog.Logger

	queueMu sync.Mutex
	// queue holds the frames the write loop has not taken yet; it stays
	// nil while the session is idle.
	queue [][]byte
	// wake wakes the write loop when queue goes from empty to not empty.
	wake      chan struct{}
	closing   chan struct{}
	closeOnce sync.Once
	cause     closeCause
	// expiresAt is when the token expires (Unix ns), or 0 for never. A
	// refresh moves it and sets rearm, so the write loop recomputes its
	// timer.
	expiresAt atomic.Int64
	rearm     atomic.Bool
	pending   chan struct{}
	requests  sync.WaitGroup
	limiter   *rate.Limiter
	lastRead  atomic.Int64
	// registered and registerErr record the outcome of Register; only the
	// goroutine that calls Register and then Run touches them.
	registered  bool
	registerErr error
}

type closeCause struct {
	code   wire.CloseCode
	reason string
	// peerGone means the connection is already closed, so no close frame
	// is sent.
	peerGone bool
}

// New creates the session of an authenticated user. Its connection comes
// later, with Run. connID names the connection in logs.
func New(identity auth.Identity, connID string, settings Settings, deps Dependencies) *Session {
	session := &Session{
		identity: identity,
		settings: settings,
		deps:     deps,
		logger: deps.Logger.With("component", "session", "conn", connID,
			"project", identity.ProjectID, "user", identity.UserID),
		wake:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		pending: make(chan struct{}, settings.MaxPendingRequests),
		limiter: rate.NewLimiter(rate.Limit(settings.MessagesPerSecond),
			settings.MessageBurst),
	}
	session.lastRead.Store(time.Now().UnixNano())
	if !identity.ExpiresAt.IsZero() {
		session.expiresAt.Store(identity.ExpiresAt.UnixNano())
	}
	return session
}

// Project returns the project of the session's token.
func (s *Session) Project() string { return s.identity.ProjectID }

// User returns the user id of the session's token.
func (s *Session) User() string { return s.identity.UserID }

// Send queues frame without blocking. When QueueLength frames are
// waiting already, the session is closed as a slow consumer and the drop
// is counted, so no sender waits for a slow client. It returns false when
// the frame was not queued. Frame is never modified, so many sessions may
// share it.
func (s *Session) Send(frame []byte) bool {
	return s.enqueue(frame, s.settings.QueueLength)
}

// sendOptional queues frame only while the queue is at most half full. It
// is for replies a client can miss without harm, so a flooding client does
// not turn its own error replies into a slow-consumer close.
func (s *Session) sendOptional(frame []byte) {
	s.enqueue(frame, s.settings.QueueLength/2+1)
}

// enqueue appends frame when fewer than limit frames wait. Past the queue
// length the session closes as a slow consumer; below it, frame is dropped.
func (s *Session) enqueue(frame []byte, limit int) bool {
	select {
	case <-s.closing:
		return false
	default:
	}
	s.queueMu.Lock()
	waiting := len(s.queue)
	if waiting >= limit {
		s.queueMu.Unlock()
		if waiting >= s.settings.QueueLength {
			s.closeSlowConsumer(false)
		}
		return false
	}
	s.queue = append(s.queue, frame)
	s.queueMu.Unlock()
	if waiting == 0 {
		s.wakeWriter()
	}
	return true
}

// wakeWriter wakes the write loop unless a wake-up is pending already.
func (s *Session) wakeWriter() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// takeQueue swaps the queued frames for spare, an emptied earlier batch
// whose array the senders reuse, and returns them.
func (s *Session) takeQueue(spare [][]byte) [][]byte {
	s.queueMu.Lock()
	defer s.queueMu.Unlock()
	batch := s.queue
	s.queue = spare[:0]
	return batch
}

// closeWith records why the session ends and starts closing it. Only the
// first call counts; it reports whether this call was the first.
func (s *Session) closeWith(cause closeCause) bool {
	first := false
	s.closeOnce.Do(func() {
		s.cause = cause
		close(s.closing)
		first = true
	})
	return first
}

// Close ends the session with close code 1000. It is idempotent and does
// not wait; Run returns once the connection is closed.
func (s *Session) Close() error {
	s.closeWith(closeCause{code: wire.CloseNormal, reason: "closed"})
	return nil
}

// Register adds the session to the router. The HTTP handler calls it
// before it completes the WebSocket handshake, so every frame sent to the
// user after the client sees the handshake succeed is queued for this
// session. Run reports a failed registration to the client.
func (s *Session) Register(ctx context.Context) error {
	s.registered = true
	s.registerErr = s.deps.Router.Register(ctx, s)
	return s.registerErr
}

// Run serves conn until the client leaves, a limit closes it, Close is
// called or ctx ends (close code 1001). It registers the session first
// unless Register already ran. The read loop runs in the caller's
// goroutine. Run returns after the connection is closed and every
// goroutine of the session has stopped.
func (s *Session) Run(ctx context.Context, conn *wsconn.Conn) error {
	s.conn = conn
	s.sharedConn.Store(conn)
	s.deps.Metrics.ConnectionsActive.Inc()
	defer s.deps.Metrics.ConnectionsActive.Dec()

	if !s.registered {
		_ = s.Register(ctx)
	}
	if err := s.registerErr; err != nil {
		if errors.Is(err, router.ErrTooManySessions) {
			s.deps.Metrics.Rejections.WithLabelValues("too_many_sessions").Inc()
			s.logger.Info("rejecting session: too many sessions for user")
			_ = s.conn.Close(int(wire.CloseTooManySessions), wire.ReasonTooManySessions)
			return nil
		}
		_ = s.conn.Close(int(wire.CloseGoingAway), wire.ReasonGoingAway)
		return err
	}

	requestCtx, cancelRequests := context.WithCancel(context.Background())
	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		s.writeLoop(ctx)
	}()
	s.readLoop(requestCtx)
	<-writeDone
	_ = s.conn.CloseNow()
	cancelRequests()
	s.requests.Wait()
	s.logger.Debug("session closed", "code", s.cause.code, "reason", s.cause.reason)
	return nil
}
