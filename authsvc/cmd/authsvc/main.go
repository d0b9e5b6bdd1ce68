// Command authsvc manages tenants, API keys and user tokens.
//
// Usage:
//
//	authsvc [serve]                    run the server
//	authsvc tenants create [--name N]  create a tenant, print its key once
//	authsvc tenants list [--json]      list tenants, never their keys
//
// Every subcommand reads the same PEROXO_AUTH_ settings and opens the same
// backends, so the CLI works on the server's data, also while it runs.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/peroxo/peroxo/authsvc/internal/config"
	platformconfig "github.com/peroxo/peroxo/platform/config"
	"github.com/peroxo/peroxo/platform/logging"
	"github.com/peroxo/peroxo/platform/runner"
)

const usage = `usage:
  authsvc [serve]                     run the server
  authsvc tenants create [--name N]   create a tenant; prints {"project_id","secret_api_key"}
  authsvc tenants list [--json]       list tenants (never their keys)
Settings are PEROXO_AUTH_* environment variables, see docs/operations.md.`

func main() {
	command, err := parseCommand(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "authsvc: %v\n%s\n", err, usage)
		os.Exit(2)
	}
	if command == "help" {
		fmt.Println(usage)
		return
	}
	runner.Main(func(ctx context.Context) error {
		return run(ctx, command, os.Args[1:], os.Stdout)
	})
}

// parseCommand returns "serve", "tenants create", "tenants list" or
// "help", or an error for anything else.
func parseCommand(args []string) (string, error) {
	switch {
	case len(args) == 0:
		return "serve", nil
	case args[0] == "serve":
		if len(args) > 1 {
			return "", fmt.Errorf("serve takes no arguments, got %q", args[1:])
		}
		return "serve", nil
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		return "help", nil
	case len(args) >= 2 && args[0] == "tenants" && (args[1] == "create" || args[1] == "list"):
		return args[0] + " " + args[1], nil
	default:
		return "", fmt.Errorf("unknown command %q", strings.Join(args, " "))
	}
}

func run(ctx context.Context, command string, args []string, stdout io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	logger, err := logging.New(os.Stderr, cfg.Log, "authsvc")
	if err != nil {
		return err
	}
	platformconfig.LogUnknownSettings(logger, &cfg, "PEROXO_AUTH_")
	slog.SetDefault(logger)

	switch command {
	case "tenants create":
		return createTenant(ctx, cfg, args[2:], stdout)
	case "tenants list":
		return listTenants(ctx, cfg, args[2:], stdout)
	default:
		return serve(ctx, cfg, logger)
	}
}
