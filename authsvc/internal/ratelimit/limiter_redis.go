package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// countScript increments the counter of a key and starts its window on the
// first event, in one atomic step. It returns the count and the
// milliseconds left in the window. A counter without expiry (left by an
// interrupted write) gets a fresh window rather than living forever.
var countScript = redis.NewScript(`
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`)

// RedisLimiter is the production [Limiter]. The caller owns the client.
type RedisLimiter struct {
	client redis.UniversalClient
	prefix string
	rule   Rule
}

// NewRedisLimiter returns a limiter that keeps its counters under prefix.
func NewRedisLimiter(client redis.UniversalClient, prefix string, rule Rule) *RedisLimiter {
	return &RedisLimiter{client: client, prefix: prefix + "rate:", rule: rule}
}

// Allow implements [Limiter].
func (l *RedisLimiter) Allow(ctx context.Context, key string) (Decision, error) {
	window := l.rule.Window.Milliseconds()
	result, err := countScript.Run(ctx, l.client, []string{l.prefix + key}, window).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("count rate-limit event: %w", err)
	}
	if len(result) != 2 {
		return Decision{}, fmt.Errorf("count rate-limit event: script returned %d values", len(result))
	}
	return Decision{
		Allowed:    result[0] <= int64(l.rule.Limit),
		RetryAfter: time.Duration(result[1]) * time.Millisecond,
	}, nil
}
