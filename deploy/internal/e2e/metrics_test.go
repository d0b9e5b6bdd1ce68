package e2e

import (
	"fmt"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeSeries fetches a service's /metrics and returns the names of the
// series it exposes: a histogram x contributes x_bucket, x_sum and x_count.
func scrapeSeries(t *testing.T, serviceURL string) map[string]bool {
	t.Helper()
	families := scrapeFamilies(t, serviceURL)
	series := make(map[string]bool)
	for name, family := range families {
		switch family.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			series[name+"_bucket"] = true
			series[name+"_sum"] = true
			series[name+"_count"] = true
		case dto.MetricType_SUMMARY:
			series[name] = true
			series[name+"_sum"] = true
			series[name+"_count"] = true
		default:
			series[name] = true
		}
	}
	return series
}

func scrapeFamilies(t *testing.T, serviceURL string) map[string]*dto.MetricFamily {
	t.Helper()
	request, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		serviceURL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The text format keeps the parse independent of content negotiation.
	request.Header.Set("Accept", "text/plain; version=0.0.4")
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("scrape %s: %v", serviceURL, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: status %s", serviceURL, response.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(response.Body)
	if err != nil {
		t.Fatalf("scrape %s: parse: %v", serviceURL, err)
	}
	return families
}

func describeMissing(missing map[string][]string) string {
	text := ""
	for job, names := range missing {
		text += fmt.Sprintf("\n  %s: %v", job, names)
	}
	return text
}
