package scenario

import (
	"context"
	"sync"
	"time"

	"github.com/peroxo/peroxo/bench/internal/payload"
	"github.com/peroxo/peroxo/bench/internal/report"
	"github.com/peroxo/peroxo/bench/internal/schedule"
)

// frameBuilder returns the frame for message seq of a sender, with the
// content that carries its due time.
type frameBuilder func(seq int64, content string) ([]byte, error)

// startPlan fixes the schedule of the send window, starting shortly after
// now so every sender goroutine is running before the first due time.
func (r *run) startPlan(senders int) (schedule.Plan, error) {
	start := time.Now().Add(100 * time.Millisecond)
	plan, err := schedule.NewPlan(start, r.options.Rate, senders, r.options.Duration, r.options.MaxMessages)
	if err != nil {
		return schedule.Plan{}, err
	}
	r.plan.Store(&plan)
	r.windowEnd.Store(plan.End().UnixNano())
	return plan, nil
}

// sendAll runs one goroutine per sender that sends its share of plan on
// schedule and waits for them. A sender that falls behind sends at once
// and keeps the due time in the content, so latency includes the delay.
func (r *run) sendAll(ctx context.Context, plan schedule.Plan, senders []*member, build func(*member) frameBuilder) {
	var wg sync.WaitGroup
	for index, sender := range senders {
		buildFrame := build(sender)
		wg.Go(func() {
			r.sendOne(ctx, plan, index, sender, buildFrame)
		})
	}
	wg.Wait()
}

func (r *run) sendOne(ctx context.Context, plan schedule.Plan, index int, sender *member, build frameBuilder) {
	content := make([]byte, 0, r.options.Size+64)
	for seq := range plan.Count(index) {
		due := plan.Due(index, seq)
		if schedule.SleepUntil(ctx, due) != nil {
			return
		}
		r.sendLag.Record(sender.index, time.Since(due))
		content = payload.AppendContent(content[:0], payload.Content{
			Run:    r.id,
			Kind:   payload.KindMessage,
			Sender: index,
			Seq:    seq,
			DueNS:  due.UnixNano(),
		}, r.options.Size)
		frame, err := build(seq, string(content))
		if err == nil {
			err = sender.conn.Write(ctx, frame)
		}
		if err != nil {
			r.sendErrors.Add(1)
			r.logger.Debug("send failed", "conn", sender.index, "err", err)
			continue
		}
		r.sent.Add(1)
	}
}

// drain waits until done reports true, the drain timeout passes or ctx
// ends, checking every 20 ms.
func (r *run) drain(ctx context.Context, done func() bool) {
	deadline := time.NewTimer(r.options.Drain)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case <-tick.C:
		case <-deadline.C:
			r.logger.Warn("drain timeout passed with messages outstanding", "drain", r.options.Drain)
			return
		case <-ctx.Done():
			return
		}
	}
}

// ackReport fills the MessageAck part of a report from the senders.
func (r *run) ackReport(rep *report.Report, senders []*member) {
	t := sum(senders)
	rep.AcksPersisted = t.acksPersisted
	rep.AcksFailed = t.acksFailed
	rep.AcksMissing = max(0, rep.Sent-t.acksPersisted-t.acksFailed)
	rep.AckLatency = report.Summarize(r.ack.Merged())
}

// trafficReport fills the delivery part of a report from the members that
// count deliveries, each of which expects perMember of every sent message
// (1 for DMs, all for a room).
func (r *run) trafficReport(rep *report.Report, plan schedule.Plan, receivers []*member, expected int64) {
	t := sum(receivers)
	rep.Senders = plan.Senders()
	rep.OfferedRate = r.options.Rate
	rep.Window = plan.End().Sub(plan.Start()).Seconds()
	rep.Sent = r.sent.Load()
	rep.SendErrors = r.sendErrors.Load()
	rep.Expected = expected
	rep.Delivered = t.delivered
	rep.InWindowShare = report.Share(t.inWindow, expected)
	rep.Missing = max(0, expected-t.delivered)
	rep.Duplicates = t.duplicates
	rep.UncheckedLate = t.uncheckedLate
	if t.lastDelivery > 0 {
		elapsed := time.Unix(0, t.lastDelivery).Sub(plan.Start()).Seconds()
		if elapsed > 0 {
			rep.Throughput = float64(t.delivered) / elapsed
		}
	}
	rep.DeliveryLatency = report.Summarize(r.delivery.Merged())
	rep.SendLag = report.Summarize(r.sendLag.Merged())
}
