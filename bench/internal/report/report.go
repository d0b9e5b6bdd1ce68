package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Report is the result of one run. Latencies are in milliseconds, rates
// per second. Fields that a scenario does not measure stay zero or nil and
// are left out of both outputs.
type Report struct {
	Scenario    string  `json:"scenario"`
	Target      string  `json:"target"`
	Connections int     `json:"connections"`
	Senders     int     `json:"senders,omitempty"`
	OfferedRate float64 `json:"offered_msgs_per_s,omitempty"`
	Window      float64 `json:"send_window_s,omitempty"`

	Sent       int64 `json:"sent,omitempty"`
	SendErrors int64 `json:"send_errors,omitempty"`

	Expected        int64    `json:"expected_deliveries,omitempty"`
	Delivered       int64    `json:"delivered,omitempty"`
	InWindowShare   float64  `json:"in_window_share,omitempty"`
	Missing         int64    `json:"missing,omitempty"`
	Duplicates      int64    `json:"duplicates,omitempty"`
	UncheckedLate   int64    `json:"unchecked_late,omitempty"`
	Throughput      float64  `json:"deliveries_per_s,omitempty"`
	DeliveryLatency *Latency `json:"delivery_latency_ms,omitempty"`

	AcksPersisted int64    `json:"acks_persisted,omitempty"`
	AcksFailed    int64    `json:"acks_failed,omitempty"`
	AcksMissing   int64    `json:"acks_missing,omitempty"`
	AckLatency    *Latency `json:"ack_latency_ms,omitempty"`

	SendLag *Latency `json:"send_lag_ms,omitempty"`

	ConnectAttempts int64    `json:"connect_attempts,omitempty"`
	ConnectErrors   int64    `json:"connect_errors,omitempty"`
	ConnectLatency  *Latency `json:"connect_latency_ms,omitempty"`
	ConnectsPerSec  float64  `json:"connects_per_s,omitempty"`

	Disconnects int64            `json:"unexpected_disconnects,omitempty"`
	Closes      map[string]int64 `json:"unexpected_closes,omitempty"`
	ErrorFrames map[string]int64 `json:"error_frames,omitempty"`

	Memory *Memory `json:"gateway_memory,omitempty"`
}

// Memory is the gateway's memory before and after a scenario opened its
// connections, from the gateway's /metrics, and the growth per connection
// still open when the memory was read.
type Memory struct {
	Connections       int     `json:"connections"`
	GatewayActive     float64 `json:"gateway_active_delta"`
	RSSBefore         float64 `json:"rss_before_bytes"`
	RSSAfter          float64 `json:"rss_after_bytes"`
	RSSPerConn        float64 `json:"rss_per_conn_bytes"`
	HeapInuseBefore   float64 `json:"heap_inuse_before_bytes"`
	HeapInuseAfter    float64 `json:"heap_inuse_after_bytes"`
	HeapInusePerConn  float64 `json:"heap_inuse_per_conn_bytes"`
	GoSysPerConn      float64 `json:"go_sys_per_conn_bytes"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn"`
}

// Share returns part/whole, or 0 when whole is 0.
func Share(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// WriteJSON writes r as one line of JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	line = append(line, '\n')
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteTable writes r as an aligned two-column table.
func (r *Report) WriteTable(w io.Writer) error {
	table := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(table, "%s\t%s\n", name, fmt.Sprintf(format, args...))
	}
	row("scenario", "%s against %s", r.Scenario, r.Target)
	row("connections", "%d", r.Connections)
	if r.Senders > 0 {
		row("offered", "%.0f msg/s from %d senders for %.1f s",
			r.OfferedRate, r.Senders, r.Window)
		row("sent", "%d (send errors %d)", r.Sent, r.SendErrors)
	}
	if r.Expected > 0 {
		row("delivered", "%d of %d expected (%.3f%%)",
			r.Delivered, r.Expected, 100*Share(r.Delivered, r.Expected))
		row("inside send window", "%.3f%% of expected", 100*r.InWindowShare)
		row("missing after drain", "%d", r.Missing)
		row("duplicates", "%d (too late to check: %d)", r.Duplicates, r.UncheckedLate)
		row("throughput", "%.0f deliveries/s", r.Throughput)
	}

	latencyRow(row, "delivery latency", r.DeliveryLatency)
	if r.AckLatency != nil || r.AcksFailed > 0 || r.AcksMissing > 0 {
		row("acks", "%d persisted, %d failed, %d missing",
			r.AcksPersisted, r.AcksFailed, r.AcksMissing)
		latencyRow(row, "persisted ack latency", r.AckLatency)
	}
	latencyRow(row, "send lag behind schedule", r.SendLag)
	if r.ConnectAttempts > 0 {
		row("connects", "%d attempted, %d failed, %.1f/s",
			r.ConnectAttempts, r.ConnectErrors, r.ConnectsPerSec)
		latencyRow(row, "connect latency", r.ConnectLatency)
	}

	if r.Memory != nil {
		m := r.Memory
		row("connections measured", "%d open (gateway counts %.0f more active)",
			m.Connections, m.GatewayActive)
		row("gateway RSS", "%.1f MiB -> %.1f MiB, %.1f KiB per connection",
			m.RSSBefore/(1<<20), m.RSSAfter/(1<<20), m.RSSPerConn/1024)
		row("gateway heap in use", "%.1f MiB -> %.1f MiB, %.1f KiB per connection",
			m.HeapInuseBefore/(1<<20), m.HeapInuseAfter/(1<<20), m.HeapInusePerConn/1024)
		row("gateway Go memory (sys)", "%.1f KiB per connection", m.GoSysPerConn/1024)
		row("gateway goroutines", "%.2f per connection", m.GoroutinesPerConn)
	}
	if len(r.Closes) > 0 {
		row("unexpected disconnects", "%d (%s)", r.Disconnects, countList(r.Closes))
	} else {
		row("unexpected disconnects", "%d", r.Disconnects)
	}
	if len(r.ErrorFrames) > 0 {
		row("error frames", "%s", countList(r.ErrorFrames))
	}
	if err := table.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// countList formats counts by label as "label: n, label: n", sorted by
// label.
func countList(counts map[string]int64) string {
	parts := make([]string, 0, len(counts))
	for _, label := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s: %d", label, counts[label]))
	}
	return strings.Join(parts, ", ")
}

func latencyRow(row func(string, string, ...any), name string, latency *Latency) {
	if latency == nil {
		return
	}
	row(name+" (ms)", "p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  (n=%d)",
		latency.P50, latency.P90, latency.P99, latency.P999, latency.Max, latency.Count)
}
