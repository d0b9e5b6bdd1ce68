package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/peroxo/peroxo/bench/internal/report"
	"github.com/peroxo/peroxo/bench/internal/schedule"
)

// runIdle opens Connections connections that send nothing, waits Settle,
// and reports how much the gateway's memory grew per connection according
// to its /metrics. The connections stay open for Duration in total.
func (r *run) runIdle(ctx context.Context) (*report.Report, error) {
	endpoint := r.options.MetricsURL
	if endpoint == "" {
		endpoint = r.api.GatewayURL + "/metrics"
	}
	names := []string{metricRSS, metricHeapInuse, metricGoSys, metricGoroutines, metricWSActive}
	before, err := scrape(ctx, r.api.HTTP, endpoint, names...)
	if err != nil {
		return nil, err
	}
	members := make([]*member, r.options.Connections)
	for i, userID := range r.userIDs("i", len(members)) {
		members[i] = newMember(i, userID, -1, false)
		members[i].tenant = i % len(r.tenants)
	}

	started := time.Now()
	if err := r.openMembers(ctx, members); err != nil {
		return nil, err
	}
	defer func() {
		r.closeMembers(members)
		r.waitReaders()
	}()

	if err := schedule.SleepUntil(ctx, time.Now().Add(r.options.Settle)); err != nil {
		return nil, err
	}
	after, err := scrape(ctx, r.api.HTTP, endpoint, names...)
	if err != nil {
		return nil, err
	}
	// Connections the gateway closed before the second scrape no longer
	// hold memory, so the growth is divided by the connections still open.
	open := len(members) - int(r.disconnects.Load())
	if open < 1 {
		return nil, fmt.Errorf("measure idle memory: the gateway closed all %d connections; %s",
			len(members), r.errorSummary())
	}
	if open < len(members) {
		r.logger.Warn("gateway closed connections before the memory was read",
			"opened", len(members), "open", open)
	}
	for _, name := range []string{metricRSS, metricHeapInuse, metricGoSys} {
		if _, ok := after[name]; !ok {
			return nil, fmt.Errorf("scrape %s: metric %s missing", endpoint, name)
		}
	}

	n := float64(open)
	rep := r.baseReport(len(members))
	rep.Memory = &report.Memory{
		Connections:       open,
		GatewayActive:     after[metricWSActive] - before[metricWSActive],
		RSSBefore:         before[metricRSS],
		RSSAfter:          after[metricRSS],
		RSSPerConn:        (after[metricRSS] - before[metricRSS]) / n,
		HeapInuseBefore:   before[metricHeapInuse],
		HeapInuseAfter:    after[metricHeapInuse],
		HeapInusePerConn:  (after[metricHeapInuse] - before[metricHeapInuse]) / n,
		GoSysPerConn:      (after[metricGoSys] - before[metricGoSys]) / n,
		GoroutinesPerConn: (after[metricGoroutines] - before[metricGoroutines]) / n,
	}
	if rep.Memory.RSSPerConn <= 0 || rep.Memory.HeapInusePerConn <= 0 {
		r.logger.Warn("the gateway's memory did not grow with the connections, so the "+
			"per-connection figures are meaningless; it was still returning memory from "+
			"earlier load: run idle against a freshly started gateway",
			"rss_before", before[metricRSS], "rss_after", after[metricRSS])
	}
	// Hold the connections for the rest of -duration, then report whether
	// the gateway kept them all.
	if err := schedule.SleepUntil(ctx, started.Add(r.options.Duration)); err != nil {
		return nil, err
	}
	rep.Disconnects = r.disconnects.Load()
	return rep, nil
}
