// Package embedded opens the SQLite database that holds the embedded
// tenant, token and rate-limit stores, and applies its schema migrations.
package embedded

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database file inside PEROXO_AUTH_DATA_DIR.
const FileName = "authsvc.db"

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if needed) the database in dir and migrates it to
// the newest schema. Several processes may use the same file at once, for
// example the server and the tenants CLI. WAL mode lets readers run beside
// one writer, and the busy timeout makes a writer wait for the lock instead
// of failing.
func Open(ctx context.Context, dir string) (*sql.DB, error) {
	path := filepath.Join(dir, FileName)
	// Switching to WAL and migrating need the write lock for a moment, and
	// SQLite can return SQLITE_BUSY there without waiting on the busy
	// timeout. A file lock makes processes take turns for this step only.
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	defer unlock()
	query := url.Values{}
	for _, pragma := range []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		"foreign_keys(ON)",
	} {
		query.Add("_pragma", pragma)
	}
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
	// so two writers queue on the busy timeout instead of one failing with
	// SQLITE_BUSY when it upgrades a read lock.
	query.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+query.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate sqlite database %s: %w", path, err)
	}
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	files, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, files,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// IsPrimaryKeyConflict reports whether err is SQLite's
// SQLITE_CONSTRAINT_PRIMARYKEY, an insert of a key that already exists.
func IsPrimaryKeyConflict(err error) bool {
	var sqliteErr *sqlite.Error
	return errors.As(err, &sqliteErr) && sqliteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
