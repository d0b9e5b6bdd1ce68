package router

import (
	"github.com/peroxo/peroxo/gateway/internal/wire"
	eventsv1 "github.com/peroxo/peroxo/schemas/gen/peroxo/events/v1"
)

// publish hands event to the bus without blocking, after the live
// delivery. The sender's MessageAck is sent from the bus's goroutine when
// the publish completes, or at once when the bus rejects the event. Acks
// of publishes that complete after the router stopped are still sent,
// because a session's Send is safe from any goroutine.
func (r *Router) publish(client Client, event *eventsv1.ChatEvent) {
	err := r.bus.PublishAsync(event, func(err error) {
		r.publishDone(client, event, err)
	})
	if err != nil {
		r.metrics.Dropped.WithLabelValues("publish").Inc()
		r.publishDone(client, event, err)
	}
}

// publishDone counts the result of a publish and sends its MessageAck.
// Safe to call from any goroutine.
func (r *Router) publishDone(client Client, event *eventsv1.ChatEvent, err error) {
	if err != nil {
		r.metrics.PublishResults.WithLabelValues("failed").Inc()
		r.logger.Warn("publish to event log failed", "err", err,
			"project", event.GetMessage().GetProjectId(),
			"message", event.GetMessage().GetMessageId())
		r.sendAck(client, event, "event log unavailable: "+err.Error())
		return
	}
	r.metrics.PublishResults.WithLabelValues("persisted").Inc()
	r.sendAck(client, event, "")
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
