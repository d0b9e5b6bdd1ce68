package projector

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the projector's Prometheus metrics.
type Metrics struct {
	projected    prometheus.Counter
	batchSize    prometheus.Histogram
	writeSeconds prometheus.Histogram
	redeliveries prometheus.Counter
	deadLettered *prometheus.CounterVec
	pending      prometheus.Gauge
}

// NewMetrics registers the projector's metrics with registry.
func NewMetrics(registry prometheus.Registerer) *Metrics {
	m := &Metrics{
		projected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consumer_messages_projected_total",
			Help: "Events written to history and acked.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "consumer_batch_size",
			Help:    "Events per fetched batch.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "consumer_write_duration_seconds",
			Help:    "Duration of one AppendMessages call, failed ones included.",
			Buckets: prometheus.DefBuckets,
		}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consumer_redeliveries_total",
			Help: "Events received more than once.",
		}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consumer_dead_lettered_total",
			Help: "Events moved to the dead-letter stream, by reason.",
		}, []string{"reason"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "consumer_pending_messages",
			Help: "Events not yet delivered plus events delivered but not acked.",
		}),
	}
	registry.MustRegister(m.projected, m.batchSize, m.writeSeconds, m.redeliveries,
		m.deadLettered, m.pending)
	// Every reason is exported from the start, so alerts see a zero.
	for _, reason := range []string{reasonMalformed, reasonRejected, reasonMaxDeliveries} {
		m.deadLettered.WithLabelValues(reason)
	}
	return m
}
