// Package replay re-projects the chat event log into history, for a new
// store, a lost table or a schema change. It reads through an ephemeral
// ordered consumer, so it leaves no state on the server and does not
// disturb the durable consumer of the live projection.
package replay

import (
	"context"
	"errors"
	"fmt"
	"github.com/nats-io/nats.go"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/consumer/internal/projector"
	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// Options selects the events to replay. Since and FromSeq are exclusive
// alternatives; with neither, the whole stream is replayed.
type Options struct {
	// Since starts at the first event stored at or after this time.
	Since time.Time
	// FromSeq starts at this stream sequence.
	FromSeq uint64
	// Project limits the replay to one project's events; empty means all.
	Project string
	// BatchSize is the number of events per AppendMessages call.
	BatchSize int
	// WriteAttempts bounds the attempts per batch before the replay stops.
	WriteAttempts int
	// Progress receives progress reports; nil reports nothing.
	Progress Progress
}

// Summary counts what a replay did.
type Summary struct {
	// Read is the number of events read from the stream.
	Read int
	// Appended and Duplicates are the events chatsvc stored and the ones it
	// already had.
	Appended, Duplicates int
	// Malformed is the number of undecodable events, which are skipped.
	Malformed int
	// LastSequence is the stream's last sequence when the replay started;
	// events stored later are not replayed.
	LastSequence uint64
	Duration     time.Duration
}

// Rate returns the events read per second.
func (s Summary) Rate() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Read) / s.Duration.Seconds()
}

// Progress receives how far a replay got.
type Progress interface {
	// Start is called once with the number of events to replay.
	Start(total uint64)
	// Advance is called after each written batch with the events read so far.
	Advance(read uint64)
	// Finish is called once when the replay ends.
	Finish()
}

// lookupTimeout bounds the wait for the stream, which includes the wait
// for a NATS connection.
const lookupTimeout = 30 * time.Second

// Run replays the selected events into writer and returns what it did. It
// stops at the stream's last sequence at start, at the first batch that
// cannot be written after WriteAttempts, or when ctx ends.
func Run(
	ctx context.Context,
	js jetstream.JetStream,
	writer projector.Writer,
	options Options,
	logger *slog.Logger,
) (Summary, error) {
	start := time.Now()
	options.BatchSize = max(options.BatchSize, 1)
	options.WriteAttempts = max(options.WriteAttempts, 1)
	if options.Progress == nil {
		options.Progress = noProgress{}
	}
	var summary Summary
	lookupCtx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	stream, err := js.Stream(lookupCtx, eventlog.StreamName)
	if err != nil {
		return summary, fmt.Errorf("look up stream %s: %w", eventlog.StreamName, err)
	}
	info, err := stream.Info(lookupCtx)
	if err != nil {
		return summary, fmt.Errorf("read stream %s info: %w", eventlog.StreamName, err)
	}
	summary.LastSequence = info.State.LastSeq
	if info.State.Msgs == 0 || options.FromSeq > summary.LastSequence {
		summary.Duration = time.Since(start)
		return summary, nil
	}
	consumer, err := stream.OrderedConsumer(ctx, orderedConfig(options))
	if err != nil {
		return summary, fmt.Errorf("create ordered consumer: %w", err)
	}
	replayer := &replayer{
		consumer: consumer,
		writer:   writer,
		options:  options,
		logger:   logger.With("component", "replay"),
		summary:  &summary,
	}
	err = replayer.run(ctx)
	options.Progress.Finish()
	summary.Duration = time.Since(start)
	return summary, err
}

func orderedConfig(options Options) jetstream.OrderedConsumerConfig {
	config := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{eventlog.AllSubjects},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if options.Project != "" {
		config.FilterSubjects = []string{eventlog.ProjectSubjects(options.Project)}
	}
	switch {
	case options.FromSeq > 0:
		config.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		config.OptStartSeq = options.FromSeq
	case !options.Since.IsZero():
		config.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		since := options.Since
		config.OptStartTime = &since
	}
	return config
}

// replayer holds the state of one replay; only its run goroutine uses it.
type replayer struct {
	consumer jetstream.Consumer
	writer   projector.Writer
	options  Options
	logger   *slog.Logger
	summary  *Summary
	started  bool
}

// fetchRetries bounds consecutive failed fetches that a retry may cure.
const fetchRetries = 10

// retryableFetch reports whether a failed fetch may work when repeated. An
// ordered consumer recreates its server-side consumer on every fetch, and
// on a cluster the first pull can reach it before its leader listens,
// which fails with "no responders".
func retryableFetch(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoHeartbeat) ||
		errors.Is(err, nats.ErrTimeout)
}

func (r *replayer) run(ctx context.Context) error {
	failedFetches := 0
	retryLater := func(err error) error {
		failedFetches++
		if failedFetches > fetchRetries || !retryableFetch(err) {
			return fmt.Errorf("fetch events after %d: %w", r.summary.Read, err)
		}
		r.logger.Info("fetch failed; retrying", "err", err, "attempt", failedFetches)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(failedFetches) * 100 * time.Millisecond):
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("replay interrupted after %d events: %w", r.summary.Read, err)
		}
		batch, err := r.consumer.Fetch(r.options.BatchSize, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if err := retryLater(err); err != nil {
				return err
			}
			continue
		}
		messages := make([]*chatv1.Message, 0, r.options.BatchSize)
		done := false
		received := 0
		for msg := range batch.Messages() {
			received++
			meta, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("read event metadata: %w", err)
			}
			if meta.Sequence.Stream > r.summary.LastSequence {
				done = true
				continue
			}
			r.startProgress(meta)
			r.summary.Read++
			message, err := projector.DecodeMessage(msg.Data())
			if err != nil {
				r.summary.Malformed++
				r.logger.Warn("skipped malformed event", "stream_seq", meta.Sequence.Stream,
					"err", err)
			} else {
				messages = append(messages, message)
			}
			if meta.NumPending == 0 || meta.Sequence.Stream == r.summary.LastSequence {
				done = true
			}
		}
		fetchErr := batch.Error()
		if fetchErr != nil && !retryableFetch(fetchErr) {
			return fmt.Errorf("fetch events after %d: %w", r.summary.Read, fetchErr)
		}
		// Events received before a failed fetch are written, and the ordered
		// consumer resumes after the last one.
		if err := r.write(ctx, messages); err != nil {
			return err
		}
		if fetchErr != nil {
			r.options.Progress.Advance(uint64(r.summary.Read))
			if done {
				return nil
			}
			if err := retryLater(fetchErr); err != nil {
				return err
			}
			continue
		}
		failedFetches = 0
		r.options.Progress.Advance(uint64(r.summary.Read))
		if done {
			return nil
		}
		if received == 0 {
			// No event within the wait: the filter may match nothing more.
			pending, err := r.pending(ctx)
			if err != nil {
				return err
			}
			if pending == 0 {
				return nil
			}
		}
	}
}

func (r *replayer) startProgress(meta *jetstream.MsgMetadata) {
	if r.started {
		return
	}
	r.started = true
	// NumPending counts the matching events after this one, including any
	// stored since the start, so the total is an upper bound.
	total := meta.NumPending + 1
	if meta.Sequence.Stream <= r.summary.LastSequence {
		total = min(total, r.summary.LastSequence-meta.Sequence.Stream+1)
	}
	r.options.Progress.Start(total)
}

func (r *replayer) pending(ctx context.Context) (uint64, error) {
	info, err := r.consumer.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("read ordered consumer info: %w", err)
	}
	if info.Delivered.Stream >= r.summary.LastSequence {
		return 0, nil
	}
	return info.NumPending, nil
}

func (r *replayer) write(ctx context.Context, messages []*chatv1.Message) error {
	if len(messages) == 0 {
		return nil
	}
	var err error
	for attempt := range r.options.WriteAttempts {
		if attempt > 0 {
			delay := time.Duration(attempt) * 500 * time.Millisecond
			r.logger.Warn("write failed, retrying", "err", err, "retry_in", delay)
			select {
			case <-ctx.Done():
				return fmt.Errorf("replay interrupted after %d events: %w", r.summary.Read, ctx.Err())
			case <-time.After(delay):
			}
		}
		var result projector.AppendResult
		result, err = r.writer.AppendMessages(ctx, messages)
		if err == nil {
			r.summary.Appended += result.Appended
			r.summary.Duplicates += result.Duplicates
			return nil
		}
	}
	return fmt.Errorf("write %d events after %d attempts: %w", len(messages),
		r.options.WriteAttempts, err)
}

type noProgress struct{}

func (noProgress) Start(uint64)   {}
func (noProgress) Advance(uint64) {}
func (noProgress) Finish()        {}
