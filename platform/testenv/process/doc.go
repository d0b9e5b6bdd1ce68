// Package process runs the workspace's service binaries in tests: it
// builds each binary once per test process, picks free loopback ports,
// starts a process with its environment and arguments, waits for its
// /healthz, and stops, kills or restarts it. Every process it starts is
// killed by a cleanup registered on the test that started it, so a failing
// test leaves no process behind.
//
// A process's output is kept in memory, each line prefixed with the
// process name, and written to the test log only when the test fails or
// runs with -v.
package process
