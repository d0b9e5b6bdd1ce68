package api

import (
	"context"
	"log/slog"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// sampledLogger writes rejection records at Info, at most about ten a
// second with bursts of 20, so a client that repeats a bad request cannot
// flood the log. The next record written reports how many were dropped.
// It is safe for concurrent use.
type sampledLogger struct {
	logger  *slog.Logger
	limiter *rate.Limiter
	dropped atomic.Int64
}

func newSampledLogger(logger *slog.Logger) *sampledLogger {
	return &sampledLogger{logger: logger, limiter: rate.NewLimiter(10, 20)}
}

// Info logs message with attributes unless the rate is exceeded.
func (l *sampledLogger) Info(ctx context.Context, message string, attributes ...any) {
	if !l.logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if !l.limiter.Allow() {
		l.dropped.Add(1)
		return
	}
	if dropped := l.dropped.Swap(0); dropped > 0 {
		attributes = append(attributes, "dropped_similar", dropped)
	}
	l.logger.InfoContext(ctx, message, attributes...)
}
