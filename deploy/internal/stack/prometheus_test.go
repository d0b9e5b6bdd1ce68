package stack

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
)

func TestPrometheusScrapesServices(t *testing.T) {
	cfg, err := LoadPrometheus(repoRoot(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	targets := ScrapeTargets(cfg)
	for name, service := range Services {
		want := fmt.Sprintf("%s:%d", name, service.Port)
		if !slices.Contains(targets[name], want) {
			t.Errorf("scrape job %s has targets %v, want %s", name, targets[name], want)
		}
	}
	for _, scrape := range cfg.ScrapeConfigs {
		if _, ok := Services[scrape.JobName]; ok && scrape.MetricsPath != "/metrics" {
			t.Errorf("scrape job %s reads %s, want /metrics", scrape.JobName, scrape.MetricsPath)
		}
	}
}

func TestPrometheusTargetsAreComposeServices(t *testing.T) {
	cfg, err := LoadPrometheus(repoRoot(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	project := loadProject(t)
	for job, addresses := range ScrapeTargets(cfg) {
		for _, address := range addresses {
			host, _, err := splitTarget(address)
			if err != nil {
				t.Errorf("scrape job %s: %v", job, err)
				continue
			}
			if _, ok := project.Services[host]; !ok && host != "127.0.0.1" {
				t.Errorf("scrape job %s targets %s, which is no compose service", job, address)
			}
		}
	}
}
