package store

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Instrumented wraps a [Store] and observes the duration of every call in
// db_query_duration_seconds{operation}. The operation label is the method
// name in snake case: append, history, sync, conversations, rooms, ping.
type Instrumented struct {
	store    Store
	duration *prometheus.HistogramVec
}

// NewInstrumented registers db_query_duration_seconds on registry and
// returns store wrapped with it.
func NewInstrumented(store Store, registry prometheus.Registerer) *Instrumented {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "db_query_duration_seconds",
		Help:    "Time of one history store operation, by operation, errors included.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"operation"})
	registry.MustRegister(duration)
	return &Instrumented{store: store, duration: duration}
}

func (s *Instrumented) observe(operation string, start time.Time) {
	s.duration.WithLabelValues(operation).Observe(time.Since(start).Seconds())
}

// Append calls [Store.Append] and times it.
func (s *Instrumented) Append(ctx context.Context, messages []Message) (AppendResult, error) {
	defer s.observe("append", time.Now())
	return s.store.Append(ctx, messages)
}

// History calls [Store.History] and times it.
func (s *Instrumented) History(ctx context.Context, query PageQuery) (Page, error) {
	defer s.observe("history", time.Now())
	return s.store.History(ctx, query)
}

// Sync calls [Store.Sync] and times it.
func (s *Instrumented) Sync(ctx context.Context, query PageQuery) (Page, error) {
	defer s.observe("sync", time.Now())
	return s.store.Sync(ctx, query)
}

// Conversations calls [Store.Conversations] and times it.
func (s *Instrumented) Conversations(
	ctx context.Context,
	projectID, userID string,
	limit int,
) ([]Conversation, error) {
	defer s.observe("conversations", time.Now())
	return s.store.Conversations(ctx, projectID, userID, limit)
}

// Rooms calls [Store.Rooms] and times it.
func (s *Instrumented) Rooms(ctx context.Context, projectID string, limit int) ([]Room, error) {
	defer s.observe("rooms", time.Now())
	return s.store.Rooms(ctx, projectID, limit)
}

// Ping calls [Store.Ping] and times it.
func (s *Instrumented) Ping(ctx context.Context) error {
	defer s.observe("ping", time.Now())
	return s.store.Ping(ctx)
}

// Close closes the wrapped store.
func (s *Instrumented) Close() error {
	return s.store.Close()
}
