package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// cqlMigrations holds the versioned schema files, named NNNN_name.cql and
// applied in version order. A released file must never change: add a new
// one instead.
//
//go:embed cql/*.cql
var cqlMigrations embed.FS

type cqlMigration struct {
	version    int
	name       string
	statements []string
}

// loadCQLMigrations parses the embedded files. Statements are split on ";"
// at the end of a line; "--" comment lines are dropped.
func loadCQLMigrations() ([]cqlMigration, error) {
	paths, err := fs.Glob(cqlMigrations, "cql/*.cql")
	if err != nil {
		return nil, fmt.Errorf("list cql migrations: %w", err)
	}
	var migrations []cqlMigration
	for _, path := range paths {
		name := strings.TrimSuffix(strings.TrimPrefix(path, "cql/"), ".cql")
		prefix, _, _ := strings.Cut(name, "_")
		version, err := strconv.Atoi(prefix)
		if err != nil {
			return nil, fmt.Errorf("parse version of migration %s: %w", path, err)
		}
		text, err := cqlMigrations.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", path, err)
		}
		migrations = append(migrations, cqlMigration{
			version:    version,
			name:       name,
			statements: splitCQL(string(text)),
		})
	}
	sort.Slice(migrations, func(i, j int) bool {
		return migrations[i].version < migrations[j].version
	})
	return migrations, nil
}

func splitCQL(text string) []string {
	var statements []string
	var current strings.Builder
	for line := range strings.Lines(text) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		current.WriteString(line)
		if strings.HasSuffix(trimmed, ";") {
			statement := strings.TrimSuffix(strings.TrimSpace(current.String()), ";")
			statements = append(statements, statement)
			current.Reset()
		}
	}
	if rest := strings.TrimSpace(current.String()); rest != "" {
		statements = append(statements, rest)
	}
	return statements
}

// migrate applies the migrations not yet recorded in schema_migrations.
// Every statement is IF NOT EXISTS, so two instances starting at once both
// succeed, and a migration interrupted halfway is completed by the next
// start.
func migrate(ctx context.Context, session *gocql.Session) error {
	err := session.Query(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text, applied_at timestamp)`).
		ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := make(map[int]bool)
	iter := session.Query(`SELECT version FROM schema_migrations`).IterContext(ctx)
	var version int
	for iter.Scan(&version) {
		applied[version] = true
	}
	if err := iter.Close(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}

	migrations, err := loadCQLMigrations()
	if err != nil {
		return err
	}
	for _, migration := range migrations {
		if applied[migration.version] {
			continue
		}
		for _, statement := range migration.statements {
			if err := session.Query(statement).ExecContext(ctx); err != nil {
				return fmt.Errorf("apply migration %s: %w", migration.name, err)
			}
		}
		err := session.Query(`INSERT INTO schema_migrations (version, name, applied_at)
			VALUES (?, ?, ?)`, migration.version, migration.name, time.Now()).
			ExecContext(ctx)
		if err != nil {
			return fmt.Errorf("record migration %s: %w", migration.name, err)
		}
	}
	return nil
}

// checkBucketSetting records the bucket size on first start and rejects a
// different one later: rows already written sit in buckets of the old
// size, and reading them with another would miss them.
func checkBucketSetting(ctx context.Context, session *gocql.Session, bucket time.Duration) error {
	want := strconv.FormatInt(bucket.Milliseconds(), 10)
	existing := make(map[string]any)
	applied, err := session.Query(`INSERT INTO store_settings (name, value)
		VALUES ('bucket_ms', ?) IF NOT EXISTS`, want).
		MapScanCASContext(ctx, existing)
	if err != nil {
		return fmt.Errorf("record bucket size: %w", err)
	}
	if applied {
		return nil
	}
	if got, _ := existing["value"].(string); got != want {
		return fmt.Errorf("check bucket size: keyspace was created with buckets of "+
			"%s ms, setting is %s ms; keep the original bucket size", got, want)
	}
	return nil
}
