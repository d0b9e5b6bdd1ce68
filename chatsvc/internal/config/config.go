// Package config holds the chatsvc settings.
package config

import (
	"time"

	"github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
)

// Config is every chatsvc setting. Load fills it from PEROXO_ environment
// variables; Validate checks it before anything starts.
type Config struct {
	Log logging.Settings

	// Addr is the listen address of the service's HTTP endpoints.
	Addr string `env:"PEROXO_CHAT_ADDR" envDefault:"127.0.0.1:8082"`
	// DataDir holds the embedded stores' files.
	DataDir string `env:"PEROXO_CHAT_DATA_DIR" envDefault:"data/chatsvc"`
	// ShutdownTimeout bounds how long a stop waits for in-flight work.
	ShutdownTimeout time.Duration `env:"PEROXO_CHAT_SHUTDOWN_TIMEOUT" envDefault:"10s"`
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
	if err := config.CheckAddr("PEROXO_CHAT_ADDR", c.Addr); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_CHAT_SHUTDOWN_TIMEOUT", int64(c.ShutdownTimeout)); err != nil {
		return err
	}
	return config.EnsureDir("PEROXO_CHAT_DATA_DIR", c.DataDir)
}
