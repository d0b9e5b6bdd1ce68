-- +goose Up
CREATE TABLE tenants (
    project_id text PRIMARY KEY,
    name       text NOT NULL DEFAULT '',
    key_hash   text NOT NULL,
    creator    text NOT NULL,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE tenants;
