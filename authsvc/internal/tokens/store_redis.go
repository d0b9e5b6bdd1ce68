package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisStore is the production [Store]. Each token is one string key
// holding its identity as JSON, set with an absolute expiry (PXAT), so Redis
// drops it when it expires. The caller owns the client.
type RedisStore struct {
	client redis.UniversalClient
	prefix string
}

// NewRedisStore returns a store that keeps its keys under prefix, for
// example "peroxo:auth:".
func NewRedisStore(client redis.UniversalClient, prefix string) *RedisStore {
	return &RedisStore{client: client, prefix: prefix + "token:"}
}

type redisIdentity struct {
	ProjectID string `json:"p"`
	UserID    string `json:"u"`
	ExpiresAt int64  `json:"e"` // milliseconds since the Unix epoch
}

// Put implements [Store].
func (s *RedisStore) Put(ctx context.Context, tokenHash string, identity Identity) error {
	value, err := json.Marshal(redisIdentity{
		ProjectID: identity.ProjectID,
		UserID:    identity.UserID,
		ExpiresAt: identity.ExpiresAt.UnixMilli(),
	})
	if err != nil {
		return fmt.Errorf("encode token identity: %w", err)
	}
	// SET NX PXAT: only a new key, gone at the expiry instant.
	result, err := s.client.SetArgs(ctx, s.prefix+tokenHash, value, redis.SetArgs{
		Mode:     "NX",
		ExpireAt: identity.ExpiresAt,
	}).Result()
	if errors.Is(err, redis.Nil) || (err == nil && result != "OK") {
		return ErrExists
	}
	return err
}

// Get implements [Store].
func (s *RedisStore) Get(ctx context.Context, tokenHash string) (Identity, error) {
	value, err := s.client.Get(ctx, s.prefix+tokenHash).Bytes()
	if errors.Is(err, redis.Nil) {
		return Identity{}, ErrNotFound
	}
	if err != nil {
		return Identity{}, err
	}
	var stored redisIdentity
	if err := json.Unmarshal(value, &stored); err != nil {
		return Identity{}, fmt.Errorf("decode token identity: %w", err)
	}
	expiresAt := time.UnixMilli(stored.ExpiresAt).UTC()
	// Redis expires keys on its own clock; this check also holds when the
	// clocks of Redis and this host differ slightly.
	if !time.Now().Before(expiresAt) {
		return Identity{}, ErrNotFound
	}
	return Identity{ProjectID: stored.ProjectID, UserID: stored.UserID, ExpiresAt: expiresAt}, nil
}

// Ping implements [Store].
func (s *RedisStore) Ping(ctx context.Context) error {
	return s.client.Ping(ctx).Err()
}
