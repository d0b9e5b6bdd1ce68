#!/usr/bin/env bash
# Fails when buf lint fails or when schemas/gen differs from what
# `go tool task proto` would generate from schemas/proto.
set -euo pipefail
cd "$(dirname "$0")/../schemas"

go tool buf lint
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
go tool buf generate --output "$fresh"
if ! diff -r gen "$fresh/gen" >/dev/null; then
  diff -r gen "$fresh/gen" | head -20 >&2
  echo "schemas/gen is stale: run 'go tool task proto' and commit the result" >&2
  exit 1
fi
