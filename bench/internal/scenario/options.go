// Package scenario runs the load generator's scenarios (fanout, dm, idle,
// churn) against one gateway and reports what they measured.
package scenario

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// Scenario names.
const (
	Fanout = "fanout"
	DM     = "dm"
	Idle   = "idle"
	Churn  = "churn"
)

// Bounds that keep every run finite whatever the flags request.
const (
	maxDuration    = time.Hour
	maxDrain       = 10 * time.Minute
	maxContentSize = 64 << 10
)

// Options is everything a run needs. Validate checks it before anything
// connects.
type Options struct {
	Scenario string

	GatewayURL  string // base URL of the gateway, http:// or ws://
	AuthURL     string // base URL of the auth service
	MetricsURL  string // gateway's Prometheus endpoint; empty means GatewayURL + /metrics
	AllowRemote bool   // permit targets that are not loopback addresses

	// Exactly one tenant source: an existing project and key, the auth
	// service's admin token, or the path to the authsvc binary.
	ProjectID    string
	SecretAPIKey string
	AdminToken   string
	AuthsvcPath  string
	// Tenants spreads dm pairs and idle connections over this many new
	// tenants, because the gateway sends presence within a project only.
	Tenants int

	Members     int     // fanout and churn: room members that only receive
	Publishers  int     // fanout and churn: connections that send to the room
	Pairs       int     // dm: user pairs, each user sending to the other
	Connections int     // idle: connections held open
	Rate        float64 // messages per second over all senders
	Size        int     // content bytes per message

	ChurnRate float64       // churn: connects per second
	ChurnHold time.Duration // churn: how long each churn connection stays

	Duration    time.Duration // send window; for idle, how long connections are held
	MaxMessages int64         // cap on messages sent over all senders
	Drain       time.Duration // wait after the send window for stragglers
	Warmup      time.Duration // bound on joining rooms and warm-up probes
	Settle      time.Duration // idle: wait after the last connect before measuring memory

	DialConcurrency  int
	ConnectRate      float64 // connects per second while opening; 0 means no pacing
	TokenConcurrency int
	SourceAddrs      int // 0 picks enough for the connection count
	HandshakeTimeout time.Duration
	WriteTimeout     time.Duration
}

// DefaultOptions returns the defaults the command's flags start from.
func DefaultOptions() Options {
	return Options{
		Scenario:         DM,
		GatewayURL:       "http://127.0.0.1:8080",
		AuthURL:          "http://127.0.0.1:8081",
		Members:          1000,
		Publishers:       10,
		Pairs:            100,
		Tenants:          1,
		Connections:      1000,
		Rate:             1000,
		Size:             64,
		ChurnRate:        50,
		ChurnHold:        time.Second,
		Duration:         10 * time.Second,
		MaxMessages:      10_000_000,
		Drain:            10 * time.Second,
		Warmup:           60 * time.Second,
		Settle:           5 * time.Second,
		DialConcurrency:  256,
		TokenConcurrency: 32,
		HandshakeTimeout: 30 * time.Second,
		WriteTimeout:     10 * time.Second,
	}
}

// Validate returns the first invalid option, named by its flag.
func (o *Options) Validate() error {
	switch o.Scenario {
	case Fanout, DM, Idle, Churn:
	default:
		return fmt.Errorf("invalid -scenario %q: expected fanout, dm, idle or churn", o.Scenario)
	}
	for _, target := range []struct{ flag, value string }{
		{"-gateway", o.GatewayURL},
		{"-auth", o.AuthURL},
		{"-metrics", o.MetricsURL},
	} {
		if target.value == "" && target.flag == "-metrics" {
			continue
		}
		if err := checkTarget(target.flag, target.value, o.AllowRemote); err != nil {
			return err
		}
	}
	if err := o.validateTenant(); err != nil {
		return err
	}
	if err := o.validateShape(); err != nil {
		return err
	}
	return o.validateBounds()
}

func (o *Options) validateTenant() error {
	sources := 0
	if o.ProjectID != "" || o.SecretAPIKey != "" {
		if o.ProjectID == "" || o.SecretAPIKey == "" {
			return errors.New("invalid tenant: -project and -secret-api-key go together")
		}
		sources++
	}
	if o.AdminToken != "" {
		sources++
	}
	if o.AuthsvcPath != "" {
		sources++
	}
	if sources != 1 {
		return errors.New("invalid tenant: give exactly one of -project with -secret-api-key, " +
			"-admin-token (or PEROXO_BENCH_ADMIN_TOKEN) or -authsvc-bin")
	}
	switch {
	case o.Tenants < 1:
		return fmt.Errorf("invalid -tenants %d: expected at least 1", o.Tenants)
	case o.Tenants > 1 && o.ProjectID != "":
		return errors.New("invalid -tenants: -project names one tenant; create tenants with " +
			"-admin-token or -authsvc-bin instead")
	case o.Tenants > 1 && (o.Scenario == Fanout || o.Scenario == Churn):
		return fmt.Errorf("invalid -tenants %d: a %s room belongs to one tenant", o.Tenants, o.Scenario)
	}
	return nil
}

func (o *Options) validateShape() error {
	positive := func(flag string, value int) error {
		if value < 1 {
			return fmt.Errorf("invalid %s %d: expected at least 1", flag, value)
		}
		return nil
	}
	var checks []error
	switch o.Scenario {
	case Fanout, Churn:
		checks = append(checks, positive("-members", o.Members), positive("-publishers", o.Publishers))
	case DM:
		checks = append(checks, positive("-pairs", o.Pairs))
	case Idle:
		checks = append(checks, positive("-conns", o.Connections))
	}
	if o.Scenario == Churn {
		if !(o.ChurnRate > 0) {
			checks = append(checks, fmt.Errorf("invalid -churn-rate %v: expected a positive number of connects per second", o.ChurnRate))
		}
		if o.ChurnHold < 0 {
			checks = append(checks, fmt.Errorf("invalid -churn-hold %s: expected 0 or more", o.ChurnHold))
		}
	}
	if o.Scenario != Idle && !(o.Rate > 0) {
		checks = append(checks, fmt.Errorf("invalid -rate %v: expected a positive number of messages per second", o.Rate))
	}
	if o.Size < 0 || o.Size > maxContentSize {
		checks = append(checks, fmt.Errorf("invalid -size %d: expected 0 to %d bytes", o.Size, maxContentSize))
	}
	checks = append(checks,
		positive("-dial-concurrency", o.DialConcurrency),
		positive("-token-concurrency", o.TokenConcurrency))
	if o.ConnectRate < 0 {
		checks = append(checks, fmt.Errorf("invalid -connect-rate %v: expected 0 (no pacing) or more connects per second", o.ConnectRate))
	}
	if o.SourceAddrs < 0 || o.SourceAddrs > 254 {
		checks = append(checks, fmt.Errorf("invalid -source-addrs %d: expected 0 (automatic) to 254", o.SourceAddrs))
	}
	return errors.Join(checks...)
}

func (o *Options) validateBounds() error {
	var checks []error
	inRange := func(flag string, value, low, high time.Duration) {
		if value < low || value > high {
			checks = append(checks, fmt.Errorf("invalid %s %s: expected %s to %s", flag, value, low, high))
		}
	}
	inRange("-duration", o.Duration, time.Millisecond, maxDuration)
	inRange("-drain", o.Drain, 0, maxDrain)
	inRange("-warmup", o.Warmup, time.Second, maxDrain)
	inRange("-settle", o.Settle, 0, maxDrain)
	inRange("-handshake-timeout", o.HandshakeTimeout, time.Millisecond, maxDrain)
	inRange("-write-timeout", o.WriteTimeout, time.Millisecond, maxDrain)
	if o.MaxMessages < 1 {
		checks = append(checks, fmt.Errorf("invalid -max-messages %d: expected at least 1", o.MaxMessages))
	}
	return errors.Join(checks...)
}

// checkTarget rejects URLs that are not http(s) or ws(s), and hosts that
// are not loopback unless allowRemote is set, so a mistyped flag cannot
// aim load at a shared server.
func checkTarget(flag, value string, allowRemote bool) error {
	parsed, err := url.Parse(value)
	if err != nil {
		return fmt.Errorf("invalid %s %q: %w", flag, value, err)
	}
	switch parsed.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("invalid %s %q: expected an http, https, ws or wss URL", flag, value)
	}
	host := parsed.Hostname()
	if host == "" {
		return fmt.Errorf("invalid %s %q: no host", flag, value)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("invalid %s %q: host is not a loopback address; pass -allow-remote "+
			"only for a gateway you operate", flag, value)
	}
	return nil
}

// connectionCount returns how many connections the scenario opens at most
// at the same time.
func (o *Options) connectionCount() int {
	switch o.Scenario {
	case Fanout:
		return o.Members + o.Publishers
	case Churn:
		inFlight := int(o.ChurnRate*(o.ChurnHold+time.Second).Seconds()) + 1
		return o.Members + o.Publishers + inFlight
	case DM:
		return 2 * o.Pairs
	default:
		return o.Connections
	}
}
