package api

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Operation label values.
const (
	opCreateTenant = "create_tenant"
	opIssueToken   = "issue_user_token"
	opVerifyToken  = "verify_user_token"
)

// Metrics are the auth service's counters. NewMetrics registers them.
type Metrics struct {
	tenantsCreated *prometheus.CounterVec
	tokensIssued   prometheus.Counter
	tokensVerified prometheus.Counter
	rejected       *prometheus.CounterVec
}

// NewMetrics registers authsvc_tenants_created_total{method},
// authsvc_user_tokens_issued_total, authsvc_user_tokens_verified_total and
// authsvc_requests_rejected_total{operation,reason} on registry, with
// every label value present from the start.
func NewMetrics(registry prometheus.Registerer) *Metrics {
	metrics := &Metrics{
		tenantsCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authsvc_tenants_created_total",
			Help: "Tenants created by this server, by method (admin or google).",
		}, []string{"method"}),
		tokensIssued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authsvc_user_tokens_issued_total",
			Help: "User tokens issued.",
		}),
		tokensVerified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "authsvc_user_tokens_verified_total",
			Help: "User token verifications that succeeded.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authsvc_requests_rejected_total",
			Help: "Rejected requests, by operation and reason.",
		}, []string{"operation", "reason"}),
	}
	registry.MustRegister(metrics.tenantsCreated, metrics.tokensIssued,
		metrics.tokensVerified, metrics.rejected)
	for _, method := range []string{creatorAdmin, "google"} {
		metrics.tenantsCreated.WithLabelValues(method)
	}
	for _, operation := range []string{opCreateTenant, opIssueToken, opVerifyToken} {
		for _, rejection := range allReasons {
			metrics.rejected.WithLabelValues(operation, string(rejection))
		}
	}
	return metrics
}
