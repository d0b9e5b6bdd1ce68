package tokens

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/secret"
	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
)

// backends opens every Store implementation on fresh, empty storage.
var backends = map[string]func(t *testing.T) Store{
	"sqlite": func(t *testing.T) Store {
		return NewSQLiteStore(servicetest.SQLite(t), nil)
	},
	"redis": func(t *testing.T) Store {
		return NewRedisStore(servicetest.RedisClient(t), servicetest.RedisPrefix(t))
	},
}

func TestStoreConformance(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Run("issue and verify", func(t *testing.T) { testIssueVerify(t, open(t)) })
			t.Run("unknown token", func(t *testing.T) { testUnknown(t, open(t)) })
			t.Run("malformed token", func(t *testing.T) { testMalformed(t, open(t)) })
			t.Run("expiry", func(t *testing.T) { testExpiry(t, open(t)) })
			t.Run("duplicate hash", func(t *testing.T) { testDuplicate(t, open(t)) })
			t.Run("concurrent issuance", func(t *testing.T) { testConcurrent(t, open(t)) })
		})
	}
}

func testIssueVerify(t *testing.T, store Store) {
	want := Identity{
		ProjectID: "peroxo_pj_a",
		UserID:    "alice ünïcode",
		ExpiresAt: time.Now().Add(time.Minute).Truncate(time.Millisecond).UTC(),
	}
	token, err := Issue(t.Context(), store, want)
	if err != nil {
		t.Fatal(err)
	}
	if !IsForm(token) || len(token) != Length {
		t.Fatalf("token %q has the wrong form", token)
	}
	got, err := Verify(t.Context(), store, token)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProjectID != want.ProjectID || got.UserID != want.UserID {
		t.Errorf("identity = %+v, want %+v", got, want)
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want.ExpiresAt)
	}
}

func testUnknown(t *testing.T, store Store) {
	token := Prefix + strings.Repeat("A", randomChars)
	if _, err := Verify(t.Context(), store, token); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func testMalformed(t *testing.T, store Store) {
	for _, token := range []string{
		"",
		Prefix,
		"pxtak_" + strings.Repeat("A", randomChars),
		Prefix + strings.Repeat("A", randomChars-1),
		Prefix + strings.Repeat("A", randomChars+1),
		Prefix + strings.Repeat("-", randomChars),
	} {
		if _, err := Verify(t.Context(), store, token); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q): err = %v, want ErrMalformed", token, err)
		}
	}
}

func testExpiry(t *testing.T, store Store) {
	identity := Identity{
		ProjectID: "peroxo_pj_a",
		UserID:    "bob",
		ExpiresAt: time.Now().Add(300 * time.Millisecond),
	}
	token, err := Issue(t.Context(), store, identity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(t.Context(), store, token); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	time.Sleep(time.Until(identity.ExpiresAt))
	// Redis removes the key on its own clock; poll briefly for that.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := Verify(t.Context(), store, token)
		if errors.Is(err, ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("token still verifies 5s after its expiry")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testDuplicate(t *testing.T, store Store) {
	identity := Identity{ProjectID: "p", UserID: "u", ExpiresAt: time.Now().Add(time.Minute)}
	hash := secret.Hash("pxtok_duplicate")
	if err := store.Put(t.Context(), hash, identity); err != nil {
		t.Fatal(err)
	}
	identity.UserID = "mallory"
	if err := store.Put(t.Context(), hash, identity); !errors.Is(err, ErrExists) {
		t.Errorf("second Put: err = %v, want ErrExists", err)
	}
	got, err := store.Get(t.Context(), hash)
	if err != nil || got.UserID != "u" {
		t.Errorf("Get = %+v, %v; want the first identity", got, err)
	}
}

func testConcurrent(t *testing.T, store Store) {
	const workers = 32
	expiresAt := time.Now().Add(time.Minute)
	var wait sync.WaitGroup
	issued := make([]string, workers)
	for i := range workers {
		wait.Go(func() {
			identity := Identity{ProjectID: "peroxo_pj_c", UserID: string(rune('a' + i)), ExpiresAt: expiresAt}
			token, err := Issue(context.Background(), store, identity)
			if err != nil {
				t.Error(err)
				return
			}
			issued[i] = token
		})
	}
	wait.Wait()
	seen := make(map[string]bool)
	for i, token := range issued {
		if seen[token] {
			t.Errorf("token %d issued twice", i)
		}
		seen[token] = true
		identity, err := Verify(t.Context(), store, token)
		if err != nil {
			t.Errorf("token %d: %v", i, err)
			continue
		}
		if identity.UserID != string(rune('a'+i)) {
			t.Errorf("token %d belongs to %q", i, identity.UserID)
		}
	}
}

func TestSQLiteSweepRemovesExpired(t *testing.T) {
	db := servicetest.SQLite(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := NewSQLiteStore(db, clock)
	live, err := Issue(t.Context(), store, Identity{ProjectID: "p", UserID: "live", ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := Issue(t.Context(), store, Identity{ProjectID: "p", UserID: "dead", ExpiresAt: now.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if _, err := Verify(t.Context(), store, dead); !errors.Is(err, ErrNotFound) {
		t.Errorf("token at its expiry instant: err = %v, want ErrNotFound", err)
	}
	removed, err := store.Sweep(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if removed != 1 {
		t.Errorf("Sweep removed %d rows, want 1", removed)
	}
	if _, err := Verify(t.Context(), store, live); err != nil {
		t.Errorf("live token after sweep: %v", err)
	}
}
