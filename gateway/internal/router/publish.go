package router

import (
	"context"

	"github.com/peroxo/peroxo/gateway/internal/wire"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// publishJob is one event for the publisher workers, with the session
// that waits for its MessageAck.
type publishJob struct {
	client Client
	event  *eventsv1.ChatEvent
}

// enqueuePublish hands event to the publisher workers without blocking.
// When their queue is full the sender gets a Failed ack at once; the live
// delivery has happened already.
func (r *Router) enqueuePublish(client Client, event *eventsv1.ChatEvent) {
	select {
	case r.publishes <- publishJob{client: client, event: event}:
	default:
		r.metrics.Dropped.WithLabelValues("publish").Inc()
		r.metrics.PublishResults.WithLabelValues("failed").Inc()
		r.sendAck(client, event, "event log publish queue full")
	}
}

// publishLoop is one publisher worker. It calls the blocking Bus.Publish
// off the router goroutine and sends the MessageAck straight to the
// sender's queue.
//
// NOTE: jobs still queued when the router stops are dropped without an ack.
// Their messages were delivered live but may be missing from the event log;
// a client that resends after reconnecting gets a new message id, because
// the recent-id cache lives in memory.
func (r *Router) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-r.publishes:
			reason := ""
			if err := r.bus.Publish(ctx, job.event); err != nil {
				reason = "event log unavailable: " + err.Error()
				r.metrics.PublishResults.WithLabelValues("failed").Inc()
				r.logger.Warn("publish to event log failed", "err", err,
					"project", job.event.GetMessage().GetProjectId(),
					"message", job.event.GetMessage().GetMessageId())
			} else {
				r.metrics.PublishResults.WithLabelValues("persisted").Inc()
			}
			r.sendAck(job.client, job.event, reason)
		}
	}
}

// sendAck sends the MessageAck of event; an empty failedReason means
// Persisted. Safe to call from any goroutine.
func (r *Router) sendAck(client Client, event *eventsv1.ChatEvent, failedReason string) {
	message := event.GetMessage()
	r.send(client, "MessageAck", wire.MustEncode(wire.MessageAck{
		ClientMessageID: message.GetClientMessageId(),
		MessageID:       message.GetMessageId(),
		Timestamp:       message.GetTimestampMs(),
		Status:          wire.AckStatus{FailedReason: failedReason},
	}))
}
