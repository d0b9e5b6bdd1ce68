package tenants

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
)

// backends opens every Store implementation on fresh, empty storage.
var backends = map[string]func(t *testing.T) Store{
	"sqlite": func(t *testing.T) Store {
		return NewSQLiteStore(servicetest.SQLite(t))
	},
	"postgres": func(t *testing.T) Store {
		store, err := OpenPostgres(t.Context(), servicetest.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		return store
	},
}

func TestStoreConformance(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Run("create and authenticate", func(t *testing.T) { testAuthenticate(t, open(t)) })
			t.Run("duplicate insert", func(t *testing.T) { testDuplicate(t, open(t)) })
			t.Run("list", func(t *testing.T) { testList(t, open(t)) })
			t.Run("concurrent create", func(t *testing.T) { testConcurrentCreate(t, open(t)) })
		})
	}
}

func testAuthenticate(t *testing.T, store Store) {
	ctx := t.Context()
	tenant, key, err := Create(ctx, store, "acme", "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !IsProjectIDForm(tenant.ProjectID) {
		t.Errorf("project id %q has the wrong form", tenant.ProjectID)
	}
	if !IsAPIKeyForm(key) {
		t.Errorf("key has the wrong form (length %d)", len(key))
	}
	if err := Authenticate(ctx, store, tenant.ProjectID, key); err != nil {
		t.Errorf("right key: %v", err)
	}
	other, otherKey, err := Create(ctx, store, "", "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := Authenticate(ctx, store, tenant.ProjectID, otherKey); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another tenant's key: err = %v, want ErrWrongKey", err)
	}
	if err := Authenticate(ctx, store, other.ProjectID, key[:len(key)-1]+"x"); !errors.Is(err, ErrWrongKey) {
		t.Errorf("altered key: err = %v, want ErrWrongKey", err)
	}
	if err := Authenticate(ctx, store, "peroxo_pj_unknown", key); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown project: err = %v, want ErrNotFound", err)
	}
}

func testDuplicate(t *testing.T, store Store) {
	tenant := Tenant{ProjectID: "peroxo_pj_duplicate", Creator: "cli", CreatedAt: time.Now()}
	if err := store.Insert(t.Context(), tenant, "hash1"); err != nil {
		t.Fatal(err)
	}
	if err := store.Insert(t.Context(), tenant, "hash2"); !errors.Is(err, ErrExists) {
		t.Errorf("second insert: err = %v, want ErrExists", err)
	}
	hash, err := store.KeyHash(t.Context(), tenant.ProjectID)
	if err != nil || hash != "hash1" {
		t.Errorf("KeyHash = %q, %v; want the first hash", hash, err)
	}
}

func testList(t *testing.T, store Store) {
	empty, err := store.List(t.Context())
	if err != nil || len(empty) != 0 {
		t.Fatalf("List on empty store = %v, %v", empty, err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	want := []Tenant{
		{ProjectID: "peroxo_pj_b", Name: "first", Creator: "admin", CreatedAt: start},
		{ProjectID: "peroxo_pj_a", Name: "", Creator: "google:123", CreatedAt: start.Add(time.Second)},
	}
	for _, tenant := range want {
		if err := store.Insert(t.Context(), tenant, "hash"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("List returned %d tenants, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].CreatedAt.Equal(want[i].CreatedAt) {
			t.Errorf("tenant %d CreatedAt = %v, want %v", i, got[i].CreatedAt, want[i].CreatedAt)
		}
		got[i].CreatedAt = want[i].CreatedAt
		if got[i] != want[i] {
			t.Errorf("tenant %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testConcurrentCreate(t *testing.T, store Store) {
	const workers = 16
	var wait sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wait.Go(func() {
			tenant, key, err := Create(context.Background(), store, "", "cli", time.Now())
			if err == nil {
				err = Authenticate(context.Background(), store, tenant.ProjectID, key)
			}
			errs <- err
		})
	}
	wait.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	list, err := store.List(t.Context())
	if err != nil || len(list) != workers {
		t.Errorf("List = %d tenants, %v; want %d", len(list), err, workers)
	}
}
