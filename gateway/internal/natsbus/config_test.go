package natsbus_test

import (
	"errors"
	"testing"

	"github.com/peroxo/peroxo/gateway/internal/config"
	"github.com/peroxo/peroxo/gateway/internal/natsbus"
	platformconfig "github.com/peroxo/peroxo/platform/config"
)

func TestOptionsFromDefaultConfig(t *testing.T) {
	var cfg config.Config
	env := map[string]string{"PEROXO_GATEWAY_DATA_DIR": t.TempDir()}
	if err := platformconfig.LoadFrom(&cfg, env); err != nil {
		t.Fatalf("load settings: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("validate default settings: %v", err)
	}
	options := natsbus.OptionsFromConfig(cfg)
	if err := options.Validate(); err != nil {
		t.Errorf("default settings give invalid bus options: %v", err)
	}
	if options.NodeID == "" {
		t.Error("default node id is empty")
	}
	if options.PublishMaxPending != natsbus.DefaultPublishMaxPending {
		t.Errorf("publish max pending = %d, want %d", options.PublishMaxPending,
			natsbus.DefaultPublishMaxPending)
	}
	if options.LiveEventQueueLength != natsbus.DefaultLiveEventQueueLength {
		t.Errorf("live event queue length = %d, want %d", options.LiveEventQueueLength,
			natsbus.DefaultLiveEventQueueLength)
	}
	if options.Stream.DuplicateWindow.Minutes() != 2 {
		t.Errorf("duplicate window = %s, want 2m", options.Stream.DuplicateWindow)
	}
	embedded := natsbus.EmbeddedOptionsFromConfig(cfg)
	if embedded.ServerName != options.NodeID {
		t.Errorf("server name = %q, want the node id %q", embedded.ServerName, options.NodeID)
	}
}

func TestConfigRejectsInvalidNATSSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ttl not above interval", map[string]string{"PEROXO_GATEWAY_PRESENCE_TTL": "5s"},
			"PEROXO_GATEWAY_PRESENCE_TTL"},
		{"six replicas", map[string]string{"PEROXO_GATEWAY_STREAM_REPLICAS": "6"},
			"PEROXO_GATEWAY_STREAM_REPLICAS"},
		{"zero attempts", map[string]string{"PEROXO_GATEWAY_PUBLISH_ATTEMPTS": "0"},
			"PEROXO_GATEWAY_PUBLISH_ATTEMPTS"},
		{"zero max pending", map[string]string{"PEROXO_GATEWAY_PUBLISH_MAX_PENDING": "0"},
			"PEROXO_GATEWAY_PUBLISH_MAX_PENDING"},
		{"zero live event queue", map[string]string{
			"PEROXO_GATEWAY_LIVE_EVENT_QUEUE_LENGTH": "0",
		}, "PEROXO_GATEWAY_LIVE_EVENT_QUEUE_LENGTH"},
		{"route without scheme", map[string]string{
			"PEROXO_GATEWAY_NATS_CLUSTER_NAME": "peroxo",
			"PEROXO_GATEWAY_NATS_ROUTES":       "127.0.0.1:6222",
		}, "PEROXO_GATEWAY_NATS_ROUTES"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			env := map[string]string{"PEROXO_GATEWAY_DATA_DIR": t.TempDir()}
			for name, value := range test.env {
				env[name] = value
			}
			var cfg config.Config
			if err := platformconfig.LoadFrom(&cfg, env); err != nil {
				t.Fatalf("load settings: %v", err)
			}
			err := cfg.Validate()
			var settingErr *platformconfig.SettingError
			if !errors.As(err, &settingErr) || settingErr.Name != test.want {
				t.Errorf("Validate error = %v, want one naming %s", err, test.want)
			}
		})
	}
}
