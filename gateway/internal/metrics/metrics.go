// Package metrics defines the gateway's Prometheus collectors. One
// [Metrics] is created per gateway and shared by its parts; every
// collector is safe for concurrent use.
package metrics

import "github.com/prometheus/client_golang/prometheus"

// Metrics holds the gateway's collectors.
type Metrics struct {
	// ConnectionsActive is the number of open WebSocket sessions.
	ConnectionsActive prometheus.Gauge
	// Messages counts frames by direction ("in", "out") and type.
	Messages *prometheus.CounterVec
	// ChatMessages counts accepted chat messages by type ("direct", "room").
	ChatMessages *prometheus.CounterVec
	// Processing observes the time from reading a chat frame to local
	// delivery plus the hand-off to the publisher.
	Processing prometheus.Histogram
	// Rejections counts refused handshakes and sessions by reason.
	Rejections *prometheus.CounterVec
	// SlowConsumerDrops counts sessions closed because their outbound
	// queue was full.
	SlowConsumerDrops prometheus.Counter
	// RateLimited counts frames rejected by the per-connection rate limit.
	RateLimited prometheus.Counter
	// RequestErrors counts Error frames by code.
	RequestErrors *prometheus.CounterVec
	// Dropped counts internal events dropped because a queue was full, by
	// queue ("publish", "remote_event", "presence").
	Dropped *prometheus.CounterVec
	// PublishResults counts event log publishes by result ("persisted",
	// "failed").
	PublishResults *prometheus.CounterVec
}

// New creates the collectors and registers them on registry.
func New(registry prometheus.Registerer) *Metrics {
	m := &Metrics{
		ConnectionsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "websocket_connections_active",
			Help: "Open WebSocket sessions on this gateway node.",
		}),
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "websocket_messages_total",
			Help: "WebSocket frames by direction (in, out) and message type.",
		}, []string{"direction", "type"}),
		ChatMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chat_messages_total",
			Help: "Accepted chat messages by type (direct, room).",
		}, []string{"type"}),
		Processing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chat_message_processing_duration_seconds",
			Help: "Time from reading a chat frame to local delivery and " +
				"the hand-off to the event log publisher.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18),
		}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_rejections_total",
			Help: "Refused handshakes and sessions by reason.",
		}, []string{"reason"}),
		SlowConsumerDrops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_slow_consumer_disconnects_total",
			Help: "Sessions closed because their outbound queue was full.",
		}),
		RateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_rate_limited_frames_total",
			Help: "Client frames rejected by the per-connection rate limit.",
		}),
		RequestErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_error_frames_total",
			Help: "Error frames sent, by error code.",
		}, []string{"code"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_dropped_total",
			Help: "Internal events dropped because a queue was full, by queue.",
		}, []string{"queue"}),
		PublishResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_publish_total",
			Help: "Event log publishes by result (persisted, failed).",
		}, []string{"result"}),
	}
	registry.MustRegister(m.ConnectionsActive, m.Messages, m.ChatMessages, m.Processing,
		m.Rejections, m.SlowConsumerDrops, m.RateLimited, m.RequestErrors, m.Dropped,
		m.PublishResults)
	// Series of the known label values exist from the start, so dashboards
	// and alerts see zero rather than no data.
	for _, queue := range []string{"publish", "remote_event", "presence"} {
		m.Dropped.WithLabelValues(queue)
	}
	for _, result := range []string{"persisted", "failed"} {
		m.PublishResults.WithLabelValues(result)
	}
	return m
}
