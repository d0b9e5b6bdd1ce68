package config

import (
	"errors"
	"testing"

	platformconfig "github.com/peroxo/peroxo/platform/config"
)

func load(t *testing.T, overrides map[string]string) (Config, error) {
	t.Helper()
	environment := map[string]string{"PEROXO_GATEWAY_DATA_DIR": t.TempDir()}
	for name, value := range overrides {
		environment[name] = value
	}
	var cfg Config
	if err := platformconfig.LoadFrom(&cfg, environment); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func TestDefaultsAreValid(t *testing.T) {
	cfg, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.MaxFrameBytes != 65536 {
		t.Errorf("MaxFrameBytes = %d, want 65536", cfg.Limits.MaxFrameBytes)
	}
	if cfg.Dev.Enabled {
		t.Error("development mode is on by default")
	}
}

func TestInvalidSettingsNameTheVariable(t *testing.T) {
	tests := []struct {
		variable, value string
	}{
		{"PEROXO_GATEWAY_MAX_CONNECTIONS", "0"},
		{"PEROXO_GATEWAY_SESSIONS_PER_USER", "-1"},
		{"PEROXO_GATEWAY_MESSAGES_PER_SECOND", "0"},
		{"PEROXO_GATEWAY_QUEUE_LENGTH", "0"},
		{"PEROXO_GATEWAY_PING_INTERVAL", "0s"},
		{"PEROXO_GATEWAY_PRESENCE_BATCH_INTERVAL", "-1s"},
		{"PEROXO_GATEWAY_WRITE_DELAY", "-1ms"},
		{"PEROXO_GATEWAY_WRITE_DELAY", "10s"},
		{"PEROXO_GATEWAY_PPROF_ADDR", "localhost"},
		{"PEROXO_GATEWAY_MAX_MESSAGE_BYTES", "65536"},
		{"PEROXO_GATEWAY_ALLOWED_ORIGINS", "chat.example.com"},
		{"PEROXO_GATEWAY_ALLOWED_ORIGINS", "https://chat.example.com/path"},
		{"PEROXO_GATEWAY_ALLOWED_ORIGINS", "https://*.example.com"},
		{"PEROXO_GATEWAY_AUTH_ADMIN_TOKEN", ""},
	}
	for _, test := range tests {
		t.Run(test.variable+"="+test.value, func(t *testing.T) {
			overrides := map[string]string{test.variable: test.value}
			if test.variable == "PEROXO_GATEWAY_AUTH_ADMIN_TOKEN" {
				overrides["PEROXO_GATEWAY_DEV_MODE"] = "true"
			}
			_, err := load(t, overrides)
			var settingErr *platformconfig.SettingError
			if !errors.As(err, &settingErr) {
				t.Fatalf("err = %v, want a SettingError", err)
			}
			if settingErr.Name != test.variable {
				t.Errorf("error names %s, want %s", settingErr.Name, test.variable)
			}
		})
	}
}
