package config

import (
	"errors"
	"testing"

	platformconfig "github.com/peroxo/peroxo/platform/config"
)

func TestValidateRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"defaults", nil, ""},
		{"zero batch", map[string]string{"PEROXO_CONSUMER_BATCH_SIZE": "0"},
			"PEROXO_CONSUMER_BATCH_SIZE"},
		{"bad nats url", map[string]string{"PEROXO_CONSUMER_NATS_URL": "http://x:1"},
			"PEROXO_CONSUMER_NATS_URL"},
		{"bad chat url", map[string]string{"PEROXO_CONSUMER_CHAT_URL": "127.0.0.1:8082"},
			"PEROXO_CONSUMER_CHAT_URL"},
		{"durable with dot", map[string]string{"PEROXO_CONSUMER_DURABLE": "a.b"},
			"PEROXO_CONSUMER_DURABLE"},
		{"retry max below min", map[string]string{"PEROXO_CONSUMER_RETRY_MAX": "1ms"},
			"PEROXO_CONSUMER_RETRY_MAX"},
		{"write timeout above ack wait", map[string]string{
			"PEROXO_CONSUMER_WRITE_TIMEOUT": "1m"}, "PEROXO_CONSUMER_WRITE_TIMEOUT"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			env := map[string]string{"PEROXO_CONSUMER_DATA_DIR": t.TempDir()}
			for name, value := range test.env {
				env[name] = value
			}
			var cfg Config
			if err := platformconfig.LoadFrom(&cfg, env); err != nil {
				t.Fatalf("load: %v", err)
			}
			err := cfg.Validate()
			if test.want == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			var settingErr *platformconfig.SettingError
			if !errors.As(err, &settingErr) || settingErr.Name != test.want {
				t.Errorf("Validate error = %v, want one naming %s", err, test.want)
			}
		})
	}
}
