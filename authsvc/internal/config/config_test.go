package config

import (
	"errors"
	"testing"

	"github.com/peroxo/peroxo/platform/config"
)

func TestLoadDefaults(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{"PEROXO_AUTH_DATA_DIR": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TenantStore != BackendEmbedded || cfg.TokenStore != BackendEmbedded {
		t.Errorf("stores = %s/%s, want embedded", cfg.TenantStore, cfg.TokenStore)
	}
	if cfg.TokenTTL.Seconds() != 600 {
		t.Errorf("TokenTTL = %s, want 600s", cfg.TokenTTL)
	}
	if cfg.TenantRateLimit != 3 || cfg.TenantRateWindow.Hours() != 1 {
		t.Errorf("rate limit = %d per %s, want 3 per 1h", cfg.TenantRateLimit, cfg.TenantRateWindow)
	}
	if cfg.GoogleClientID != "" || cfg.AdminToken != "" {
		t.Error("sign-in methods are enabled by default")
	}
}

func TestLoadRejectsInvalidSettings(t *testing.T) {
	tests := []struct {
		name     string
		variable string
		value    string
	}{
		{"unknown tenant store", "PEROXO_AUTH_TENANT_STORE", "mysql"},
		{"postgres without url", "PEROXO_AUTH_TENANT_STORE", "postgres"},
		{"unknown token store", "PEROXO_AUTH_TOKEN_STORE", "memcached"},
		{"redis without url", "PEROXO_AUTH_TOKEN_STORE", "redis"},
		{"zero ttl", "PEROXO_AUTH_TOKEN_TTL", "0s"},
		{"zero rate limit", "PEROXO_AUTH_TENANT_RATE_LIMIT", "0"},
		{"short admin token", "PEROXO_AUTH_ADMIN_TOKEN", "short"},
		{"issuer not a url", "PEROXO_AUTH_GOOGLE_ISSUER", "accounts.google.com"},
		{"wildcard origin", "PEROXO_AUTH_CORS_ORIGINS", "https://*.example.com"},
		{"origin with path", "PEROXO_AUTH_CORS_ORIGINS", "https://example.com/app"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := LoadFrom(map[string]string{
				"PEROXO_AUTH_DATA_DIR": t.TempDir(),
				test.variable:          test.value,
			})
			var settingErr *config.SettingError
			if !errors.As(err, &settingErr) {
				t.Fatalf("err = %v, want a SettingError", err)
			}
			wantName := test.variable
			if test.name == "postgres without url" {
				wantName = "PEROXO_AUTH_POSTGRES_URL"
			}
			if test.name == "redis without url" {
				wantName = "PEROXO_AUTH_REDIS_URL"
			}
			if settingErr.Name != wantName {
				t.Errorf("error names %s, want %s", settingErr.Name, wantName)
			}
		})
	}
}

func TestLoadParsesOrigins(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{
		"PEROXO_AUTH_DATA_DIR":     t.TempDir(),
		"PEROXO_AUTH_CORS_ORIGINS": "https://a.example,http://127.0.0.1:3000",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.CORSOrigins) != 2 || cfg.CORSOrigins[1] != "http://127.0.0.1:3000" {
		t.Errorf("CORSOrigins = %q", cfg.CORSOrigins)
	}
}
