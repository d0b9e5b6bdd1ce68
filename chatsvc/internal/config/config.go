// Package config holds the chatsvc settings.
package config

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
)

// Store kinds accepted by PEROXO_CHAT_STORE.
const (
	StoreAuto     = "auto"
	StoreEmbedded = "embedded"
	StoreCQL      = "cql"
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

	// Store selects the history store: embedded, cql, or auto, which is
	// cql when CQLHosts is set and embedded otherwise.
	Store string `env:"PEROXO_CHAT_STORE" envDefault:"auto"`
	// CQLHosts are the ScyllaDB or Cassandra contact points, host:port.
	CQLHosts []string `env:"PEROXO_CHAT_CQL_HOSTS" envSeparator:","`
	// CQLKeyspace is created with CQLReplication when missing.
	CQLKeyspace string `env:"PEROXO_CHAT_CQL_KEYSPACE" envDefault:"peroxo"`
	// CQLReplication is the CQL replication map of a new keyspace.
	CQLReplication string `env:"PEROXO_CHAT_CQL_REPLICATION" envDefault:"{'class':'SimpleStrategy','replication_factor':1}"`
	// CQLConsistency is the consistency level of every read and write.
	CQLConsistency string `env:"PEROXO_CHAT_CQL_CONSISTENCY" envDefault:"LOCAL_QUORUM"`
	// CQLTimeout bounds one CQL query on the client side.
	CQLTimeout time.Duration `env:"PEROXO_CHAT_CQL_TIMEOUT" envDefault:"5s"`
	// CQLConnectTimeout bounds dialing and connection setup.
	CQLConnectTimeout time.Duration `env:"PEROXO_CHAT_CQL_CONNECT_TIMEOUT" envDefault:"10s"`
	// CQLBucket is the time span of one messages partition. It is fixed
	// when the keyspace is created.
	CQLBucket time.Duration `env:"PEROXO_CHAT_CQL_BUCKET" envDefault:"24h"`
	// CQLWriteConcurrency bounds the CQL queries one append runs at once.
	CQLWriteConcurrency int `env:"PEROXO_CHAT_CQL_WRITE_CONCURRENCY" envDefault:"32"`

	// MaxContentBytes is the largest message content accepted, in bytes.
	MaxContentBytes int `env:"PEROXO_CHAT_MAX_CONTENT_BYTES" envDefault:"16384"`
	// MaxBatch is the largest number of messages one AppendMessages takes.
	MaxBatch int `env:"PEROXO_CHAT_MAX_BATCH" envDefault:"500"`
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

// StoreKind returns the store that Store selects: [StoreEmbedded] or
// [StoreCQL].
func (c *Config) StoreKind() string {
	if c.Store == StoreAuto {
		if len(c.CQLHosts) > 0 {
			return StoreCQL
		}
		return StoreEmbedded
	}
	return c.Store
}

var (
	keyspacePattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`)
	consistencyLevels = []string{"ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL",
		"LOCAL_QUORUM", "EACH_QUORUM", "LOCAL_ONE"}
)

// Validate reports the first invalid setting by its variable name.
func (c *Config) Validate() error {
	if err := config.CheckAddr("PEROXO_CHAT_ADDR", c.Addr); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_CHAT_SHUTDOWN_TIMEOUT",
		int64(c.ShutdownTimeout)); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_CHAT_MAX_CONTENT_BYTES", c.MaxContentBytes); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_CHAT_MAX_BATCH", c.MaxBatch); err != nil {
		return err
	}
	switch c.Store {
	case StoreAuto, StoreEmbedded:
	case StoreCQL:
		if len(c.CQLHosts) == 0 {
			return config.Invalid("PEROXO_CHAT_CQL_HOSTS", "",
				"must list at least one host:port when PEROXO_CHAT_STORE=cql")
		}
	default:
		return config.Invalid("PEROXO_CHAT_STORE", c.Store, "expected auto, embedded or cql")
	}
	if c.StoreKind() == StoreCQL {
		if err := c.validateCQL(); err != nil {
			return err
		}
	}
	return config.EnsureDir("PEROXO_CHAT_DATA_DIR", c.DataDir)
}

func (c *Config) validateCQL() error {
	for _, host := range c.CQLHosts {
		if err := config.CheckAddr("PEROXO_CHAT_CQL_HOSTS", host); err != nil {
			return err
		}
	}
	if !keyspacePattern.MatchString(c.CQLKeyspace) {
		return config.Invalid("PEROXO_CHAT_CQL_KEYSPACE", c.CQLKeyspace,
			"expected a letter then up to 47 letters, digits or underscores")
	}
	replication := strings.TrimSpace(c.CQLReplication)
	if !strings.HasPrefix(replication, "{") || !strings.HasSuffix(replication, "}") ||
		strings.Contains(replication, ";") {
		return config.Invalid("PEROXO_CHAT_CQL_REPLICATION", c.CQLReplication,
			"expected a CQL map such as {'class':'NetworkTopologyStrategy','dc1':3}")
	}
	consistency := strings.ToUpper(c.CQLConsistency)
	if !slices.Contains(consistencyLevels, consistency) {
		return config.Invalid("PEROXO_CHAT_CQL_CONSISTENCY", c.CQLConsistency,
			"expected one of "+strings.Join(consistencyLevels, ", "))
	}
	c.CQLConsistency = consistency
	checks := []struct {
		name  string
		value time.Duration
	}{
		{"PEROXO_CHAT_CQL_TIMEOUT", c.CQLTimeout},
		{"PEROXO_CHAT_CQL_CONNECT_TIMEOUT", c.CQLConnectTimeout},
	}
	for _, check := range checks {
		if err := config.CheckPositive(check.name, int64(check.value)); err != nil {
			return err
		}
	}
	if c.CQLBucket < time.Millisecond || c.CQLBucket%time.Millisecond != 0 {
		return config.Invalid("PEROXO_CHAT_CQL_BUCKET", c.CQLBucket.String(),
			"expected a whole number of milliseconds, at least 1ms, e.g. 24h")
	}
	return config.CheckPositive("PEROXO_CHAT_CQL_WRITE_CONCURRENCY", c.CQLWriteConcurrency)
}
