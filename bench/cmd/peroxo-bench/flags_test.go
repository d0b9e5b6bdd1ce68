package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestParseFlagsAcceptsValidRuns(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		check func(t *testing.T, cfg config)
	}{
		{
			name: "dm with existing project",
			args: []string{"-scenario", "dm", "-project", "peroxo_pj_x", "-secret-api-key", "k", "-pairs", "5"},
			check: func(t *testing.T, cfg config) {
				if cfg.options.Pairs != 5 {
					t.Errorf("Pairs = %d, want 5", cfg.options.Pairs)
				}
			},
		},
		{
			name: "fanout with admin token and json",
			args: []string{"--scenario=fanout", "--admin-token=t", "--members=5", "--json", "--duration=1s"},
			check: func(t *testing.T, cfg config) {
				if !cfg.json {
					t.Error("json = false, want true")
				}
				if cfg.options.Duration != time.Second {
					t.Errorf("Duration = %s, want 1s", cfg.options.Duration)
				}
			},
		},
		{
			name: "idle with authsvc binary and ws URL",
			args: []string{"-scenario", "idle", "-authsvc-bin", "/bin/authsvc", "-gateway", "ws://[::1]:18080/ws"},
			check: func(t *testing.T, cfg config) {
				if cfg.options.AuthsvcPath != "/bin/authsvc" {
					t.Errorf("AuthsvcPath = %q", cfg.options.AuthsvcPath)
				}
			},
		},
		{
			name: "remote target allowed explicitly",
			args: []string{"-scenario", "churn", "-admin-token", "t", "-gateway", "http://gw.example:8080", "-allow-remote"},
			check: func(t *testing.T, cfg config) {
				if !cfg.options.AllowRemote {
					t.Error("AllowRemote = false, want true")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(tc.args, noEnv, io.Discard)
			if err != nil {
				t.Fatalf("parseFlags: %v", err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestParseFlagsRejectsInvalidRuns(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scenario", []string{"-scenario", "flood", "-admin-token", "t"}, "-scenario"},
		{"no tenant source", []string{"-scenario", "dm"}, "exactly one of"},
		{"two tenant sources", []string{"-admin-token", "t", "-authsvc-bin", "/x"}, "exactly one of"},
		{"project without key", []string{"-project", "p"}, "go together"},
		{"zero rate", []string{"-admin-token", "t", "-rate", "0"}, "-rate"},
		{"zero pairs", []string{"-admin-token", "t", "-pairs", "0"}, "-pairs"},
		{"zero members", []string{"-scenario", "fanout", "-admin-token", "t", "-members", "0"}, "-members"},
		{"zero idle conns", []string{"-scenario", "idle", "-admin-token", "t", "-conns", "0"}, "-conns"},
		{"zero churn rate", []string{"-scenario", "churn", "-admin-token", "t", "-churn-rate", "0"}, "-churn-rate"},
		{"unbounded duration", []string{"-admin-token", "t", "-duration", "2h"}, "-duration"},
		{"negative drain", []string{"-admin-token", "t", "-drain", "-1s"}, "-drain"},
		{"zero message cap", []string{"-admin-token", "t", "-max-messages", "0"}, "-max-messages"},
		{"oversized content", []string{"-admin-token", "t", "-size", "1000000"}, "-size"},
		{"negative connect rate", []string{"-admin-token", "t", "-connect-rate", "-1"}, "-connect-rate"},
		{"zero tenants", []string{"-admin-token", "t", "-tenants", "0"}, "-tenants"},
		{"tenants with project", []string{"-project", "p", "-secret-api-key", "k", "-tenants", "2"}, "-tenants"},
		{"tenants with fanout", []string{"-scenario", "fanout", "-admin-token", "t", "-tenants", "2"}, "-tenants"},
		{"too many source addrs", []string{"-admin-token", "t", "-source-addrs", "300"}, "-source-addrs"},
		{"remote gateway", []string{"-admin-token", "t", "-gateway", "http://10.1.2.3:8080"}, "loopback"},
		{"remote auth", []string{"-admin-token", "t", "-auth", "http://example.com"}, "loopback"},
		{"bad scheme", []string{"-admin-token", "t", "-gateway", "ftp://127.0.0.1"}, "expected an http"},
		{"stray argument", []string{"-admin-token", "t", "dm"}, "unexpected argument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFlags(tc.args, noEnv, io.Discard)
			if err == nil {
				t.Fatal("parseFlags returned no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseFlags error = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestParseFlagsReadsSecretsFromEnvironment(t *testing.T) {
	env := map[string]string{
		envAdminToken:   "admin-from-env",
		envSecretAPIKey: "key-from-env",
	}
	getenv := func(name string) string { return env[name] }

	cfg, err := parseFlags([]string{"-scenario", "dm"}, getenv, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags without tenant flags: %v", err)
	}
	if cfg.options.AdminToken != "admin-from-env" {
		t.Errorf("AdminToken = %q, want the environment's", cfg.options.AdminToken)
	}

	cfg, err = parseFlags([]string{"-project", "peroxo_pj_x"}, getenv, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags with -project: %v", err)
	}
	if cfg.options.SecretAPIKey != "key-from-env" {
		t.Errorf("SecretAPIKey = %q, want the environment's", cfg.options.SecretAPIKey)
	}
	if cfg.options.AdminToken != "" {
		t.Errorf("AdminToken = %q, want empty when -project is given", cfg.options.AdminToken)
	}
}

func TestParseFlagsHelpHidesSecrets(t *testing.T) {
	getenv := func(string) string { return "s3cr3t" }
	var help strings.Builder
	_, err := parseFlags([]string{"-help"}, getenv, &help)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseFlags(-help) error = %v, want flag.ErrHelp", err)
	}
	if strings.Contains(help.String(), "s3cr3t") {
		t.Error("help text shows a secret from the environment")
	}
	if !strings.Contains(help.String(), "-scenario") {
		t.Error("help text does not list -scenario")
	}
}
