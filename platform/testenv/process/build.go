package process

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// builds holds one entry per package path, so parallel tests that ask for
// the same binary wait for a single go build.
var (
	buildsMu sync.Mutex
	builds   = map[string]*buildResult{}
	binDir   struct {
		once sync.Once
		path string
		err  error
	}
)

type buildResult struct {
	once   sync.Once
	binary string
	err    error
}

// Build returns the path of the binary built from the package pkg (an
// import path such as github.com/peroxo/peroxo/chatsvc/cmd/chatsvc) of the
// workspace around the test's working directory. The first call for a
// package runs go build; later calls, from any goroutine, reuse its
// result. The binaries live in one temporary directory per test process,
// which [RunTests] removes.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	buildsMu.Lock()
	result, found := builds[pkg]
	if !found {
		result = &buildResult{}
		builds[pkg] = result
	}
	buildsMu.Unlock()
	result.once.Do(func() { result.binary, result.err = build(pkg) })
	if result.err != nil {
		tb.Fatal(result.err)
	}
	return result.binary
}

func build(pkg string) (string, error) {
	binDir.once.Do(func() {
		binDir.path, binDir.err = os.MkdirTemp("", "peroxo-testbin-")
	})
	if binDir.err != nil {
		return "", fmt.Errorf("create binary directory: %w", binDir.err)
	}
	// Packages with the same last element, such as two cmd/server, get
	// distinct files.
	name := path.Base(pkg) + "-" + strings.NewReplacer("/", "_", ".", "_").Replace(pkg)
	binary := filepath.Join(binDir.path, name)
	command := exec.Command("go", "build", "-o", binary, pkg)
	output, err := command.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, output)
	}
	return binary, nil
}

// RunTests runs the tests of m and removes the binaries [Build] made. Call
// it from TestMain: os.Exit(process.RunTests(m)).
func RunTests(m *testing.M) int {
	code := m.Run()
	if binDir.path != "" {
		os.RemoveAll(binDir.path)
	}
	return code
}
