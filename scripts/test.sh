#!/usr/bin/env bash
# Starts the real services the tests use, then runs every module's tests
# with the race detector. A test that needs a service fails rather than
# skips when the service is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Assigned first, because eval "$(...)" would ignore a failing up.sh.
service_env="$(./scripts/services/up.sh)"
eval "$service_env"
export PEROXO_TEST_REQUIRE_SERVICES=1

status=0
for module in platform schemas gateway authsvc chatsvc consumer deploy bench e2e; do
  echo "== go test -race ./... in $module"
  (cd "$module" && go test -race -count=1 -timeout 20m ./...) || status=1
done
exit "$status"
