package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// DashboardDir is the folder of the Grafana dashboard JSON files.
const DashboardDir = "deploy/grafana/dashboards"

// Dashboard is the part of a Grafana dashboard JSON model that the checks
// read.
type Dashboard struct {
	// File is the base name of the JSON file.
	File   string  `json:"-"`
	UID    string  `json:"uid"`
	Title  string  `json:"title"`
	Panels []Panel `json:"panels"`
}

// Panel is one dashboard panel. Row panels hold their panels in Panels.
type Panel struct {
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *Datasource `json:"datasource"`
	Targets    []Target    `json:"targets"`
	Panels     []Panel     `json:"panels"`
}

// Target is one query of a panel.
type Target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Datasource *Datasource `json:"datasource"`
}

// Datasource is a reference to a Grafana data source by type and uid.
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// ReadDashboards decodes every .json file of dir. Unknown fields are
// allowed, because a dashboard model has many that the checks ignore.
func ReadDashboards(dir string) ([]Dashboard, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list dashboards: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("list dashboards: no .json file in %s", dir)
	}
	dashboards := make([]Dashboard, 0, len(paths))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read dashboard: %w", err)
		}
		var dashboard Dashboard
		if err := json.Unmarshal(data, &dashboard); err != nil {
			return nil, fmt.Errorf("decode dashboard %s: %w", filepath.Base(path), err)
		}
		dashboard.File = filepath.Base(path)
		dashboards = append(dashboards, dashboard)
	}
	return dashboards, nil
}

// AllPanels returns the dashboard's panels, those inside rows included.
func (d Dashboard) AllPanels() []Panel {
	var panels []Panel
	var walk func([]Panel)
	walk = func(list []Panel) {
		for _, panel := range list {
			panels = append(panels, panel)
			walk(panel.Panels)
		}
	}
	walk(d.Panels)
	return panels
}

// Selector is one metric selector of a PromQL query.
type Selector struct {
	// Metric is the metric name as queried, e.g. a histogram's _bucket series.
	Metric string
	// Job is the value of the job="..." matcher, empty when there is none.
	Job string
}

// QuerySelectors parses a PromQL expression and returns its metric
// selectors. Every selector must name its metric.
func QuerySelectors(expr string) ([]Selector, error) {
	parsed, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parse query %q: %w", expr, err)
	}
	var selectors []Selector
	for _, matchers := range parser.ExtractSelectors(parsed) {
		var selector Selector
		for _, matcher := range matchers {
			switch {
			case matcher.Name == model.MetricNameLabel && matcher.Type == labels.MatchEqual:
				selector.Metric = matcher.Value
			case matcher.Name == "job" && matcher.Type == labels.MatchEqual:
				selector.Job = matcher.Value
			}
		}
		if selector.Metric == "" {
			return nil, fmt.Errorf("query %q has a selector without a metric name", expr)
		}
		selectors = append(selectors, selector)
	}
	return selectors, nil
}

// histogramSuffixes are the series a histogram or summary family exposes
// besides its name.
var histogramSuffixes = []string{"_bucket", "_sum", "_count"}

// SeriesDefined reports whether a queried series name belongs to a metric
// family in families. A histogram family "x" is exposed as the series
// x_bucket, x_sum and x_count, so those count as defined by "x".
func SeriesDefined(series string, families map[string]bool) bool {
	if families[series] {
		return true
	}
	for _, suffix := range histogramSuffixes {
		base, ok := strings.CutSuffix(series, suffix)
		if ok && families[base] {
			return true
		}
	}
	return false
}
