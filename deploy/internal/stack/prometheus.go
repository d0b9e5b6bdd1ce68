package stack

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
)

// PrometheusFile is the Prometheus configuration the compose stack mounts.
const PrometheusFile = "deploy/prometheus.yml"

// LoadPrometheus parses and validates the Prometheus configuration with
// Prometheus's own loader, the one `promtool check config` uses.
func LoadPrometheus(root string, logger *slog.Logger) (*config.Config, error) {
	cfg, err := config.LoadFile(filepath.Join(root, PrometheusFile), false, logger)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", PrometheusFile, err)
	}
	return cfg, nil
}

// ScrapeTargets returns the targets of each scrape job, by job name.
func ScrapeTargets(cfg *config.Config) map[string][]string {
	targets := make(map[string][]string)
	for _, scrape := range cfg.ScrapeConfigs {
		for _, provider := range scrape.ServiceDiscoveryConfigs {
			static, ok := provider.(discovery.StaticConfig)
			if !ok {
				continue
			}
			for _, group := range static {
				for _, target := range group.Targets {
					targets[scrape.JobName] = append(targets[scrape.JobName],
						string(target["__address__"]))
				}
			}
		}
	}
	return targets
}
