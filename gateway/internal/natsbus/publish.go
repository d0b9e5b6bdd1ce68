package natsbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// ErrPublishWindowFull is returned by PublishAsync when Options.PublishMaxPending
// events are published and not yet acknowledged.
var ErrPublishWindowFull = errors.New("event log publish window full")

// EventSubject returns the stream subject of a chat event's message.
func EventSubject(message *chatv1.Message) (string, error) {
	if message == nil {
		return "", errors.New("chat event has no message")
	}
	if message.GetMessageId() == "" {
		return "", errors.New("chat event message has no message id")
	}
	switch message.GetKind() {
	case chatv1.ChannelKind_CHANNEL_KIND_DIRECT:
		return eventlog.DirectSubject(message.GetProjectId(), message.GetRecipientId(),
			message.GetSenderId()), nil
	case chatv1.ChannelKind_CHANNEL_KIND_ROOM:
		return eventlog.RoomSubject(message.GetProjectId(), message.GetChannelId()), nil
	}
	return "", fmt.Errorf("chat event message %s has channel kind %s, want DIRECT or ROOM",
		message.GetMessageId(), message.GetKind())
}

// PublishAsync starts appending one event to the chat stream on its
// subject, with Nats-Msg-Id set to the message id, so a repeated publish
// within the stream's duplicate window stores the event once, and with
// origin_node set to this node. It does not wait for the server.
//
// done is called once, from a NATS or timer goroutine, with nil only after
// JetStream acknowledged the event. Each attempt is bounded by
// PublishTimeout. After PublishAttempts failed attempts, done gets an error
// that names the last cause. Attempts are skipped while the connection is
// down, so an event reported as failed is rarely stored later from the
// client's reconnect buffer. When it is, a resend with the same message id
// is deduplicated. done must not block, because it runs on the goroutine
// that processes every acknowledgement. It must not call PublishAsync or
// Publish either, because jetstream may hold its publisher lock then.
//
// PublishAsync returns an error, and never calls done, when the event is
// invalid, when PublishMaxPending events are pending (ErrPublishWindowFull)
// or after Close. It is safe for concurrent use and does not modify event.
func (b *Bus) PublishAsync(event *eventsv1.ChatEvent, done func(error)) error {
	subject, err := EventSubject(event.GetMessage())
	if err != nil {
		return fmt.Errorf("publish chat event: %w", err)
	}
	data, err := eventlog.MarshalEvent(&eventsv1.ChatEvent{
		Message:    event.GetMessage(),
		OriginNode: b.options.NodeID,
	})
	if err != nil {
		return err
	}
	publish := &pendingPublish{
		subject:   subject,
		messageID: event.GetMessage().GetMessageId(),
		data:      data,
		done:      done,
	}
	if err := b.publishes.reserve(); err != nil {
		return fmt.Errorf("publish message %s: %w", publish.messageID, err)
	}
	b.publishes.attempt(publish)
	return nil
}

// Publish is PublishAsync that waits for the result. When ctx ends first it
// returns ctx.Err() and the publish goes on. Safe for concurrent use.
func (b *Bus) Publish(ctx context.Context, event *eventsv1.ChatEvent) error {
	result := make(chan error, 1)
	if err := b.PublishAsync(event, func(err error) { result <- err }); err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pendingPublish is one event between PublishAsync and its done call.
type pendingPublish struct {
	subject   string
	messageID string
	data      []byte
	done      func(error)
	// attempts counts the attempts started so far.
	attempts int
}

// publisher runs the attempts of asynchronous publishes. Its callbacks run
// on jetstream's ack goroutine, on ack timers and on retry timers, so mu
// guards its state. Lock order: jetstream's publisher lock, then mu.
type publisher struct {
	conn       *nats.Conn
	js         jetstream.JetStream
	timeout    time.Duration
	attempts   int
	maxPending int

	mu sync.Mutex
	// pending counts the reserved slots: events between PublishAsync and
	// done, retries waiting for their timer included. It is at least the
	// number jetstream has in flight, so jetstream never stalls a caller.
	pending int
	// inFlight maps each attempt's message, which jetstream hands back to
	// the callbacks, to its publish.
	inFlight map[*nats.Msg]*pendingPublish
	// retries holds the timers of publishes waiting for their next attempt.
	retries map[*pendingPublish]*time.Timer
	closed  bool
}

func newPublisher(conn *nats.Conn, options Options) *publisher {
	return &publisher{
		conn:       conn,
		timeout:    options.PublishTimeout,
		attempts:   options.PublishAttempts,
		maxPending: options.publishMaxPending(),
		inFlight:   make(map[*nats.Msg]*pendingPublish),
		retries:    make(map[*pendingPublish]*time.Timer),
	}
}

// jetStreamOptions configures the JetStream context for p: the same window
// as p's own, the per-attempt timeout and p's callbacks.
func (p *publisher) jetStreamOptions() []jetstream.JetStreamOpt {
	return []jetstream.JetStreamOpt{
		jetstream.WithPublishAsyncMaxPending(p.maxPending),
		jetstream.WithPublishAsyncTimeout(p.timeout),
		jetstream.WithPublishAsyncAckHandler(p.acknowledged),
		jetstream.WithPublishAsyncErrHandler(p.failed),
	}
}

func (p *publisher) reserve() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closed:
		return errClosed
	case p.pending >= p.maxPending:
		return fmt.Errorf("%w: %d events wait for jetstream's acknowledgement",
			ErrPublishWindowFull, p.pending)
	}
	p.pending++
	return nil
}

// attempt sends one attempt of publish without waiting for the server.
func (p *publisher) attempt(publish *pendingPublish) {
	publish.attempts++
	if status := p.conn.Status(); status != nats.CONNECTED {
		p.attemptFailed(publish, fmt.Errorf("nats connection is %s", status))
		return
	}
	msg := &nats.Msg{Subject: publish.subject, Data: publish.data}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.finish(publish, errClosed)
		return
	}
	// Registered first, because the acknowledgement may arrive before
	// PublishMsgAsync returns.
	p.inFlight[msg] = publish
	p.mu.Unlock()
	_, err := p.js.PublishMsgAsync(msg,
		jetstream.WithMsgID(publish.messageID),
		jetstream.WithExpectStream(eventlog.StreamName),
		// Attempts are counted here, not by jetstream's retry on no
		// responders.
		jetstream.WithRetryAttempts(0),
		// The reserved slots keep jetstream below its max pending, so it
		// never stalls. The short bound keeps a caller from waiting if it
		// did.
		jetstream.WithStallWait(time.Millisecond))
	if err != nil && p.take(msg) != nil {
		p.attemptFailed(publish, err)
	}
}

// take removes msg from the in-flight map and returns its publish, or nil
// when another callback took it already.
func (p *publisher) take(msg *nats.Msg) *pendingPublish {
	p.mu.Lock()
	defer p.mu.Unlock()
	publish, ok := p.inFlight[msg]
	if !ok {
		return nil
	}
	delete(p.inFlight, msg)
	return publish
}

func (p *publisher) acknowledged(_ jetstream.JetStream, msg *nats.Msg, _ *jetstream.PubAck) {
	if publish := p.take(msg); publish != nil {
		p.finish(publish, nil)
	}
}

func (p *publisher) failed(_ jetstream.JetStream, msg *nats.Msg, err error) {
	if publish := p.take(msg); publish != nil {
		p.attemptFailed(publish, p.describe(publish, err))
	}
}

// describe turns jetstream's errors into a reason a sender can act on.
func (p *publisher) describe(publish *pendingPublish, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		return fmt.Errorf("no acknowledgement from jetstream within %s", p.timeout)
	case errors.Is(err, nats.ErrDisconnected):
		return errors.New("nats connection lost before jetstream acknowledged")
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		return fmt.Errorf("no stream stores subject %s: %w", publish.subject, err)
	case errors.Is(err, jetstream.ErrJetStreamPublisherClosed):
		return errClosed
	}
	return err
}

// attemptFailed schedules the next attempt after a backoff, or finishes
// publish with err when it was the last attempt or the Bus is closed.
func (p *publisher) attemptFailed(publish *pendingPublish, err error) {
	p.mu.Lock()
	if p.closed && !errors.Is(err, errClosed) {
		err = fmt.Errorf("%w, last attempt: %w", errClosed, err)
	}
	if p.closed || publish.attempts >= p.attempts {
		p.mu.Unlock()
		p.finish(publish, err)
		return
	}
	delay := backoff(publish.attempts-1, p.timeout/4, p.timeout)
	p.retries[publish] = time.AfterFunc(delay, func() {
		p.mu.Lock()
		delete(p.retries, publish)
		p.mu.Unlock()
		p.attempt(publish)
	})
	p.mu.Unlock()
}

// finish frees publish's slot and calls its done.
func (p *publisher) finish(publish *pendingPublish, err error) {
	p.mu.Lock()
	p.pending--
	p.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("publish message %s to %s after %d attempts: %w",
			publish.messageID, eventlog.StreamName, publish.attempts, err)
	}
	publish.done(err)
}

// close fails every pending publish with errClosed: those in flight
// through jetstream's error callback, those waiting for a retry here.
func (p *publisher) close() {
	p.mu.Lock()
	p.closed = true
	var stopped []*pendingPublish
	for publish, timer := range p.retries {
		if timer.Stop() {
			stopped = append(stopped, publish)
		}
		delete(p.retries, publish)
	}
	p.mu.Unlock()
	p.js.CleanupPublisher()
	for _, publish := range stopped {
		p.finish(publish, errClosed)
	}
}
