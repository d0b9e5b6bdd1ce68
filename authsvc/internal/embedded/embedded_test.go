package embedded

import (
	"fmt"
	"testing"
)

func TestOpenTwiceMigratesOnce(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		db, err := Open(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Errorf("journal_mode = %q, want wal", mode)
		}
		var tables int
		err = db.QueryRowContext(t.Context(),
			"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "+
				"('tenants', 'user_tokens', 'rate_windows')").Scan(&tables)
		if err != nil {
			t.Fatal(err)
		}
		if tables != 3 {
			t.Errorf("found %d of 3 tables", tables)
		}
		db.Close()
	}
}

func TestOpenConcurrentlyOnFreshDir(t *testing.T) {
	// The server and the tenants CLI may both migrate a new data dir at
	// once; separate *sql.DB values stand in for the two processes.
	for round := range 10 {
		dir := t.TempDir()
		errs := make(chan error, 4)
		for worker := range 4 {
			go func() {
				db, err := Open(t.Context(), dir)
				if err != nil {
					errs <- err
					return
				}
				defer db.Close()
				// Writes from separate handles wait on the busy timeout.
				_, err = db.ExecContext(t.Context(),
					`INSERT INTO tenants (project_id, key_hash, creator, created_at)
					 VALUES (?, 'hash', 'test', 0)`, fmt.Sprint(round, "-", worker))
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}
}
