package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// Options configures a Bus.
type Options struct {
	// NodeID is unique per gateway process; it marks the events and
	// presence this node publishes.
	NodeID string
	// Stream holds the settings Run applies to the chat streams.
	Stream eventlog.StreamSettings
	// PublishTimeout bounds one publish attempt, including JetStream's ack.
	PublishTimeout time.Duration
	// PublishAttempts is how many attempts a publish makes before it fails.
	PublishAttempts int
	// PublishMaxPending is the max events published and not yet
	// acknowledged, retries waiting for their turn included. PublishAsync
	// rejects more with ErrPublishWindowFull. Zero means
	// DefaultPublishMaxPending.
	PublishMaxPending int
	// LiveEventQueueLength is the max live events received from other
	// nodes and not yet passed to OnEvent, for all subscriptions together.
	// NATS drops events beyond it, which Run reports to OnEventsDropped.
	// Zero means DefaultLiveEventQueueLength.
	LiveEventQueueLength int
	// PresenceTTL is how long a remote user stays online without being
	// refreshed by a heartbeat, so a node silent this long stops counting.
	PresenceTTL time.Duration
	// HeartbeatInterval is how often this node lists its online users.
	HeartbeatInterval time.Duration
}

// Validate reports the first invalid option.
func (o Options) Validate() error {
	switch {
	case o.NodeID == "":
		return errors.New("invalid bus options: NodeID is empty")
	case o.PublishTimeout <= 0:
		return fmt.Errorf("invalid bus options: PublishTimeout %s is not positive",
			o.PublishTimeout)
	case o.PublishAttempts < 1:
		return fmt.Errorf("invalid bus options: PublishAttempts %d is less than 1",
			o.PublishAttempts)
	case o.PublishMaxPending < 0:
		return fmt.Errorf("invalid bus options: PublishMaxPending %d is negative",
			o.PublishMaxPending)
	case o.LiveEventQueueLength < 0:
		return fmt.Errorf("invalid bus options: LiveEventQueueLength %d is negative",
			o.LiveEventQueueLength)
	case o.HeartbeatInterval <= 0:
		return fmt.Errorf("invalid bus options: HeartbeatInterval %s is not positive",
			o.HeartbeatInterval)
	case o.PresenceTTL <= o.HeartbeatInterval:
		return fmt.Errorf("invalid bus options: PresenceTTL %s must exceed "+
			"HeartbeatInterval %s", o.PresenceTTL, o.HeartbeatInterval)
	}
	return nil
}

// DefaultPublishMaxPending is the publish window when
// Options.PublishMaxPending is zero. At 10,000 events a second it lets
// acknowledgements lag 400ms before publishes are rejected.
const DefaultPublishMaxPending = 4096

func (o Options) publishMaxPending() int {
	if o.PublishMaxPending == 0 {
		return DefaultPublishMaxPending
	}
	return o.PublishMaxPending
}

// DefaultLiveEventQueueLength is the live event queue length when
// Options.LiveEventQueueLength is zero: at 10,000 events a second, 0.8s
// of events.
const DefaultLiveEventQueueLength = 8192

func (o Options) liveEventQueueLength() int {
	if o.LiveEventQueueLength == 0 {
		return DefaultLiveEventQueueLength
	}
	return o.LiveEventQueueLength
}

// Handlers receive what other nodes send. They are called from the Bus's
// and NATS's goroutines and must not block: the gateway forwards into its
// router's channel, non-blocking or with a bounded wait, and counts drops.
// OnEvent runs on the one goroutine that delivers live events, so a slow
// OnEvent delays every user's events and fills the live event queue.
type Handlers struct {
	// OnEvent receives chat events published by OTHER nodes, once per event
	// even when both the sender and the recipient are subscribed here or
	// the publisher retried. A live event may still come from a publish
	// whose sender got a failure, because core subscribers receive every
	// attempt whether or not the stream stored it.
	OnEvent func(*eventsv1.ChatEvent)
	// OnPresence receives presence changes from OTHER nodes, including an
	// OFFLINE event when a silent node's user expires.
	OnPresence func(*eventsv1.PresenceEvent)
	// OnEventsDropped receives the number of live events that NATS dropped
	// since the previous call because the live event queue was full. Run
	// calls it every HeartbeatInterval when the number is not zero. The
	// events are in the stream, so clients recover them with a sync.
	OnEventsDropped func(count int)
}

// Bus bridges one gateway node to NATS: it appends chat events to the
// JetStream log, receives other nodes' events for local users and rooms
// over core NATS, and keeps a cluster-wide view of presence.
//
// All methods are safe for concurrent use. The Bus owns its subscriptions,
// which mu guards, and its presence view, which has its own lock. While mu
// is held, the Bus calls only subscription methods that queue a protocol
// line or read a counter and do not wait for the server.
//
// Every user and room subscription delivers into one channel, events,
// which one goroutine drains, so an online user costs no goroutine and the
// events of one subject reach OnEvent in the order NATS delivered them.
type Bus struct {
	conn        *nats.Conn
	js          jetstream.JetStream
	publishes   *publisher
	options     Options
	handlers    Handlers
	logger      *slog.Logger
	presence    *presenceView
	recent      *recentIDs
	presenceSub *nats.Subscription

	// events receives the messages of every user and room subscription.
	events chan *nats.Msg
	// stopDelivery ends the goroutine that drains events, which closes
	// deliveryDone when it returns.
	stopDelivery chan struct{}
	deliveryDone chan struct{}

	mu     sync.Mutex
	users  map[userKey][]*nats.Subscription
	rooms  map[roomKey]*nats.Subscription
	closed bool
	// droppedRemoved counts the drops of subscriptions already removed,
	// and droppedReported the drops passed to OnEventsDropped.
	droppedRemoved  int
	droppedReported int

	closeOnce sync.Once
	closeErr  error
}

// recentCapacity is how many delivered message ids a Bus remembers to drop
// repeated live deliveries; repeats arrive within a few publish attempts.
const recentCapacity = 4096

type userKey struct{ project, user string }

type roomKey struct{ project, room string }

// ConnectOptions are the options of the NATS connection a Bus uses. With
// NoEcho the server does not send the node's own publishes back to its
// subscriptions: every direct message it stores would otherwise come back
// twice, to be decoded and dropped by the origin check.
func ConnectOptions() []nats.Option {
	return []nats.Option{nats.NoEcho()}
}

// New returns a Bus on conn and subscribes to presence at once, so
// OnlineUsers includes other nodes' users after their next heartbeat. Run
// must be started to ensure the streams and to send this node's heartbeats.
func New(
	conn *nats.Conn,
	options Options,
	handlers Handlers,
	logger *slog.Logger,
) (*Bus, error) {
	if err := options.Validate(); err != nil {
		return nil, err
	}
	publishes := newPublisher(conn, options)
	js, err := jetstream.New(conn, publishes.jetStreamOptions()...)
	if err != nil {
		return nil, fmt.Errorf("create jetstream context: %w", err)
	}
	publishes.js = js
	bus := &Bus{
		conn:      conn,
		js:        js,
		publishes: publishes,
		options:   options,
		handlers:  handlers,
		logger:    logger.With("component", "natsbus", "node", options.NodeID),
		presence:  newPresenceView(options.NodeID, options.PresenceTTL),
		recent:    newRecentIDs(recentCapacity),
		users:     make(map[userKey][]*nats.Subscription),
		rooms:     make(map[roomKey]*nats.Subscription),

		events:       make(chan *nats.Msg, options.liveEventQueueLength()),
		stopDelivery: make(chan struct{}),
		deliveryDone: make(chan struct{}),
	}
	bus.presenceSub, err = conn.Subscribe(presenceSubjects, bus.receivePresence)
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", presenceSubjects, err)
	}
	go bus.deliverEvents()
	return bus, nil
}

// Run ensures the chat streams, retrying while NATS or JetStream is not
// available, and meanwhile sends heartbeats and expires silent nodes'
// users every HeartbeatInterval, until ctx ends. Presence works even while
// JetStream has no quorum. Run returns nil when ctx ends.
func (b *Bus) Run(ctx context.Context) error {
	streamsDone := make(chan struct{})
	go func() {
		defer close(streamsDone)
		_ = b.ensureStreams(ctx) // fails only when ctx ends
	}()
	defer func() { <-streamsDone }()

	ticker := time.NewTicker(b.options.HeartbeatInterval)
	defer ticker.Stop()
	b.sendHeartbeats()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			b.sendHeartbeats()
			b.expirePresence(time.Now())
			b.reportDroppedEvents()
		}
	}
}

func (b *Bus) ensureStreams(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		attemptCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := eventlog.EnsureStreams(attemptCtx, b.js, b.options.Stream)
		cancel()
		if err == nil {
			b.logger.Info("chat streams ready", "stream", eventlog.StreamName)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		delay := backoff(attempt, 100*time.Millisecond, 5*time.Second)
		b.logger.Warn("ensure chat streams failed, retrying",
			"err", err, "retry_in", delay)
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
}

// Close unsubscribes, stops the delivery of live events and waits for it,
// fails pending publishes with "nats bus is closed", announces this node's
// users as offline and stops the Bus. It does not close conn, which the
// caller owns. It is idempotent; Run must be stopped separately through
// its context.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		var errs []error
		b.mu.Lock()
		b.closed = true
		for key, subs := range b.users {
			for _, sub := range subs {
				errs = append(errs, ignoreClosed(sub.Unsubscribe()))
			}
			delete(b.users, key)
		}
		for key, sub := range b.rooms {
			errs = append(errs, ignoreClosed(sub.Unsubscribe()))
			delete(b.rooms, key)
		}
		b.mu.Unlock()
		close(b.stopDelivery)
		<-b.deliveryDone
		b.publishes.close()
		errs = append(errs, ignoreClosed(b.presenceSub.Unsubscribe()))
		for _, user := range b.presence.takeLocal() {
			b.publishPresence(user.project, user.user, false)
		}
		b.closeErr = errors.Join(errs...)
	})
	return b.closeErr
}

// errClosed is returned by the Subscribe and publish methods after Close.
var errClosed = errors.New("nats bus is closed")

func ignoreClosed(err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
		return nil
	}
	return err
}

// backoff returns an exponential delay with jitter for a zero-based
// attempt, between half and all of min(base<<attempt, ceiling).
func backoff(attempt int, base, ceiling time.Duration) time.Duration {
	delay := min(base<<min(attempt, 16), ceiling)
	return delay/2 + rand.N(delay/2+1)
}

func sleep(ctx context.Context, delay time.Duration) error {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
