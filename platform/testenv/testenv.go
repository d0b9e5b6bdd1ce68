// Package testenv gives tests the addresses of the real services that
// scripts/services/up.sh starts (PostgreSQL, Redis, Cassandra, Chromium).
package testenv

import (
	"os"
	"testing"
)

// RequireVar names the variable that turns a missing service from a skipped
// test into a failed one. scripts/test.sh sets it, so the full test run can
// never pass by skipping.
const RequireVar = "PEROXO_TEST_REQUIRE_SERVICES"

// Service returns the value of the environment variable name, which
// scripts/services/up.sh exports, for example PEROXO_TEST_POSTGRES_URL.
// When it is unset the test is skipped, or failed if [RequireVar] is "1".
func Service(tb testing.TB, name string) string {
	tb.Helper()
	value := os.Getenv(name)
	if value != "" {
		return value
	}
	if os.Getenv(RequireVar) == "1" {
		tb.Fatalf("%s is not set: start the test services with "+
			"eval \"$(scripts/services/up.sh)\" or run go tool task test", name)
	}
	tb.Skipf("%s is not set; run eval \"$(scripts/services/up.sh)\" to include this test", name)
	return ""
}
