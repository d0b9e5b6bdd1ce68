package scenario

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peroxo/peroxo/bench/internal/client"
	"github.com/peroxo/peroxo/bench/internal/report"
	"github.com/peroxo/peroxo/bench/internal/schedule"
)

// runChurn runs the fanout scenario and, during its send window, opens
// ChurnRate connections per second on a fixed schedule. Each churn
// connection joins the room, stays ChurnHold and closes. The report adds
// the connect rate reached and the connect latency from each connect's due
// time to the room's delivery figures, which show what churn costs the
// steady traffic.
func (r *run) runChurn(ctx context.Context) (*report.Report, error) {
	// Each churn user holds at most one connection at a time as long as the
	// pool outlasts a hold, so a per-user session limit is never the cause
	// of a failed connect.
	poolSize := int(math.Ceil(2 * r.options.ChurnRate * (r.options.ChurnHold + time.Second).Seconds()))
	poolSize = max(16, min(poolSize, int(r.options.ChurnRate*r.options.Duration.Seconds())+1))
	users := r.userIDs("c", poolSize)
	tokens, err := r.api.IssueTokens(ctx, r.tenants[0], users)
	if err != nil {
		return nil, err
	}
	churn := &churnLoop{run: r, tokens: tokens, latency: report.NewRecorder(16)}
	return r.fanout(ctx, churn.loop)
}

// churnLoop opens and closes connections during a fanout send window. Its
// counters are atomics because every connect runs on its own goroutine.
type churnLoop struct {
	*run
	tokens    []string
	latency   *report.Recorder
	attempts  atomic.Int64
	failures  atomic.Int64
	succeeded atomic.Int64
}

func (c *churnLoop) loop(ctx context.Context, room *room, traffic schedule.Plan) func(*report.Report) {
	plan, err := schedule.NewPlan(traffic.Start(), c.options.ChurnRate, 1, c.options.Duration, 0)
	if err != nil {
		c.logger.Error("plan churn", "err", err)
		return nil
	}
	dials := make(chan struct{}, c.options.DialConcurrency)
	joinFrame, err := client.EncodeJoinRoom(room.id)
	if err != nil {
		c.logger.Error("encode join frame", "err", err)
		return nil
	}
	var wg sync.WaitGroup
	for seq := range plan.Count(0) {
		due := plan.Due(0, seq)
		if schedule.SleepUntil(ctx, due) != nil {
			break
		}
		c.attempts.Add(1)
		wg.Go(func() {
			c.connectOnce(ctx, dials, due, int(seq), joinFrame)
		})
	}
	wg.Wait()
	return func(rep *report.Report) {
		rep.ConnectAttempts = c.attempts.Load()
		rep.ConnectErrors = c.failures.Load()
		rep.ConnectLatency = report.Summarize(c.latency.Merged())
		rep.ConnectsPerSec = float64(c.succeeded.Load()) / plan.End().Sub(plan.Start()).Seconds()
	}
}

// connectOnce opens one churn connection, joins the room, holds it and
// closes it. The connect latency counts from due, so a connect that waited
// for a dial slot shows the wait.
func (c *churnLoop) connectOnce(ctx context.Context, dials chan struct{}, due time.Time, seq int, joinFrame []byte) {
	select {
	case dials <- struct{}{}:
	case <-ctx.Done():
		return
	}

	ws, err := c.dialer.Dial(ctx, c.tokens[seq%len(c.tokens)])
	<-dials
	if err != nil {
		if ctx.Err() == nil {
			c.failures.Add(1)
			c.logger.Debug("churn connect failed", "err", err)
		}
		return
	}
	c.latency.Record(seq, time.Since(due))
	c.succeeded.Add(1)

	m := &member{index: seq, sender: -1, conn: client.NewConn(ws, c.options.WriteTimeout)}
	c.readers.Add(1)
	go func() {
		defer c.readers.Done()
		_ = m.conn.ReadLoop(func(frame client.ServerFrame) {
			if frame.Type == client.FrameError {
				c.countErrorFrame(frame.Status)
			}
		}, func(error) { c.undecodable.Add(1) })
	}()

	if err := m.conn.Write(ctx, joinFrame); err != nil && ctx.Err() == nil {
		c.failures.Add(1)
	}
	_ = schedule.SleepUntil(ctx, time.Now().Add(c.options.ChurnHold))
	m.conn.Close()
}
