//go:build !unix

package embedded

// lockFile does nothing where flock is missing.
// NOTE: two processes opening a new data dir at the same moment can then
// fail with SQLITE_BUSY; start the server before running the CLI.
func lockFile(string) (func(), error) {
	return func() {}, nil
}
