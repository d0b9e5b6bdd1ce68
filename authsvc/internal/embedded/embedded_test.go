package embedded

import (
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
