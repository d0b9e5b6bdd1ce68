package stack

import (
	"os"
	"path/filepath"
	"testing"

	yaml "go.yaml.in/yaml/v2"
)

// provisionedDatasource reads the uid of the data source that Grafana
// provisioning creates.
func provisionedDatasource(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root,
		"deploy/grafana/provisioning/datasources/prometheus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var provisioning struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(data, &provisioning); err != nil {
		t.Fatalf("decode data source provisioning: %v", err)
	}
	if len(provisioning.Datasources) != 1 {
		t.Fatalf("data source provisioning has %d entries, want 1", len(provisioning.Datasources))
	}
	source := provisioning.Datasources[0]
	if source.Type != "prometheus" || source.URL != "http://prometheus:9090" {
		t.Errorf("data source is %s at %s, want prometheus at http://prometheus:9090",
			source.Type, source.URL)
	}
	return source.UID
}

func TestDashboardProvisioning(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root,
		"deploy/grafana/provisioning/dashboards/peroxo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var provisioning struct {
		Providers []struct {
			Type    string            `yaml:"type"`
			Options map[string]string `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(data, &provisioning); err != nil {
		t.Fatalf("decode dashboard provisioning: %v", err)
	}
	if len(provisioning.Providers) != 1 {
		t.Fatalf("dashboard provisioning has %d providers, want 1", len(provisioning.Providers))
	}
	// docker-compose.yaml mounts deploy/grafana/dashboards on this path.
	if path := provisioning.Providers[0].Options["path"]; path != "/etc/grafana/dashboards" {
		t.Errorf("dashboard provider reads %q, want /etc/grafana/dashboards", path)
	}
	project := loadProject(t)
	mounted := false
	for _, volume := range project.Services["grafana"].Volumes {
		if volume.Target == "/etc/grafana/dashboards" &&
			volume.Source == filepath.Join(root, DashboardDir) {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("grafana does not mount %s on /etc/grafana/dashboards", DashboardDir)
	}
}

func TestDashboardsQueryKnownMetrics(t *testing.T) {
	root := repoRoot(t)
	datasource := provisionedDatasource(t, root)
	dashboards, err := ReadDashboards(filepath.Join(root, DashboardDir))
	if err != nil {
		t.Fatal(err)
	}
	defined := make(map[string]map[string]bool)
	for name, service := range Services {
		names, err := SourceMetricNames(root, service.Module, "platform")
		if err != nil {
			t.Fatal(err)
		}
		defined[name] = names
	}
	uids := make(map[string]string)
	for _, dashboard := range dashboards {
		if dashboard.UID == "" || dashboard.Title == "" {
			t.Errorf("%s has no uid or title", dashboard.File)
		}
		if other, ok := uids[dashboard.UID]; ok {
			t.Errorf("%s and %s share the uid %q", dashboard.File, other, dashboard.UID)
		}
		uids[dashboard.UID] = dashboard.File
		for _, panel := range dashboard.AllPanels() {
			if panel.Type == "row" {
				continue
			}
			where := dashboard.File + ": panel " + panel.Title
			if len(panel.Targets) == 0 {
				t.Errorf("%s has no query", where)
			}
			if panel.Datasource == nil || panel.Datasource.UID != datasource {
				t.Errorf("%s does not use data source %s", where, datasource)
			}
			for _, target := range panel.Targets {
				checkTarget(t, where, target, datasource, defined)
			}
		}
	}
}

func checkTarget(
	t *testing.T,
	where string,
	target Target,
	datasource string,
	defined map[string]map[string]bool,
) {
	t.Helper()
	if target.Datasource == nil || target.Datasource.UID != datasource {
		t.Errorf("%s query %s does not use data source %s", where, target.RefID, datasource)
	}
	selectors, err := QuerySelectors(target.Expr)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if len(selectors) == 0 {
		t.Errorf("%s query %q selects no metric", where, target.Expr)
	}
	for _, selector := range selectors {
		names, ok := defined[selector.Job]
		if !ok {
			t.Errorf("%s query %q selects job %q, want one of the services",
				where, target.Expr, selector.Job)
			continue
		}
		if !SeriesDefined(selector.Metric, names) {
			t.Errorf("%s queries %s, which %s does not define",
				where, selector.Metric, selector.Job)
		}
	}
}

func TestQuerySelectors(t *testing.T) {
	tests := []struct {
		expr    string
		want    []Selector
		wantErr bool
	}{
		{
			expr: `histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket{job="a"}[5m])))`,
			want: []Selector{{Metric: "x_seconds_bucket", Job: "a"}},
		},
		{
			expr: `sum(rate(a_total[1m])) / sum(rate(b_total{job="b"}[1m]))`,
			want: []Selector{{Metric: "a_total"}, {Metric: "b_total", Job: "b"}},
		},
		{expr: `{job="a"}`, wantErr: true},
		{expr: `sum(rate(`, wantErr: true},
	}
	for _, test := range tests {
		t.Run(test.expr, func(t *testing.T) {
			got, err := QuerySelectors(test.expr)
			if (err != nil) != test.wantErr {
				t.Fatalf("error = %v, want error %v", err, test.wantErr)
			}
			if len(got) != len(test.want) {
				t.Fatalf("got %v, want %v", got, test.want)
			}
			for i := range got {
				if got[i] != test.want[i] {
					t.Errorf("selector %d = %v, want %v", i, got[i], test.want[i])
				}
			}
		})
	}
}

func TestSeriesDefined(t *testing.T) {
	families := map[string]bool{"x_seconds": true, "y_total": true}
	tests := []struct {
		series string
		want   bool
	}{
		{"x_seconds_bucket", true},
		{"x_seconds_count", true},
		{"x_seconds", true},
		{"y_total", true},
		{"y_total_bucket", true},
		{"y", false},
		{"z_bucket", false},
	}
	for _, test := range tests {
		if got := SeriesDefined(test.series, families); got != test.want {
			t.Errorf("SeriesDefined(%q) = %v, want %v", test.series, got, test.want)
		}
	}
}
