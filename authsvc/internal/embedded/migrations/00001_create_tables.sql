-- Statements use IF NOT EXISTS because the server and the tenants CLI may
-- migrate the same file at the same moment.

-- +goose Up
CREATE TABLE IF NOT EXISTS tenants (
    project_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    key_hash   TEXT NOT NULL,
    creator    TEXT NOT NULL,
    created_at INTEGER NOT NULL -- milliseconds since the Unix epoch
);

CREATE TABLE IF NOT EXISTS user_tokens (
    token_hash TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    expires_at INTEGER NOT NULL -- milliseconds since the Unix epoch
);
CREATE INDEX IF NOT EXISTS user_tokens_expires_at ON user_tokens (expires_at);

CREATE TABLE IF NOT EXISTS rate_windows (
    key        TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL, -- milliseconds since the Unix epoch
    ends_at    INTEGER NOT NULL,
    count      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_windows_ends_at ON rate_windows (ends_at);

-- +goose Down
DROP TABLE rate_windows;
DROP TABLE user_tokens;
DROP TABLE tenants;
