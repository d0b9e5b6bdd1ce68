// Package config holds the gateway's settings.
package config

import (
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	// PprofAddr, when set, serves Go's runtime profiles (net/http/pprof)
	// on a listener of its own; keep it on loopback.
	PprofAddr string `env:"PEROXO_GATEWAY_PPROF_ADDR"`
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

	// NATS and event log settings, validated by validateNATS.

	// NodeID names this gateway in events, presence and the embedded NATS
	// cluster; empty means the host name plus a random suffix.
	NodeID string `env:"PEROXO_GATEWAY_NODE_ID"`
	// StreamMaxAge drops events older than this from the chat stream; 0
	// keeps them.
	StreamMaxAge time.Duration `env:"PEROXO_GATEWAY_STREAM_MAX_AGE" envDefault:"0"`
	// StreamMaxBytes caps the chat stream's size, dropping the oldest
	// events; 0 means no cap.
	StreamMaxBytes int64 `env:"PEROXO_GATEWAY_STREAM_MAX_BYTES" envDefault:"0"`
	// StreamReplicas is the number of copies of the streams, 1 to 5.
	StreamReplicas int `env:"PEROXO_GATEWAY_STREAM_REPLICAS" envDefault:"1"`
	// StreamDuplicateWindow is how long the stream remembers message ids to
	// drop a republished event.
	StreamDuplicateWindow time.Duration `env:"PEROXO_GATEWAY_STREAM_DUPLICATE_WINDOW" envDefault:"2m"`
	// PublishTimeout bounds one publish attempt including JetStream's ack.
	PublishTimeout time.Duration `env:"PEROXO_GATEWAY_PUBLISH_TIMEOUT" envDefault:"2s"`
	// PublishAttempts is how many attempts a publish makes before the
	// sender gets a failure.
	PublishAttempts int `env:"PEROXO_GATEWAY_PUBLISH_ATTEMPTS" envDefault:"3"`
	// PublishMaxPending is the max events published to the event log and
	// not yet acknowledged. The sender of one more gets a failure at once.
	PublishMaxPending int `env:"PEROXO_GATEWAY_PUBLISH_MAX_PENDING" envDefault:"4096"`
	// LiveEventQueueLength is the max live events from other nodes that
	// NATS received and the gateway has not yet routed; NATS drops more.
	LiveEventQueueLength int `env:"PEROXO_GATEWAY_LIVE_EVENT_QUEUE_LENGTH" envDefault:"8192"`
	// PresenceTTL is how long another node's user counts as online without
	// a heartbeat.
	PresenceTTL time.Duration `env:"PEROXO_GATEWAY_PRESENCE_TTL" envDefault:"15s"`
	// HeartbeatInterval is how often this node announces its online users.
	HeartbeatInterval time.Duration `env:"PEROXO_GATEWAY_HEARTBEAT_INTERVAL" envDefault:"5s"`
	// NATSClusterName joins the embedded NATS server to a cluster of that
	// name; empty runs it alone.
	NATSClusterName string `env:"PEROXO_GATEWAY_NATS_CLUSTER_NAME"`
	// NATSClusterAddr is the listen address for routes from other cluster
	// members.
	NATSClusterAddr string `env:"PEROXO_GATEWAY_NATS_CLUSTER_ADDR" envDefault:"127.0.0.1:6222"`
	// NATSRoutes are the other cluster members' route URLs.
	NATSRoutes []string `env:"PEROXO_GATEWAY_NATS_ROUTES" envSeparator:","`

	Limits Limits
	Dev    Dev
}

// Limits bound what one client, one user and one node may use.
type Limits struct {
	// AllowedOrigins lists the exact Origin values (scheme://host[:port])
	// accepted besides the gateway's own origin.
	AllowedOrigins []string `env:"PEROXO_GATEWAY_ALLOWED_ORIGINS" envSeparator:","`
	MaxConnections int      `env:"PEROXO_GATEWAY_MAX_CONNECTIONS" envDefault:"10000"`
	MaxFrameBytes  int64    `env:"PEROXO_GATEWAY_MAX_FRAME_BYTES" envDefault:"65536"`
	// MaxMessageBytes bounds the content of one chat message.
	MaxMessageBytes    int     `env:"PEROXO_GATEWAY_MAX_MESSAGE_BYTES" envDefault:"8192"`
	MessagesPerSecond  float64 `env:"PEROXO_GATEWAY_MESSAGES_PER_SECOND" envDefault:"20"`
	MessageBurst       int     `env:"PEROXO_GATEWAY_MESSAGE_BURST" envDefault:"40"`
	SessionsPerUser    int     `env:"PEROXO_GATEWAY_SESSIONS_PER_USER" envDefault:"8"`
	RoomsPerSession    int     `env:"PEROXO_GATEWAY_ROOMS_PER_SESSION" envDefault:"64"`
	RoomMembersPerNode int     `env:"PEROXO_GATEWAY_ROOM_MEMBERS_PER_NODE" envDefault:"20000"`
	QueueLength        int     `env:"PEROXO_GATEWAY_QUEUE_LENGTH" envDefault:"256"`
	MaxPendingRequests int     `env:"PEROXO_GATEWAY_MAX_PENDING_REQUESTS" envDefault:"8"`

	PingInterval time.Duration `env:"PEROXO_GATEWAY_PING_INTERVAL" envDefault:"25s"`
	PongTimeout  time.Duration `env:"PEROXO_GATEWAY_PONG_TIMEOUT" envDefault:"10s"`
	IdleTimeout  time.Duration `env:"PEROXO_GATEWAY_IDLE_TIMEOUT" envDefault:"1h"`
	WriteTimeout time.Duration `env:"PEROXO_GATEWAY_WRITE_TIMEOUT" envDefault:"10s"`
	// WriteDelay is how long a session collects frames before it writes
	// them; 0 writes as soon as a frame is queued.
	WriteDelay       time.Duration `env:"PEROXO_GATEWAY_WRITE_DELAY" envDefault:"0s"`
	HandshakeTimeout time.Duration `env:"PEROXO_GATEWAY_HANDSHAKE_TIMEOUT" envDefault:"5s"`
	RequestTimeout   time.Duration `env:"PEROXO_GATEWAY_REQUEST_TIMEOUT" envDefault:"5s"`

	RecentIDs int `env:"PEROXO_GATEWAY_RECENT_IDS" envDefault:"256"`
	// RecentIDBytes bounds the remembered events of one user, content
	// included, so a user who sends large messages cannot pin much memory.
	RecentIDBytes     int           `env:"PEROXO_GATEWAY_RECENT_ID_BYTES" envDefault:"65536"`
	RecentIDTTL       time.Duration `env:"PEROXO_GATEWAY_RECENT_ID_TTL" envDefault:"10m"`
	RouterQueueLength int           `env:"PEROXO_GATEWAY_ROUTER_QUEUE_LENGTH" envDefault:"4096"`
	RoomQueueLength   int           `env:"PEROXO_GATEWAY_ROOM_QUEUE_LENGTH" envDefault:"1024"`
	PresenceFanoutMax int           `env:"PEROXO_GATEWAY_PRESENCE_FANOUT_MAX" envDefault:"1000"`
	// PresenceBatchInterval is how often a node sends the presence changes
	// it coalesced per project; zero sends each change at once.
	PresenceBatchInterval time.Duration `env:"PEROXO_GATEWAY_PRESENCE_BATCH_INTERVAL" envDefault:"250ms"`
}

// Dev configures development mode, which creates a demo project and
// serves POST /dev/token.
type Dev struct {
	Enabled bool `env:"PEROXO_GATEWAY_DEV_MODE" envDefault:"false"`
	// AuthAdminToken is the operator token the auth service accepts for
	// CreateTenant. Required in development mode.
	AuthAdminToken string `env:"PEROXO_GATEWAY_AUTH_ADMIN_TOKEN"`
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
	if c.PprofAddr != "" {
		if err := config.CheckAddr("PEROXO_GATEWAY_PPROF_ADDR", c.PprofAddr); err != nil {
			return err
		}
	}
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
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if c.Dev.Enabled {
		if c.Dev.AuthAdminToken == "" {
			return config.Invalid("PEROXO_GATEWAY_AUTH_ADMIN_TOKEN", "",
				"required when PEROXO_GATEWAY_DEV_MODE is true")
		}
		if err := config.EnsureDir("PEROXO_GATEWAY_DATA_DIR", c.DataDir); err != nil {
			return err
		}
	}
	return c.validateNATS()
}

// validateNATS checks the NATS and event log settings and fills in a
// missing node id.
func (c *Config) validateNATS() error {
	if c.NodeID == "" {
		hostname, err := os.Hostname()
		if err != nil || hostname == "" {
			hostname = "gateway"
		}
		c.NodeID = hostname + "-" + rand.Text()[:8]
	}
	for name, value := range map[string]time.Duration{
		"PEROXO_GATEWAY_STREAM_DUPLICATE_WINDOW": c.StreamDuplicateWindow,
		"PEROXO_GATEWAY_PUBLISH_TIMEOUT":         c.PublishTimeout,
		"PEROXO_GATEWAY_HEARTBEAT_INTERVAL":      c.HeartbeatInterval,
	} {
		if err := config.CheckPositive(name, int64(value)); err != nil {
			return err
		}
	}
	if c.StreamMaxAge < 0 {
		return config.Invalid("PEROXO_GATEWAY_STREAM_MAX_AGE", c.StreamMaxAge.String(),
			"must be 0 (keep events) or positive")
	}
	if c.StreamMaxBytes < 0 {
		return config.Invalid("PEROXO_GATEWAY_STREAM_MAX_BYTES",
			strconv.FormatInt(c.StreamMaxBytes, 10), "must be 0 (no cap) or positive")
	}
	if c.StreamReplicas < 1 || c.StreamReplicas > 5 {
		return config.Invalid("PEROXO_GATEWAY_STREAM_REPLICAS", strconv.Itoa(c.StreamReplicas),
			"must be from 1 to 5, the range JetStream allows")
	}
	if err := config.CheckPositive("PEROXO_GATEWAY_PUBLISH_ATTEMPTS", c.PublishAttempts); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_GATEWAY_PUBLISH_MAX_PENDING",
		c.PublishMaxPending); err != nil {
		return err
	}
	if err := config.CheckPositive("PEROXO_GATEWAY_LIVE_EVENT_QUEUE_LENGTH",
		c.LiveEventQueueLength); err != nil {
		return err
	}
	if c.PresenceTTL <= c.HeartbeatInterval {
		return config.Invalid("PEROXO_GATEWAY_PRESENCE_TTL", c.PresenceTTL.String(),
			"must exceed PEROXO_GATEWAY_HEARTBEAT_INTERVAL="+c.HeartbeatInterval.String()+
				"; three intervals or more tolerate lost heartbeats")
	}
	if c.NATSURL != "" || c.NATSClusterName == "" {
		return nil
	}
	if err := config.CheckAddr("PEROXO_GATEWAY_NATS_CLUSTER_ADDR", c.NATSClusterAddr); err != nil {
		return err
	}
	for _, route := range c.NATSRoutes {
		parsed, err := url.Parse(route)
		if err != nil || parsed.Scheme != "nats-route" || parsed.Host == "" {
			return config.Invalid("PEROXO_GATEWAY_NATS_ROUTES", strings.Join(c.NATSRoutes, ","),
				"expected comma-separated nats-route://host:port URLs")
		}
	}
	return nil
}

// Validate reports the first limit that is not positive or not usable.
func (l *Limits) Validate() error {
	counts := []struct {
		name  string
		value int64
	}{
		{"PEROXO_GATEWAY_MAX_CONNECTIONS", int64(l.MaxConnections)},
		{"PEROXO_GATEWAY_MAX_FRAME_BYTES", l.MaxFrameBytes},
		{"PEROXO_GATEWAY_MAX_MESSAGE_BYTES", int64(l.MaxMessageBytes)},
		{"PEROXO_GATEWAY_MESSAGE_BURST", int64(l.MessageBurst)},
		{"PEROXO_GATEWAY_SESSIONS_PER_USER", int64(l.SessionsPerUser)},
		{"PEROXO_GATEWAY_ROOMS_PER_SESSION", int64(l.RoomsPerSession)},
		{"PEROXO_GATEWAY_ROOM_MEMBERS_PER_NODE", int64(l.RoomMembersPerNode)},
		{"PEROXO_GATEWAY_QUEUE_LENGTH", int64(l.QueueLength)},
		{"PEROXO_GATEWAY_MAX_PENDING_REQUESTS", int64(l.MaxPendingRequests)},
		{"PEROXO_GATEWAY_PING_INTERVAL", int64(l.PingInterval)},
		{"PEROXO_GATEWAY_PONG_TIMEOUT", int64(l.PongTimeout)},
		{"PEROXO_GATEWAY_IDLE_TIMEOUT", int64(l.IdleTimeout)},
		{"PEROXO_GATEWAY_WRITE_TIMEOUT", int64(l.WriteTimeout)},
		{"PEROXO_GATEWAY_HANDSHAKE_TIMEOUT", int64(l.HandshakeTimeout)},
		{"PEROXO_GATEWAY_REQUEST_TIMEOUT", int64(l.RequestTimeout)},
		{"PEROXO_GATEWAY_RECENT_IDS", int64(l.RecentIDs)},
		{"PEROXO_GATEWAY_RECENT_ID_BYTES", int64(l.RecentIDBytes)},
		{"PEROXO_GATEWAY_RECENT_ID_TTL", int64(l.RecentIDTTL)},
		{"PEROXO_GATEWAY_ROUTER_QUEUE_LENGTH", int64(l.RouterQueueLength)},
		{"PEROXO_GATEWAY_ROOM_QUEUE_LENGTH", int64(l.RoomQueueLength)},
		{"PEROXO_GATEWAY_PRESENCE_FANOUT_MAX", int64(l.PresenceFanoutMax)},
	}
	for _, count := range counts {
		if err := config.CheckPositive(count.name, count.value); err != nil {
			return err
		}
	}
	if l.WriteDelay < 0 || l.WriteDelay >= l.WriteTimeout {
		return config.Invalid("PEROXO_GATEWAY_WRITE_DELAY", l.WriteDelay.String(),
			"must be 0 (write at once) or positive and below PEROXO_GATEWAY_WRITE_TIMEOUT")
	}
	if l.PresenceBatchInterval < 0 {
		return config.Invalid("PEROXO_GATEWAY_PRESENCE_BATCH_INTERVAL",
			l.PresenceBatchInterval.String(), "must be 0 (send at once) or positive")
	}
	if err := config.CheckPositive("PEROXO_GATEWAY_MESSAGES_PER_SECOND",
		l.MessagesPerSecond); err != nil {
		return err
	}
	if int64(l.MaxMessageBytes) >= l.MaxFrameBytes {
		return config.Invalid("PEROXO_GATEWAY_MAX_MESSAGE_BYTES",
			strconv.Itoa(l.MaxMessageBytes),
			"must be smaller than PEROXO_GATEWAY_MAX_FRAME_BYTES")
	}
	for _, origin := range l.AllowedOrigins {
		parsed, err := url.Parse(origin)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") ||
			parsed.Host == "" || parsed.Path != "" || parsed.RawQuery != "" ||
			strings.ContainsAny(parsed.Host, "*?") {
			return config.Invalid("PEROXO_GATEWAY_ALLOWED_ORIGINS", origin,
				"each origin must be an exact scheme://host[:port] without wildcards, "+
					"e.g. https://chat.example.com")
		}
	}
	return nil
}
