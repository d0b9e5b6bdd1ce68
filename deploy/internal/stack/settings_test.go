package stack

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadSettingsServices(t *testing.T) {
	root := repoRoot(t)
	for name, service := range Services {
		t.Run(name, func(t *testing.T) {
			names, err := ReadSettings(root, service.Module)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"PEROXO_LOG_LEVEL", "PEROXO_LOG_FORMAT"} {
				if !names[want] {
					t.Errorf("settings of %s lack %s from platform/logging", name, want)
				}
			}
		})
	}
}

func TestReadSettingsNested(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "svc/internal/config/config.go", `package config

import (
	"time"

	lg "github.com/peroxo/peroxo/lib/logsettings"
)

type Config struct {
	Log    lg.Settings
	Store  *storeSettings `+"`envPrefix:\"PEROXO_SVC_STORE_\"`"+`
	Addr   string        `+"`env:\"PEROXO_SVC_ADDR,required\" envDefault:\"x\"`"+`
	Hidden int
	Wait   time.Duration `+"`env:\"PEROXO_SVC_WAIT\"`"+`
}

type storeSettings struct {
	URL string `+"`env:\"URL\"`"+`
}
`)
	writeFile(t, root, "lib/logsettings/settings.go", `package logsettings

type Settings struct {
	Level string `+"`env:\"PEROXO_LOG_LEVEL\"`"+`
}
`)
	writeFile(t, root, "lib/logsettings/settings_test.go", `package logsettings

type ignored struct {
	X string `+"`env:\"PEROXO_TEST_ONLY\"`"+`
}
`)
	names, err := ReadSettings(root, "svc")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PEROXO_LOG_LEVEL", "PEROXO_SVC_STORE_URL", "PEROXO_SVC_ADDR",
		"PEROXO_SVC_WAIT"}
	for _, name := range want {
		if !names[name] {
			t.Errorf("ReadSettings lacks %s; got %v", name, names)
		}
	}
	if len(names) != len(want) {
		t.Errorf("ReadSettings returned %d names %v, want %d", len(names), names, len(want))
	}
}

func TestReadSettingsMissingConfig(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "svc/internal/config/config.go", "package config\n\ntype Other struct{}\n")
	if _, err := ReadSettings(root, "svc"); err == nil {
		t.Fatal("ReadSettings succeeded without a Config struct")
	}
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func writeFile(t testing.TB, root, name, content string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
