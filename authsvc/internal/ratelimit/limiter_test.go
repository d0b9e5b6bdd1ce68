package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/peroxo/peroxo/authsvc/internal/servicetest"
)

// backends opens every Limiter implementation on fresh, empty storage.
var backends = map[string]func(t *testing.T, rule Rule) Limiter{
	"sqlite": func(t *testing.T, rule Rule) Limiter {
		return NewSQLiteLimiter(servicetest.SQLite(t), rule, nil)
	},
	"redis": func(t *testing.T, rule Rule) Limiter {
		return NewRedisLimiter(servicetest.RedisClient(t), servicetest.RedisPrefix(t), rule)
	},
}

func TestLimiterConformance(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Run("limit per key", func(t *testing.T) {
				testLimitPerKey(t, open(t, Rule{Limit: 3, Window: time.Hour}))
			})
			t.Run("window ends", func(t *testing.T) {
				testWindowEnds(t, open(t, Rule{Limit: 1, Window: 200 * time.Millisecond}))
			})
			t.Run("concurrent events", func(t *testing.T) {
				testConcurrent(t, open(t, Rule{Limit: 5, Window: time.Hour}))
			})
		})
	}
}

func testLimitPerKey(t *testing.T, limiter Limiter) {
	for i := range 3 {
		decision, err := limiter.Allow(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !decision.Allowed {
			t.Fatalf("event %d rejected, want allowed", i+1)
		}
	}
	decision, err := limiter.Allow(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if decision.Allowed {
		t.Error("event 4 allowed, want rejected")
	}
	if decision.RetryAfter <= 0 || decision.RetryAfter > time.Hour {
		t.Errorf("RetryAfter = %s, want within (0, 1h]", decision.RetryAfter)
	}
	other, err := limiter.Allow(t.Context(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !other.Allowed {
		t.Error("another key was rejected")
	}
}

func testWindowEnds(t *testing.T, limiter Limiter) {
	first, err := limiter.Allow(t.Context(), "carol")
	if err != nil || !first.Allowed {
		t.Fatalf("first event: %+v, %v", first, err)
	}
	second, err := limiter.Allow(t.Context(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	if second.Allowed {
		t.Fatal("second event in the window allowed")
	}
	// Poll until the 200ms window has ended; the deadline only bounds a
	// broken limiter.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(second.RetryAfter)
		decision, err := limiter.Allow(t.Context(), "carol")
		if err != nil {
			t.Fatal(err)
		}
		if decision.Allowed {
			return
		}
		second = decision
	}
	t.Fatal("the window never ended")
}

func testConcurrent(t *testing.T, limiter Limiter) {
	const events = 20
	var wait sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range events {
		wait.Go(func() {
			decision, err := limiter.Allow(context.Background(), "dave")
			if err != nil {
				t.Error(err)
				return
			}
			if decision.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wait.Wait()
	if allowed != 5 {
		t.Errorf("%d of %d concurrent events allowed, want 5", allowed, events)
	}
}
