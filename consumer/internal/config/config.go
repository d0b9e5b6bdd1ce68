// Package config holds the consumer settings.
package config

import (
	"net/url"
	"time"

	"github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
)

// Config is every consumer setting. Load fills it from PEROXO_ environment
// variables; Validate checks it before anything starts.
type Config struct {
	Log logging.Settings

	// Addr is the listen address of the service's HTTP endpoints.
	Addr string `env:"PEROXO_CONSUMER_ADDR" envDefault:"127.0.0.1:8083"`
	// DataDir holds the embedded stores' files.
	DataDir string `env:"PEROXO_CONSUMER_DATA_DIR" envDefault:"data/consumer"`
	// ShutdownTimeout bounds how long a stop waits for in-flight work.
	ShutdownTimeout time.Duration `env:"PEROXO_CONSUMER_SHUTDOWN_TIMEOUT" envDefault:"10s"`

	// NATSURL is the NATS system that holds the chat stream.
	NATSURL string `env:"PEROXO_CONSUMER_NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// ChatURL is the base URL of the chat service's Connect API.
	ChatURL string `env:"PEROXO_CONSUMER_CHAT_URL" envDefault:"http://127.0.0.1:8082"`
	// Durable names the JetStream consumer that every consumer process
	// shares.
	Durable string `env:"PEROXO_CONSUMER_DURABLE" envDefault:"chat-projector"`
	// BatchSize is the maximum number of events fetched and written at once.
	BatchSize int `env:"PEROXO_CONSUMER_BATCH_SIZE" envDefault:"200"`
	// BatchWait is the maximum time a fetch waits to fill a batch.
	BatchWait time.Duration `env:"PEROXO_CONSUMER_BATCH_WAIT" envDefault:"500ms"`
	// MaxDeliver is the delivery count at which an event that still cannot
	// be written moves to the dead-letter stream.
	MaxDeliver int `env:"PEROXO_CONSUMER_MAX_DELIVER" envDefault:"10"`
	// AckWait is how long the server waits for an ack before it delivers
	// an event again, to this or another consumer process.
	AckWait time.Duration `env:"PEROXO_CONSUMER_ACK_WAIT" envDefault:"30s"`
	// RetryMin and RetryMax bound the delay before a failed write is
	// retried; the delay doubles with each attempt.
	RetryMin time.Duration `env:"PEROXO_CONSUMER_RETRY_MIN" envDefault:"200ms"`
	RetryMax time.Duration `env:"PEROXO_CONSUMER_RETRY_MAX" envDefault:"30s"`
	// WriteTimeout bounds one AppendMessages call.
	WriteTimeout time.Duration `env:"PEROXO_CONSUMER_WRITE_TIMEOUT" envDefault:"10s"`
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
	if err := config.CheckAddr("PEROXO_CONSUMER_ADDR", c.Addr); err != nil {
		return err
	}
	durations := []struct {
		name  string
		value time.Duration
	}{
		{"PEROXO_CONSUMER_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"PEROXO_CONSUMER_BATCH_WAIT", c.BatchWait},
		{"PEROXO_CONSUMER_ACK_WAIT", c.AckWait},
		{"PEROXO_CONSUMER_RETRY_MIN", c.RetryMin},
		{"PEROXO_CONSUMER_RETRY_MAX", c.RetryMax},
		{"PEROXO_CONSUMER_WRITE_TIMEOUT", c.WriteTimeout},
	}
	for _, setting := range durations {
		if err := config.CheckPositive(setting.name, int64(setting.value)); err != nil {
			return err
		}
	}
	if err := config.CheckPositive("PEROXO_CONSUMER_BATCH_SIZE", c.BatchSize); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_CONSUMER_MAX_DELIVER", c.MaxDeliver); err != nil {
		return err
	}
	if c.RetryMax < c.RetryMin {
		return config.Invalid("PEROXO_CONSUMER_RETRY_MAX", c.RetryMax.String(),
			"must not be less than PEROXO_CONSUMER_RETRY_MIN="+c.RetryMin.String())
	}
	if c.WriteTimeout >= c.AckWait {
		return config.Invalid("PEROXO_CONSUMER_WRITE_TIMEOUT", c.WriteTimeout.String(),
			"must be less than PEROXO_CONSUMER_ACK_WAIT="+c.AckWait.String()+
				", or events are delivered again while their write runs")
	}
	if c.Durable == "" || !validDurable(c.Durable) {
		return config.Invalid("PEROXO_CONSUMER_DURABLE", c.Durable,
			"expected letters, digits, '-' or '_'")
	}
	if parsed, err := url.Parse(c.NATSURL); err != nil || parsed.Host == "" ||
		(parsed.Scheme != "nats" && parsed.Scheme != "tls") {
		return config.Invalid("PEROXO_CONSUMER_NATS_URL", c.NATSURL,
			"expected a nats:// or tls:// URL")
	}
	if parsed, err := url.Parse(c.ChatURL); err != nil || parsed.Host == "" ||
		(parsed.Scheme != "http" && parsed.Scheme != "https") {
		return config.Invalid("PEROXO_CONSUMER_CHAT_URL", c.ChatURL,
			"expected an http:// or https:// URL")
	}
	return config.EnsureDir("PEROXO_CONSUMER_DATA_DIR", c.DataDir)
}

func validDurable(name string) bool {
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return len(name) <= 255
}
