package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peroxo/peroxo/platform/logging"
)

type sample struct {
	Log     logging.Settings
	Addr    string        `env:"PEROXO_SAMPLE_ADDR" envDefault:"127.0.0.1:1"`
	Port    int           `env:"PEROXO_SAMPLE_PORT" envDefault:"80"`
	Timeout time.Duration `env:"PEROXO_SAMPLE_TIMEOUT" envDefault:"1s"`
}

func TestLoadAppliesDefaults(t *testing.T) {
	var cfg sample
	if err := LoadFrom(&cfg, map[string]string{}); err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if cfg.Addr != "127.0.0.1:1" {
		t.Errorf("Addr = %q, want the default", cfg.Addr)
	}
	if cfg.Log.Level != "info" {
		t.Errorf("Log.Level = %q, want info", cfg.Log.Level)
	}
}

func TestLoadNamesInvalidSetting(t *testing.T) {
	tests := []struct {
		name, variable, value, reason string
	}{
		{"port", "PEROXO_SAMPLE_PORT", "abc", "not a valid int"},
		{"duration", "PEROXO_SAMPLE_TIMEOUT", "soon", "not a valid duration"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var cfg sample
			err := LoadFrom(&cfg, map[string]string{test.variable: test.value})
			var settingErr *SettingError
			if !errors.As(err, &settingErr) {
				t.Fatalf("LoadFrom error = %v, want a *SettingError", err)
			}
			if settingErr.Name != test.variable {
				t.Errorf("Name = %q, want %q", settingErr.Name, test.variable)
			}
			if settingErr.Value != test.value {
				t.Errorf("Value = %q, want %q", settingErr.Value, test.value)
			}
			if !strings.Contains(settingErr.Reason, test.reason) {
				t.Errorf("Reason = %q, want it to contain %q", settingErr.Reason, test.reason)
			}
		})
	}
}

func TestCheckAddr(t *testing.T) {
	for _, valid := range []string{"127.0.0.1:8080", ":0", "[::1]:65535", "0.0.0.0:1"} {
		if err := CheckAddr("X", valid); err != nil {
			t.Errorf("CheckAddr(%q) = %v, want nil", valid, err)
		}
	}
	for _, invalid := range []string{"127.0.0.1:abc", "8080", "host:70000", "host:-1", ""} {
		err := CheckAddr("PEROXO_X_ADDR", invalid)
		if err == nil {
			t.Errorf("CheckAddr(%q) = nil, want an error", invalid)
			continue
		}
		if !strings.Contains(err.Error(), "PEROXO_X_ADDR") {
			t.Errorf("CheckAddr(%q) error %q does not name the setting", invalid, err)
		}
	}
}

func TestEnsureDir(t *testing.T) {
	created := filepath.Join(t.TempDir(), "a", "b")
	if err := EnsureDir("PEROXO_X_DATA_DIR", created); err != nil {
		t.Fatalf("EnsureDir(%q) = %v", created, err)
	}
	if info, err := os.Stat(created); err != nil || !info.IsDir() {
		t.Errorf("EnsureDir did not create %q", created)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", filepath.Join(file, "below-a-file")} {
		err := EnsureDir("PEROXO_X_DATA_DIR", bad)
		if err == nil {
			t.Errorf("EnsureDir(%q) = nil, want an error", bad)
			continue
		}
		if !strings.Contains(err.Error(), "PEROXO_X_DATA_DIR") {
			t.Errorf("EnsureDir(%q) error %q does not name the setting", bad, err)
		}
	}
}

func TestUnknownSettingsListsMisspelledNames(t *testing.T) {
	type nested struct {
		Inner sample
		Extra string `env:"PEROXO_SAMPLE_EXTRA"`
	}
	environment := map[string]string{
		"PEROXO_SAMPLE_ADDR":    "127.0.0.1:2",
		"PEROXO_SAMPLE_EXTRA":   "x",
		"PEROXO_SAMPLE_TIMOUT":  "5s",
		"PEROXO_SAMPLE_PORTS":   "secret-looking value",
		"PEROXO_OTHER_SETTING":  "ignored, another prefix",
		"PEROXO_SAMPLE_TIMEOUT": "2s",
	}
	unknown, err := UnknownSettings(&nested{}, "PEROXO_SAMPLE_", environment)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(unknown, ","); got != "PEROXO_SAMPLE_PORTS,PEROXO_SAMPLE_TIMOUT" {
		t.Errorf("unknown settings = %s, want PEROXO_SAMPLE_PORTS,PEROXO_SAMPLE_TIMOUT", got)
	}
}
