package projector

import (
	"context"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/peroxo/peroxo/platform/eventlog"
)

// Headers of a dead letter. The data is the original event, unchanged, and
// the subject is eventlog.DeadLetterSubjectRoot plus the original subject.
const (
	// HeaderReason is one of the reason values below.
	HeaderReason = "Peroxo-Dead-Letter-Reason"
	// HeaderError is the last error that the event caused.
	HeaderError = "Peroxo-Dead-Letter-Error"
	// HeaderStreamSequence is the event's sequence in the chat stream.
	HeaderStreamSequence = "Peroxo-Stream-Sequence"
	// HeaderDeliveries is how often the event had been delivered.
	HeaderDeliveries = "Peroxo-Deliveries"
	// HeaderMessageID is the original Nats-Msg-Id, the chat message id.
	HeaderMessageID = "Peroxo-Message-Id"
)

// Reasons for dead-lettering, used in HeaderReason and as the reason label
// of consumer_dead_lettered_total.
const (
	reasonMalformed     = "malformed"
	reasonRejected      = "rejected"
	reasonMaxDeliveries = "max_deliveries"
)

// deadLetter copies an event to the dead-letter stream and terminates the
// original. When the copy cannot be stored, the original is returned to
// the server for a later attempt, so no event is dropped.
func (p *Projector) deadLetter(ctx context.Context, item delivery, reason string, cause error) {
	msg := item.msg
	letter := nats.NewMsg(eventlog.DeadLetterSubjectRoot + "." + msg.Subject())
	letter.Data = msg.Data()
	sequence := strconv.FormatUint(item.sequence, 10)
	messageID := msg.Headers().Get(jetstream.MsgIDHeader)
	letter.Header.Set(HeaderReason, reason)
	letter.Header.Set(HeaderError, cause.Error())
	letter.Header.Set(HeaderStreamSequence, sequence)
	letter.Header.Set(HeaderDeliveries, strconv.FormatUint(item.delivered, 10))
	letter.Header.Set(HeaderMessageID, messageID)
	logger := p.logger.With("stream_seq", item.sequence, "message_id", messageID,
		"subject", msg.Subject(), "reason", reason)

	publishCtx, cancel := context.WithTimeout(ctx, p.options.AckWait/2)
	defer cancel()
	// The sequence as message id makes a repeated dead-lettering one entry.
	_, err := p.js.PublishMsg(publishCtx, letter, jetstream.WithMsgID("dlq-"+sequence))
	if err != nil {
		logger.Warn("dead-letter publish failed; the event will be retried", "err", err)
		_ = msg.NakWithDelay(p.options.RetryMax)
		return
	}
	if err := msg.TermWithReason(reason); err != nil {
		logger.Warn("terminate dead-lettered event failed", "err", err)
	}
	p.metrics.deadLettered.WithLabelValues(reason).Inc()
	if item.message != nil {
		logger = logger.With("project", item.message.GetProjectId())
	}
	logger.Error("event moved to the dead-letter stream", "err", cause,
		"deliveries", item.delivered)
}
