package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/peroxo/peroxo/bench/internal/scenario"
)

// Environment variables that carry secrets, so they stay out of the
// process list.
const (
	envAdminToken   = "PEROXO_BENCH_ADMIN_TOKEN"
	envSecretAPIKey = "PEROXO_BENCH_SECRET_API_KEY"
)

type config struct {
	options    scenario.Options
	json       bool
	verbose    bool
	cpuProfile string
}

const usageHeader = `Usage: peroxo-bench -scenario NAME [flags]

Runs one load scenario against a PerOXO gateway and prints the result.
Scenarios:
  fanout  -members receivers and -publishers senders in one room; the
          publishers send -rate room messages per second in total.
  dm      -pairs user pairs; every user sends DMs to its partner, -rate
          messages per second in total. Measures delivery and Persisted ack
          latency.
  idle    -conns idle connections; reports the gateway's memory growth per
          connection from its /metrics.
  churn   the fanout scenario plus -churn-rate connects per second, each
          held -churn-hold.
Every message is due on a fixed schedule and latency counts from its due
time, so a stalled generator or gateway cannot hide delay. A run stops by
itself after -duration plus at most -warmup and -drain (or after
-max-messages).

Tenant: give exactly one of -project with -secret-api-key, -admin-token,
or -authsvc-bin. Secrets may come from ` + envAdminToken + ` and
` + envSecretAPIKey + ` instead of flags.

Flags:
`

// parseFlags reads args and the secrets from getenv into a validated
// config; help goes to output.
func parseFlags(args []string, getenv func(string) string, output io.Writer) (config, error) {
	cfg := config{options: scenario.DefaultOptions()}
	o := &cfg.options
	flags := flag.NewFlagSet("peroxo-bench", flag.ContinueOnError)
	flags.SetOutput(output)
	flags.Usage = func() {
		fmt.Fprint(output, usageHeader)
		flags.PrintDefaults()
	}

	flags.StringVar(&o.Scenario, "scenario", o.Scenario, "scenario to run: fanout, dm, idle or churn")
	flags.StringVar(&o.GatewayURL, "gateway", o.GatewayURL, "gateway base URL (http:// or ws://); /ws is appended")
	flags.StringVar(&o.AuthURL, "auth", o.AuthURL, "auth service base URL")
	flags.StringVar(&o.MetricsURL, "metrics", "", "gateway metrics URL for idle (default: -gateway + /metrics)")
	flags.BoolVar(&o.AllowRemote, "allow-remote", false, "allow targets that are not loopback addresses")

	flags.StringVar(&o.ProjectID, "project", "", "existing project id to use instead of creating a tenant")
	flags.StringVar(&o.SecretAPIKey, "secret-api-key", "",
		"secret API key of -project (default $"+envSecretAPIKey+")")
	flags.StringVar(&o.AdminToken, "admin-token", "",
		"auth service admin token; creates a tenant with GET /generate-tenant (default $"+envAdminToken+")")
	flags.StringVar(&o.AuthsvcPath, "authsvc-bin", "",
		"path to the authsvc binary; creates a tenant by running its \"tenants create\" command")

	flags.IntVar(&o.Tenants, "tenants", o.Tenants,
		"dm, idle: new tenants to spread users over (the gateway sends presence within a tenant)")
	flags.IntVar(&o.Members, "members", o.Members, "fanout, churn: room members that receive")
	flags.IntVar(&o.Publishers, "publishers", o.Publishers, "fanout, churn: connections that send to the room")
	flags.IntVar(&o.Pairs, "pairs", o.Pairs, "dm: user pairs (two connections each)")
	flags.IntVar(&o.Connections, "conns", o.Connections, "idle: connections to hold open")
	flags.Float64Var(&o.Rate, "rate", o.Rate, "messages per second sent over all senders")
	flags.IntVar(&o.Size, "size", o.Size, "message content size in bytes (minimum is the header, about 40)")
	flags.Float64Var(&o.ChurnRate, "churn-rate", o.ChurnRate, "churn: connects per second")
	flags.DurationVar(&o.ChurnHold, "churn-hold", o.ChurnHold, "churn: how long each churn connection stays open")

	flags.DurationVar(&o.Duration, "duration", o.Duration, "send window; idle: how long connections are held")
	flags.Int64Var(&o.MaxMessages, "max-messages", o.MaxMessages, "cap on messages sent over all senders")
	flags.DurationVar(&o.Drain, "drain", o.Drain, "how long to wait after the send window for missing messages")
	flags.DurationVar(&o.Warmup, "warmup", o.Warmup, "bound on joining the room or warming up DM routes")
	flags.DurationVar(&o.Settle, "settle", o.Settle, "idle: wait after the last connect before reading memory")

	flags.IntVar(&o.DialConcurrency, "dial-concurrency", o.DialConcurrency, "connections dialled in parallel")
	flags.Float64Var(&o.ConnectRate, "connect-rate", 0,
		"connects per second while opening connections (0: as fast as -dial-concurrency allows)")
	flags.IntVar(&o.TokenConcurrency, "token-concurrency", o.TokenConcurrency,
		"token and conversation requests in flight")
	flags.IntVar(&o.SourceAddrs, "source-addrs", 0,
		"loopback source addresses 127.0.0.1..N to spread connections over (0: one per 10,000 connections)")
	flags.DurationVar(&o.HandshakeTimeout, "handshake-timeout", o.HandshakeTimeout,
		"bound on each connect and HTTP request")
	flags.DurationVar(&o.WriteTimeout, "write-timeout", o.WriteTimeout, "bound on each frame write")

	flags.BoolVar(&cfg.json, "json", false, "print the result as one JSON line instead of a table")
	flags.BoolVar(&cfg.verbose, "v", false, "log each failed send and disconnect")
	flags.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write the generator's own CPU profile to this file")

	if err := flags.Parse(args); err != nil {
		return config{}, err
	}
	if flags.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q; every setting is a flag, see -help", flags.Arg(0))
	}
	// A secret from the environment is only a default, used when the
	// command line names no other tenant source.
	if o.ProjectID != "" && o.SecretAPIKey == "" {
		o.SecretAPIKey = getenv(envSecretAPIKey)
	}
	if o.ProjectID == "" && o.AuthsvcPath == "" && o.AdminToken == "" {
		o.AdminToken = getenv(envAdminToken)
	}
	if err := o.Validate(); err != nil {
		return config{}, err
	}
	return cfg, nil
}
