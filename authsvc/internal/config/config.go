// Package config holds the authsvc settings.
package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
)

// Backend names accepted by PEROXO_AUTH_TENANT_STORE and
// PEROXO_AUTH_TOKEN_STORE.
const (
	BackendEmbedded = "embedded"
	BackendPostgres = "postgres"
	BackendRedis    = "redis"
)

// MinAdminTokenBytes is the shortest accepted PEROXO_AUTH_ADMIN_TOKEN, so a
// guessable word cannot open tenant creation.
const MinAdminTokenBytes = 16

// Config is every authsvc setting. Load fills it from PEROXO_ environment
// variables; Validate checks it before anything starts.
type Config struct {
	Log logging.Settings

	// Addr is the listen address of the service's HTTP endpoints.
	Addr string `env:"PEROXO_AUTH_ADDR" envDefault:"127.0.0.1:8081"`
	// DataDir holds the embedded stores' files.
	DataDir string `env:"PEROXO_AUTH_DATA_DIR" envDefault:"data/authsvc"`
	// ShutdownTimeout bounds how long a stop waits for in-flight work.
	ShutdownTimeout time.Duration `env:"PEROXO_AUTH_SHUTDOWN_TIMEOUT" envDefault:"10s"`

	// TenantStore selects where tenants live: embedded or postgres.
	TenantStore string `env:"PEROXO_AUTH_TENANT_STORE" envDefault:"embedded"`
	// PostgresURL is the pgx connection string used by the postgres
	// tenant store.
	PostgresURL string `env:"PEROXO_AUTH_POSTGRES_URL"`
	// TokenStore selects where user tokens and rate-limit counters live:
	// embedded or redis.
	TokenStore string `env:"PEROXO_AUTH_TOKEN_STORE" envDefault:"embedded"`
	// RedisURL is the go-redis URL used by the redis token store.
	RedisURL string `env:"PEROXO_AUTH_REDIS_URL"`
	// RedisPrefix starts every Redis key this service writes.
	RedisPrefix string `env:"PEROXO_AUTH_REDIS_PREFIX" envDefault:"peroxo:auth:"`

	// TokenTTL is how long an issued user token stays valid.
	TokenTTL time.Duration `env:"PEROXO_AUTH_TOKEN_TTL" envDefault:"600s"`
	// SweepInterval is how often the embedded store deletes expired tokens
	// and rate-limit windows.
	SweepInterval time.Duration `env:"PEROXO_AUTH_SWEEP_INTERVAL" envDefault:"1m"`

	// GoogleIssuer is the expected iss claim of Google ID tokens.
	GoogleIssuer string `env:"PEROXO_AUTH_GOOGLE_ISSUER" envDefault:"https://accounts.google.com"`
	// GoogleJWKSURL is the URL of the issuer's signing keys. They are
	// fetched on the first Google sign-in, never at start.
	GoogleJWKSURL string `env:"PEROXO_AUTH_GOOGLE_JWKS_URL" envDefault:"https://www.googleapis.com/oauth2/v3/certs"`
	// GoogleClientID is the expected aud claim; empty disables Google
	// sign-in.
	GoogleClientID string `env:"PEROXO_AUTH_GOOGLE_CLIENT_ID"`
	// AdminToken lets an operator create tenants; empty disables it.
	AdminToken string `env:"PEROXO_AUTH_ADMIN_TOKEN"`

	// TenantRateLimit is how many tenants one Google subject may create
	// in one TenantRateWindow.
	TenantRateLimit int `env:"PEROXO_AUTH_TENANT_RATE_LIMIT" envDefault:"3"`
	// TenantRateWindow is the length of the fixed rate-limit window.
	TenantRateWindow time.Duration `env:"PEROXO_AUTH_TENANT_RATE_WINDOW" envDefault:"1h"`

	// CORSOrigins lists the exact origins browsers may call the HTTP
	// endpoints from; empty sends no CORS headers.
	CORSOrigins []string `env:"PEROXO_AUTH_CORS_ORIGINS" envSeparator:","`
}

// Load reads the settings from the environment and validates them.
func Load() (Config, error) {
	return LoadFrom(nil)
}

// LoadFrom is [Load] with an explicit environment; nil means the process
// environment.
func LoadFrom(environment map[string]string) (Config, error) {
	var cfg Config
	if err := config.LoadFrom(&cfg, environment); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Validate reports the first invalid setting by its variable name.
func (c *Config) Validate() error {
	if err := config.CheckAddr("PEROXO_AUTH_ADDR", c.Addr); err != nil {
		return err
	}
	durations := []struct {
		name  string
		value time.Duration
	}{
		{"PEROXO_AUTH_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"PEROXO_AUTH_TOKEN_TTL", c.TokenTTL},
		{"PEROXO_AUTH_SWEEP_INTERVAL", c.SweepInterval},
		{"PEROXO_AUTH_TENANT_RATE_WINDOW", c.TenantRateWindow},
	}
	for _, duration := range durations {
		if err := config.CheckPositive(duration.name, int64(duration.value)); err != nil {
			return err
		}
	}
	if c.TokenTTL < time.Millisecond {
		return config.Invalid("PEROXO_AUTH_TOKEN_TTL", c.TokenTTL.String(),
			"must be at least 1ms, the resolution of token expiry")
	}
	if err := config.CheckPositive("PEROXO_AUTH_TENANT_RATE_LIMIT", c.TenantRateLimit); err != nil {
		return err
	}
	if err := c.validateBackends(); err != nil {
		return err
	}
	if err := c.validateSignIn(); err != nil {
		return err
	}
	for _, origin := range c.CORSOrigins {
		if err := checkOrigin(origin); err != nil {
			return err
		}
	}
	if c.TenantStore == BackendEmbedded || c.TokenStore == BackendEmbedded {
		return config.EnsureDir("PEROXO_AUTH_DATA_DIR", c.DataDir)
	}
	return nil
}

func (c *Config) validateBackends() error {
	switch c.TenantStore {
	case BackendEmbedded:
	case BackendPostgres:
		if c.PostgresURL == "" {
			return config.Invalid("PEROXO_AUTH_POSTGRES_URL", "",
				"must be set when PEROXO_AUTH_TENANT_STORE=postgres")
		}
	default:
		return config.Invalid("PEROXO_AUTH_TENANT_STORE", c.TenantStore,
			"expected embedded or postgres")
	}
	switch c.TokenStore {
	case BackendEmbedded:
	case BackendRedis:
		if c.RedisURL == "" {
			return config.Invalid("PEROXO_AUTH_REDIS_URL", "",
				"must be set when PEROXO_AUTH_TOKEN_STORE=redis")
		}
	default:
		return config.Invalid("PEROXO_AUTH_TOKEN_STORE", c.TokenStore,
			"expected embedded or redis")
	}
	return nil
}

func (c *Config) validateSignIn() error {
	if err := checkHTTPURL("PEROXO_AUTH_GOOGLE_ISSUER", c.GoogleIssuer); err != nil {
		return err
	}
	if err := checkHTTPURL("PEROXO_AUTH_GOOGLE_JWKS_URL", c.GoogleJWKSURL); err != nil {
		return err
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminTokenBytes {
		// The value is a secret, so the error leaves it out.
		return config.Invalid("PEROXO_AUTH_ADMIN_TOKEN", "(hidden)",
			"must be empty or at least 16 bytes long")
	}
	return nil
}

func checkHTTPURL(name, value string) error {
	parsed, err := url.Parse(value)
	if err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
		return config.Invalid(name, value, "expected an http or https URL")
	}
	return nil
}

func checkOrigin(origin string) error {
	parsed, err := url.Parse(origin)
	valid := err == nil && (parsed.Scheme == "https" || parsed.Scheme == "http") &&
		parsed.Host != "" && parsed.Path == "" && !strings.Contains(origin, "*")
	if !valid {
		return config.Invalid("PEROXO_AUTH_CORS_ORIGINS", origin,
			"expected exact origins such as https://app.example.com, comma-separated")
	}
	return nil
}
