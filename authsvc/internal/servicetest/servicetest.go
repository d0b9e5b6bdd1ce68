// Package servicetest gives tests throwaway PostgreSQL databases and Redis
// key prefixes on the shared test services, so parallel tests and other
// modules' tests never see each other's data.
package servicetest

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/peroxo/peroxo/authsvc/internal/embedded"
	"github.com/peroxo/peroxo/authsvc/internal/secret"
	"github.com/peroxo/peroxo/platform/testenv"
)

// PostgresURL creates an empty database on the server named by
// PEROXO_TEST_POSTGRES_URL and returns its URL. The database is dropped
// when the test ends.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := testenv.Service(tb, "PEROXO_TEST_POSTGRES_URL")
	suffix, err := secret.Random(secret.LowerAlphanumerics, 12)
	if err != nil {
		tb.Fatal(err)
	}
	name := "peroxo_authsvc_" + suffix
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect to test postgres: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("connect to test postgres: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	parsed, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse PEROXO_TEST_POSTGRES_URL: %v", err)
	}
	parsed.Path = "/" + name
	return parsed.String()
}

// RedisURL returns the URL of the shared test Redis server.
func RedisURL(tb testing.TB) string {
	tb.Helper()
	return testenv.Service(tb, "PEROXO_TEST_REDIS_URL")
}

// RedisPrefix returns a random key prefix for one test. Every key under it
// is deleted when the test ends.
func RedisPrefix(tb testing.TB) string {
	tb.Helper()
	raw := RedisURL(tb)
	suffix, err := secret.Random(secret.LowerAlphanumerics, 12)
	if err != nil {
		tb.Fatal(err)
	}
	prefix := "peroxo-authsvc-test:" + suffix + ":"
	tb.Cleanup(func() {
		options, err := redis.ParseURL(raw)
		if err != nil {
			tb.Errorf("parse PEROXO_TEST_REDIS_URL: %v", err)
			return
		}
		client := redis.NewClient(options)
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iterator := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iterator.Next(ctx) {
			client.Del(ctx, iterator.Val())
		}
		if err := iterator.Err(); err != nil {
			tb.Errorf("delete test keys %s*: %v", prefix, err)
		}
	})
	return prefix
}

// RedisClient returns a client of the shared test Redis server, closed
// when the test ends. Pair it with [RedisPrefix].
func RedisClient(tb testing.TB) *redis.Client {
	tb.Helper()
	options, err := redis.ParseURL(RedisURL(tb))
	if err != nil {
		tb.Fatalf("parse PEROXO_TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(options)
	tb.Cleanup(func() { client.Close() })
	return client
}

// SQLite opens a migrated embedded database in a temporary directory,
// closed when the test ends.
func SQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := embedded.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
