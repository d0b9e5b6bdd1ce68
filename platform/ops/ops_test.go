package ops

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newTestServer(t *testing.T, health *Health) (*httptest.Server, *HTTPMetrics) {
	t.Helper()
	registry := NewRegistry()
	mux := http.NewServeMux()
	health.Register(mux, registry)
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})
	metrics := NewHTTPMetrics(registry)
	server := httptest.NewServer(metrics.Wrap(mux))
	t.Cleanup(server.Close)
	return server, metrics
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	response, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response.StatusCode, string(body)
}

func TestReadyzReportsFailingCheck(t *testing.T) {
	health := NewHealth()
	server, _ := newTestServer(t, health)

	if status, _ := get(t, server.URL+"/readyz"); status != http.StatusOK {
		t.Errorf("readyz with no checks = %d, want 200", status)
	}
	health.AddCheck("store", func(context.Context) error { return errors.New("store down") })
	status, body := get(t, server.URL+"/readyz")
	if status != http.StatusServiceUnavailable {
		t.Errorf("readyz with a failing check = %d, want 503", status)
	}
	if !strings.Contains(body, "store down") {
		t.Errorf("readyz body %q does not name the failure", body)
	}
	if status, _ := get(t, server.URL+"/healthz"); status != http.StatusOK {
		t.Errorf("healthz = %d, want 200 even when not ready", status)
	}
}

func TestHTTPMetricsLabelByRoutePattern(t *testing.T) {
	server, metrics := newTestServer(t, NewHealth())
	get(t, server.URL+"/items/1")
	get(t, server.URL+"/items/2")
	get(t, server.URL+"/no-such-path")

	if got := testutil.ToFloat64(metrics.requests.WithLabelValues("GET /items/{id}", "GET", "418")); got != 2 {
		t.Errorf("requests for GET /items/{id} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(metrics.requests.WithLabelValues("unmatched", "GET", "404")); got != 1 {
		t.Errorf("unmatched requests = %v, want 1", got)
	}
	_, body := get(t, server.URL+"/metrics")
	if strings.Contains(body, "/items/1") {
		t.Errorf("metrics contain a raw path, want route patterns only")
	}
}
