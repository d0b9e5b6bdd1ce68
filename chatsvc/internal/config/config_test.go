package config

import (
	"errors"
	"testing"
	"time"

	"github.com/peroxo/peroxo/platform/config"
)

func TestLoadDefaults(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{"PEROXO_CHAT_DATA_DIR": t.TempDir()})
	if err != nil {
		t.Fatalf("load defaults: %v", err)
	}
	if got := cfg.StoreKind(); got != StoreEmbedded {
		t.Errorf("store kind = %q, expected %q", got, StoreEmbedded)
	}
	if cfg.CQLBucket != 24*time.Hour {
		t.Errorf("bucket = %s, expected 24h", cfg.CQLBucket)
	}
	if cfg.MaxContentBytes != 16384 {
		t.Errorf("max content bytes = %d, expected 16384", cfg.MaxContentBytes)
	}
}

func TestStoreKindFollowsHosts(t *testing.T) {
	cfg, err := LoadFrom(map[string]string{
		"PEROXO_CHAT_DATA_DIR":  t.TempDir(),
		"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042,127.0.0.2:9042",
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if got := cfg.StoreKind(); got != StoreCQL {
		t.Errorf("store kind = %q, expected %q", got, StoreCQL)
	}
	if len(cfg.CQLHosts) != 2 {
		t.Errorf("hosts = %v, expected two", cfg.CQLHosts)
	}
}

func TestInvalidSettings(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		variable string
	}{
		{"unknown store", map[string]string{"PEROXO_CHAT_STORE": "redis"}, "PEROXO_CHAT_STORE"},
		{"cql without hosts", map[string]string{"PEROXO_CHAT_STORE": "cql"},
			"PEROXO_CHAT_CQL_HOSTS"},
		{"host without port", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "localhost"},
			"PEROXO_CHAT_CQL_HOSTS"},
		{"bad keyspace", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042",
			"PEROXO_CHAT_CQL_KEYSPACE": "a-b"}, "PEROXO_CHAT_CQL_KEYSPACE"},
		{"replication not a map", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042",
			"PEROXO_CHAT_CQL_REPLICATION": "3"}, "PEROXO_CHAT_CQL_REPLICATION"},
		{"unknown consistency", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042",
			"PEROXO_CHAT_CQL_CONSISTENCY": "MOST"}, "PEROXO_CHAT_CQL_CONSISTENCY"},
		{"sub-millisecond bucket", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042",
			"PEROXO_CHAT_CQL_BUCKET": "500us"}, "PEROXO_CHAT_CQL_BUCKET"},
		{"zero timeout", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042",
			"PEROXO_CHAT_CQL_TIMEOUT": "0s"}, "PEROXO_CHAT_CQL_TIMEOUT"},
		{"zero write concurrency", map[string]string{"PEROXO_CHAT_CQL_HOSTS": "127.0.0.1:9042",
			"PEROXO_CHAT_CQL_WRITE_CONCURRENCY": "0"}, "PEROXO_CHAT_CQL_WRITE_CONCURRENCY"},
		{"zero content limit", map[string]string{"PEROXO_CHAT_MAX_CONTENT_BYTES": "0"},
			"PEROXO_CHAT_MAX_CONTENT_BYTES"},
		{"negative batch", map[string]string{"PEROXO_CHAT_MAX_BATCH": "-1"},
			"PEROXO_CHAT_MAX_BATCH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.settings["PEROXO_CHAT_DATA_DIR"] = t.TempDir()
			_, err := LoadFrom(c.settings)
			var settingErr *config.SettingError
			if !errors.As(err, &settingErr) {
				t.Fatalf("err = %v, expected a setting error", err)
			}
			if settingErr.Name != c.variable {
				t.Errorf("error names %s, expected %s", settingErr.Name, c.variable)
			}
		})
	}
}
