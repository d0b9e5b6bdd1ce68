// Package schedule computes the open-loop send times of a load run.
//
// A run offers a fixed total rate spread over several senders. Message g of
// the run (counting over all senders) is due at start + g/rate, and sender k
// of S owns the messages g = k, k+S, k+2S, ... so the senders interleave into
// one evenly spaced stream. A sender that falls behind still stamps each
// message with its due time, so a stalled sender shows up as latency instead
// of silently lowering the offered rate (no coordinated omission).
package schedule

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Plan is the schedule of one run: how many messages, at what total rate,
// from how many senders. A Plan is immutable and safe for concurrent use.
type Plan struct {
	start   time.Time
	rate    float64 // messages per second over all senders
	senders int
	total   int64 // messages over all senders
}

// NewPlan returns the plan of a run that starts at start and offers rate
// messages per second from senders senders for window, capped at
// maxMessages messages in total (0 means no cap).
func NewPlan(
	start time.Time,
	rate float64,
	senders int,
	window time.Duration,
	maxMessages int64,
) (Plan, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return Plan{}, fmt.Errorf("invalid rate %v: expected a positive number of messages per second", rate)
	}
	if senders < 1 {
		return Plan{}, fmt.Errorf("invalid sender count %d: expected at least 1", senders)
	}
	if window <= 0 {
		return Plan{}, fmt.Errorf("invalid send window %s: expected a positive duration", window)
	}
	if maxMessages < 0 {
		return Plan{}, fmt.Errorf("invalid message cap %d: expected 0 (no cap) or more", maxMessages)
	}
	total := int64(math.Ceil(rate * window.Seconds()))
	if maxMessages > 0 && total > maxMessages {
		total = maxMessages
	}
	return Plan{start: start, rate: rate, senders: senders, total: total}, nil
}

// Start returns when the first message is due.
func (p Plan) Start() time.Time { return p.start }

// Total returns how many messages the run sends over all senders.
func (p Plan) Total() int64 { return p.total }

// Senders returns how many senders share the plan.
func (p Plan) Senders() int { return p.senders }

// End returns the due time of the last message plus one interval: the end
// of the send window.
func (p Plan) End() time.Time { return p.dueGlobal(p.total) }

// Count returns how many messages sender sends.
func (p Plan) Count(sender int) int64 {
	if sender < 0 || sender >= p.senders || int64(sender) >= p.total {
		return 0
	}
	return (p.total-int64(sender)-1)/int64(p.senders) + 1
}

// Due returns when message seq of sender is due. seq counts from 0 per
// sender.
func (p Plan) Due(sender int, seq int64) time.Time {
	return p.dueGlobal(int64(sender) + seq*int64(p.senders))
}

func (p Plan) dueGlobal(index int64) time.Time {
	offset := time.Duration(math.Round(float64(index) * float64(time.Second) / p.rate))
	return p.start.Add(offset)
}

// SleepUntil waits until due or until ctx ends, whichever is first, and
// returns ctx's error in the second case. It returns at once when due has
// passed, which is how a late sender catches up without skipping messages.
func SleepUntil(ctx context.Context, due time.Time) error {
	wait := time.Until(due)
	if wait <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
