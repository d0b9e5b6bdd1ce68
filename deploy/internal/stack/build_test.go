package stack

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildPackagePattern matches the package arguments of the Dockerfile's
// go build, such as ./gateway/cmd/gateway.
var buildPackagePattern = regexp.MustCompile(`\./[a-z]+/cmd/[a-z]+`)

// TestDockerfileBuildsStaticBinaries runs the builder stage's go build
// outside Docker, with the same flags, and checks that every binary an
// image copies is built and statically linked, because the distroless
// static image has no C library.
func TestDockerfileBuildsStaticBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every service")
	}
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "deploy/docker/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	packages := buildPackagePattern.FindAllString(string(data), -1)
	if len(packages) == 0 {
		t.Fatal("the Dockerfile builds no ./<module>/cmd/<name> package")
	}
	out := t.TempDir()
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", out + "/"}, packages...)
	command := exec.CommandContext(t.Context(), "go", args...)
	command.Dir = root
	command.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := command.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, output)
	}

	copied := regexp.MustCompile(`COPY --from=builder /out/([a-z]+) `).
		FindAllStringSubmatch(string(data), -1)
	if len(copied) != len(Services)+1 {
		t.Errorf("the images copy %d binaries, want the %d services and healthcheck",
			len(copied), len(Services))
	}
	for _, match := range copied {
		checkStatic(t, filepath.Join(out, match[1]))
	}
}

func checkStatic(t *testing.T, path string) {
	t.Helper()
	binary, err := elf.Open(path)
	if err != nil {
		t.Errorf("open %s: %v", filepath.Base(path), err)
		return
	}
	defer binary.Close()
	for _, program := range binary.Progs {
		if program.Type == elf.PT_INTERP || program.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked", filepath.Base(path))
			return
		}
	}
}
