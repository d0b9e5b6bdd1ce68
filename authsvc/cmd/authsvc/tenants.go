package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/api"
	"github.com/peroxo/peroxo/authsvc/internal/backends"
	"github.com/peroxo/peroxo/authsvc/internal/config"
	"github.com/peroxo/peroxo/authsvc/internal/tenants"
)

// cliCreator marks tenants created with "authsvc tenants create".
const cliCreator = "cli"

func createTenant(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("tenants create", flag.ContinueOnError)
	name := flags.String("name", "", "optional tenant label, at most 128 bytes")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("tenants create: unexpected arguments %q", flags.Args())
	}
	if err := api.CheckName(*name); err != nil {
		return fmt.Errorf("tenants create --name: %w", err)
	}
	stores, err := backends.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer stores.Close()
	tenant, key, err := tenants.Create(ctx, stores.Tenants, *name, cliCreator, time.Now())
	if err != nil {
		return err
	}
	slog.Info("tenant created", "project", tenant.ProjectID, "method", cliCreator)
	return json.NewEncoder(stdout).Encode(map[string]string{
		"project_id":     tenant.ProjectID,
		"secret_api_key": key,
	})
}

type listedTenant struct {
	ProjectID string    `json:"project_id"`
	Name      string    `json:"name"`
	Creator   string    `json:"creator"`
	CreatedAt time.Time `json:"created_at"`
}

func listTenants(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("tenants list", flag.ContinueOnError)
	asJSON := flags.Bool("json", false, "print one JSON object a line instead of a table")
	if err := flags.Parse(args); err != nil {
		return err
	}
	stores, err := backends.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer stores.Close()
	list, err := stores.Tenants.List(ctx)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	if *asJSON {
		encoder := json.NewEncoder(stdout)
		for _, tenant := range list {
			if err := encoder.Encode(listedTenant(tenant)); err != nil {
				return err
			}
		}
		return nil
	}
	table := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(table, "PROJECT_ID\tNAME\tCREATED_AT\tCREATOR")
	for _, tenant := range list {
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\n", tenant.ProjectID, tenant.Name,
			tenant.CreatedAt.UTC().Format(time.RFC3339), tenant.Creator)
	}
	return table.Flush()
}
