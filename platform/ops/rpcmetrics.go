package ops

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
)

// NewRPCMetricsInterceptor registers grpc_requests_total and
// grpc_request_duration_seconds on registry and returns a Connect
// interceptor that updates them for every unary RPC a handler serves. The
// code label is the Connect code name, "ok" on success.
func NewRPCMetricsInterceptor(registry prometheus.Registerer) connect.Interceptor {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grpc_requests_total",
		Help: "RPCs served (Connect, gRPC and gRPC-Web), by procedure and code.",
	}, []string{"procedure", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "grpc_request_duration_seconds",
		Help:    "Time to serve an RPC, by procedure.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"procedure"})
	registry.MustRegister(requests, duration)

	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, request connect.AnyRequest) (connect.AnyResponse, error) {
			start := time.Now()
			response, err := next(ctx, request)
			procedure := request.Spec().Procedure
			duration.WithLabelValues(procedure).Observe(time.Since(start).Seconds())
			requests.WithLabelValues(procedure, codeLabel(err)).Inc()
			return response, err
		}
	})
}

func codeLabel(err error) string {
	if err == nil {
		return "ok"
	}
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		return connectErr.Code().String()
	}
	return connect.CodeUnknown.String()
}
