// Package projector projects the chat event log into history: a durable
// JetStream pull consumer, shared by every consumer process, fetches
// events in batches, writes each batch to chatsvc and acks the events only
// after the write succeeded. Events that cannot be written move to the
// dead-letter stream.
package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/peroxo/peroxo/platform/eventlog"
)

// Options configures a Projector.
type Options struct {
	// Durable names the JetStream consumer; processes with the same name
	// share the work.
	Durable string
	// BatchSize is the maximum number of events fetched and written at once.
	BatchSize int
	// BatchWait is the maximum time a fetch waits to fill a batch.
	BatchWait time.Duration
	// MaxDeliver is the delivery count at which an event that still fails
	// moves to the dead-letter stream.
	MaxDeliver int
	// AckWait is how long the server waits for an ack before redelivery.
	AckWait time.Duration
	// RetryMin and RetryMax bound the delay between write retries.
	RetryMin, RetryMax time.Duration
	// PendingInterval is how often the pending gauge is refreshed; zero
	// means five seconds.
	PendingInterval time.Duration
}

// writeAttempts is how many times a batch is written in-process before its
// events are returned to the server with a delay, so a short chatsvc
// outage costs no redelivery.
const writeAttempts = 3

// Projector runs the durable consumer. Its state is the JetStream consumer
// on the server; the Projector itself holds no state between batches, so
// any number of processes may run one.
type Projector struct {
	js      jetstream.JetStream
	writer  Writer
	options Options
	metrics *Metrics
	logger  *slog.Logger
}

// New returns a Projector that reads through js and writes to writer.
func New(
	js jetstream.JetStream,
	writer Writer,
	options Options,
	metrics *Metrics,
	logger *slog.Logger,
) *Projector {
	if options.PendingInterval <= 0 {
		options.PendingInterval = 5 * time.Second
	}
	return &Projector{
		js:      js,
		writer:  writer,
		options: options,
		metrics: metrics,
		logger:  logger.With("component", "projector", "durable", options.Durable),
	}
}

// errConsumerLost reports that the durable consumer no longer exists, for
// example because the stream was deleted and created again.
var errConsumerLost = errors.New("durable consumer lost")

// Run waits for the chat streams, creates or updates the durable consumer
// and projects events until ctx ends. When the durable consumer disappears,
// Run waits for the streams again and recreates it. It returns nil when
// ctx ends.
func (p *Projector) Run(ctx context.Context) error {
	for {
		consumer, err := p.waitForConsumer(ctx)
		if err != nil {
			return nil // ctx ended while waiting
		}
		group, groupCtx := errgroup.WithContext(ctx)
		group.Go(func() error { return p.pollPending(groupCtx, consumer) })
		group.Go(func() error { return p.fetchLoop(groupCtx, consumer) })
		err = group.Wait()
		if !errors.Is(err, errConsumerLost) {
			return err
		}
		p.logger.Warn("durable consumer disappeared, creating it again")
	}
}

// ConsumerConfig returns the durable consumer's configuration.
//
// The server-side MaxDeliver is unlimited on purpose: the Projector counts
// deliveries itself and moves an event to the dead-letter stream on its
// MaxDeliver-th delivery. If the server stopped delivering instead, an
// event whose dead-letter publish also failed would be dropped silently.
// BackOff spaces out redeliveries after an ack timeout, such as when a
// consumer process died mid-batch; its first step is AckWait.
func (p *Projector) ConsumerConfig() jetstream.ConsumerConfig {
	wait := p.options.AckWait
	return jetstream.ConsumerConfig{
		Durable:       p.options.Durable,
		Description:   "PerOXO history projection",
		FilterSubject: eventlog.AllSubjects,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       wait,
		BackOff:       []time.Duration{wait, 2 * wait, 4 * wait},
		MaxDeliver:    -1,
		MaxAckPending: max(1000, 4*p.options.BatchSize),
		MaxWaiting:    512,
	}
}

func (p *Projector) waitForConsumer(ctx context.Context) (jetstream.Consumer, error) {
	for attempt := 0; ; attempt++ {
		consumer, err := p.createConsumer(ctx)
		if err == nil {
			p.logger.Info("durable consumer ready", "stream", eventlog.StreamName)
			return consumer, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		delay := backoff(attempt, p.options.RetryMin, 5*time.Second)
		p.logger.Warn("durable consumer not ready, retrying", "err", err, "retry_in", delay)
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

func (p *Projector) createConsumer(ctx context.Context) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The dead-letter stream must exist too, or dead-lettering would fail.
	if _, err := p.js.Stream(ctx, eventlog.DeadLetterStreamName); err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", eventlog.DeadLetterStreamName, err)
	}
	stream, err := p.js.Stream(ctx, eventlog.StreamName)
	if err != nil {
		return nil, fmt.Errorf("look up stream %s: %w", eventlog.StreamName, err)
	}
	consumer, err := stream.CreateOrUpdateConsumer(ctx, p.ConsumerConfig())
	if err != nil {
		return nil, fmt.Errorf("create consumer %s: %w", p.options.Durable, err)
	}
	return consumer, nil
}

func (p *Projector) fetchLoop(ctx context.Context, consumer jetstream.Consumer) error {
	failures := 0
	for ctx.Err() == nil {
		batch, err := consumer.Fetch(p.options.BatchSize,
			jetstream.FetchMaxWait(p.options.BatchWait))
		var messages []jetstream.Msg
		if err == nil {
			for msg := range batch.Messages() {
				messages = append(messages, msg)
			}
			err = batch.Error()
		}
		if len(messages) > 0 {
			p.processBatch(ctx, messages)
		}
		if err == nil {
			failures = 0
			continue
		}
		if p.consumerGone(ctx, consumer) {
			return errConsumerLost
		}
		delay := backoff(failures, p.options.RetryMin, 5*time.Second)
		failures++
		p.logger.Warn("fetch failed, retrying", "err", err, "retry_in", delay)
		if sleep(ctx, delay) != nil {
			return nil
		}
	}
	return nil
}

// consumerGone reports whether the durable consumer or its stream no
// longer exists on the server.
func (p *Projector) consumerGone(ctx context.Context, consumer jetstream.Consumer) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := consumer.Info(ctx)
	return errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound)
}

func (p *Projector) pollPending(ctx context.Context, consumer jetstream.Consumer) error {
	ticker := time.NewTicker(p.options.PendingInterval)
	defer ticker.Stop()
	for {
		infoCtx, cancel := context.WithTimeout(ctx, p.options.PendingInterval)
		info, err := consumer.Info(infoCtx)
		cancel()
		if err == nil {
			p.metrics.pending.Set(float64(info.NumPending) + float64(info.NumAckPending))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// backoff returns an exponential delay with jitter for a zero-based
// attempt, between half and all of min(base<<attempt, ceiling).
func backoff(attempt int, base, ceiling time.Duration) time.Duration {
	delay := min(base<<min(attempt, 20), ceiling)
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
