// Package ops serves the operational endpoints of a service (/healthz,
// /readyz and /metrics) and instruments HTTP handlers and Connect RPCs with
// Prometheus metrics.
package ops

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a Prometheus registry with the Go runtime and process
// collectors registered. Each service owns one, so tests can run several
// services in one process.
func NewRegistry() *prometheus.Registry {
	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return registry
}

// ReadinessCheck reports whether one dependency is usable. It must return
// quickly; the /readyz handler gives every check at most two seconds.
type ReadinessCheck func(ctx context.Context) error

// Health tracks readiness checks. It is safe for concurrent use.
type Health struct {
	mu     sync.Mutex
	checks map[string]ReadinessCheck
}

// NewHealth returns a Health with no checks, which reports ready.
func NewHealth() *Health {
	return &Health{checks: make(map[string]ReadinessCheck)}
}

// AddCheck registers a named readiness check, replacing any check of that name.
func (h *Health) AddCheck(name string, check ReadinessCheck) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = check
}

// Register mounts /healthz, /readyz and /metrics on mux.
func (h *Health) Register(mux *http.ServeMux, registry *prometheus.Registry) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", h.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{
		Registry: registry,
	}))
}

func (h *Health) serveReady(w http.ResponseWriter, request *http.Request) {
	h.mu.Lock()
	checks := make(map[string]ReadinessCheck, len(h.checks))
	for name, check := range h.checks {
		checks[name] = check
	}
	h.mu.Unlock()

	ctx, cancel := context.WithTimeout(request.Context(), 2*time.Second)
	defer cancel()
	failures := make(map[string]string)
	for name, check := range checks {
		if err := check(ctx); err != nil {
			failures[name] = err.Error()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if len(failures) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "unavailable", "failures": failures})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "ready"})
}
