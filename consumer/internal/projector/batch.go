package projector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
	chatv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/chat/v1"
)

// delivery is one fetched event with its decoded message.
type delivery struct {
	msg       jetstream.Msg
	message   *chatv1.Message
	sequence  uint64
	delivered uint64
}

// processBatch decodes a fetched batch, moves undecodable events to the
// dead-letter stream and writes the rest.
func (p *Projector) processBatch(ctx context.Context, messages []jetstream.Msg) {
	p.metrics.batchSize.Observe(float64(len(messages)))
	deliveries := make([]delivery, 0, len(messages))
	for _, msg := range messages {
		item := delivery{msg: msg}
		if meta, err := msg.Metadata(); err == nil {
			item.sequence = meta.Sequence.Stream
			item.delivered = meta.NumDelivered
		}
		if item.delivered > 1 {
			p.metrics.redeliveries.Inc()
		}
		message, err := DecodeMessage(msg.Data())
		if err != nil {
			p.deadLetter(ctx, item, reasonMalformed, err)
			continue
		}
		item.message = message
		deliveries = append(deliveries, item)
	}
	if len(deliveries) > 0 {
		p.write(ctx, deliveries)
	}
}

// DecodeMessage decodes a stream event and checks that it carries a
// message that history can store.
func DecodeMessage(data []byte) (*chatv1.Message, error) {
	event, err := eventlog.UnmarshalEvent(data)
	if err != nil {
		return nil, err
	}
	message := event.GetMessage()
	switch {
	case message == nil:
		return nil, errors.New("chat event has no message")
	case message.GetMessageId() == "":
		return nil, errors.New("chat event message has no message id")
	case message.GetProjectId() == "":
		return nil, errors.New("chat event message has no project id")
	}
	return message, nil
}

// write stores deliveries and acks them, or settles each one by a delayed
// redelivery or the dead-letter stream.
func (p *Projector) write(ctx context.Context, deliveries []delivery) {
	err := p.writeWithRetry(ctx, deliveries)
	if err == nil {
		for _, item := range deliveries {
			if err := item.msg.Ack(); err != nil {
				p.logger.Warn("ack failed; the event will be written again",
					"err", err, "stream_seq", item.sequence)
			}
		}
		p.metrics.projected.Add(float64(len(deliveries)))
		return
	}
	if ctx.Err() != nil {
		// Shutting down: let another process take the events at once.
		for _, item := range deliveries {
			_ = item.msg.Nak()
		}
		return
	}
	if outage(err) {
		// chatsvc or its store is down. The event log keeps the events, so
		// they wait for it however long it takes and are never dead-lettered
		// for an outage.
		p.logger.Warn("chatsvc unavailable, events will be redelivered",
			"err", err, "events", len(deliveries))
		for _, item := range deliveries {
			p.redeliverLater(item)
		}
		return
	}
	if len(deliveries) > 1 {
		// Write one by one, so one event that chatsvc rejects or that keeps
		// failing cannot hold back the others.
		for _, item := range deliveries {
			p.write(ctx, []delivery{item})
		}
		return
	}
	item := deliveries[0]
	if permanent(err) {
		p.deadLetter(ctx, item, reasonRejected, err)
		return
	}
	if item.delivered >= uint64(p.options.MaxDeliver) {
		p.deadLetter(ctx, item, reasonMaxDeliveries, err)
		return
	}
	p.logger.Warn("write failed, event will be redelivered",
		"err", err, "stream_seq", item.sequence)
	p.redeliverLater(item)
}

// redeliverLater naks item so the server delivers it again after a backoff
// that grows with its delivery count.
func (p *Projector) redeliverLater(item delivery) {
	delay := backoff(int(item.delivered), p.options.RetryMin, p.options.RetryMax)
	if err := item.msg.NakWithDelay(delay); err != nil {
		p.logger.Warn("nak failed; the event returns after the ack wait",
			"err", err, "stream_seq", item.sequence)
	}
}

// writeWithRetry writes deliveries up to writeAttempts times, telling the
// server before each retry that the events are still in progress.
func (p *Projector) writeWithRetry(ctx context.Context, deliveries []delivery) error {
	messages := make([]*chatv1.Message, len(deliveries))
	for i, item := range deliveries {
		messages[i] = item.message
	}
	var err error
	for attempt := range writeAttempts {
		if attempt > 0 {
			if sleep(ctx, backoff(attempt-1, p.options.RetryMin, p.options.RetryMax)) != nil {
				return ctx.Err()
			}
			for _, item := range deliveries {
				_ = item.msg.InProgress()
			}
		}
		start := time.Now()
		var result AppendResult
		result, err = p.writer.AppendMessages(ctx, messages)
		p.metrics.writeSeconds.Observe(time.Since(start).Seconds())
		if err == nil {
			p.logger.Debug("batch written", "events", len(messages),
				"appended", result.Appended, "duplicates", result.Duplicates)
			return nil
		}
		if permanent(err) || ctx.Err() != nil {
			return err
		}
	}
	return fmt.Errorf("write %d events after %d attempts: %w", len(messages), writeAttempts, err)
}
