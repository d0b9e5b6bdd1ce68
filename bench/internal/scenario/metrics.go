package scenario

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metric names read from the gateway's /metrics: the standard Go and
// process collectors of client_golang.
const (
	metricRSS        = "process_resident_memory_bytes"
	metricHeapInuse  = "go_memstats_heap_inuse_bytes"
	metricGoSys      = "go_memstats_sys_bytes"
	metricGoroutines = "go_goroutines"
	metricWSActive   = "websocket_connections_active"
)

// scrape returns the value of each unlabelled gauge named in names from the
// Prometheus text endpoint at endpoint. A missing metric is absent from the
// map.
func scrape(ctx context.Context, httpClient *http.Client, endpoint string, names ...string) (map[string]float64, error) {
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", endpoint, err)
	}
	response, err := httpClient.Do(request)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", endpoint, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: HTTP %d", endpoint, response.StatusCode)
	}

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(response.Body)
	if err != nil {
		return nil, fmt.Errorf("parse metrics of %s: %w", endpoint, err)
	}

	values := make(map[string]float64, len(names))
	for _, name := range names {
		family, ok := families[name]
		if !ok || len(family.GetMetric()) == 0 {
			continue
		}
		var total float64
		for _, metric := range family.GetMetric() {
			switch {
			case metric.GetGauge() != nil:
				total += metric.GetGauge().GetValue()
			case metric.GetCounter() != nil:
				total += metric.GetCounter().GetValue()
			case metric.GetUntyped() != nil:
				total += metric.GetUntyped().GetValue()
			}
		}
		values[name] = total
	}
	return values, nil
}
