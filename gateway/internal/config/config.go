// Package config holds the gateway's settings.
package config

import (
	"net/url"
	"path/filepath"
	"time"

	"github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
)

// Config is every gateway setting. Load fills it from PEROXO_ environment
// variables; Validate checks it before anything starts.
type Config struct {
	Log logging.Settings

	// Addr is the listen address of the WebSocket, web client, API and
	// operational endpoints.
	Addr string `env:"PEROXO_GATEWAY_ADDR" envDefault:"127.0.0.1:8080"`
	// DataDir holds the embedded NATS server's JetStream files.
	DataDir string `env:"PEROXO_GATEWAY_DATA_DIR" envDefault:"data/gateway"`
	// ShutdownTimeout bounds how long a stop waits for in-flight work.
	ShutdownTimeout time.Duration `env:"PEROXO_GATEWAY_SHUTDOWN_TIMEOUT" envDefault:"10s"`

	// NATSURL points at an external NATS system; empty starts the embedded
	// server.
	NATSURL string `env:"PEROXO_GATEWAY_NATS_URL"`
	// NATSListenAddr is where the embedded NATS server accepts clients.
	NATSListenAddr string `env:"PEROXO_GATEWAY_NATS_LISTEN_ADDR" envDefault:"127.0.0.1:4222"`

	// AuthURL is the base URL of the auth service's Connect API.
	AuthURL string `env:"PEROXO_GATEWAY_AUTH_URL" envDefault:"http://127.0.0.1:8081"`
	// ChatURL is the base URL of the chat service's Connect API.
	ChatURL string `env:"PEROXO_GATEWAY_CHAT_URL" envDefault:"http://127.0.0.1:8082"`
}

// Load reads the settings from the environment and validates them.
func Load() (Config, error) {
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate reports the first invalid setting by its variable name.
func (c *Config) Validate() error {
	if err := config.CheckAddr("PEROXO_GATEWAY_ADDR", c.Addr); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_GATEWAY_SHUTDOWN_TIMEOUT", int64(c.ShutdownTimeout)); err != nil {
		return err
	}
	if c.NATSURL == "" {
		if err := config.CheckAddr("PEROXO_GATEWAY_NATS_LISTEN_ADDR", c.NATSListenAddr); err != nil {
			return err
		}
		if err := config.EnsureDir("PEROXO_GATEWAY_DATA_DIR", c.DataDir); err != nil {
			return err
		}
		c.DataDir, _ = filepath.Abs(c.DataDir)
	}
	for name, value := range map[string]string{
		"PEROXO_GATEWAY_AUTH_URL": c.AuthURL,
		"PEROXO_GATEWAY_CHAT_URL": c.ChatURL,
	} {
		parsed, err := url.Parse(value)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return config.Invalid(name, value, "expected an http:// or https:// URL")
		}
	}
	return nil
}
