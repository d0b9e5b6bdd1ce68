package stack

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	project, err := LoadCompose(t.Context(), repoRoot(t), map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	return project
}

func TestComposeHasStack(t *testing.T) {
	project := loadProject(t)
	if project.Name != "peroxo" {
		t.Errorf("project name = %q, want peroxo", project.Name)
	}
	want := []string{"gateway", "authsvc", "chatsvc", "consumer",
		"nats", "scylla", "postgres", "redis", "prometheus", "grafana"}
	for _, name := range want {
		if _, ok := project.Services[name]; !ok {
			t.Errorf("compose file has no service %s", name)
		}
	}
}

func TestComposeHealthchecks(t *testing.T) {
	project := loadProject(t)
	for name, service := range project.Services {
		check := service.HealthCheck
		if check == nil || check.Disable || len(check.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
		for dependency, condition := range service.DependsOn {
			if condition.Condition != types.ServiceConditionHealthy {
				t.Errorf("service %s depends on %s with condition %q, want %s",
					name, dependency, condition.Condition, types.ServiceConditionHealthy)
			}
		}
	}
}

func TestComposeVolumes(t *testing.T) {
	project := loadProject(t)
	dataPaths := map[string]string{
		"gateway": "/data", "authsvc": "/data", "chatsvc": "/data", "consumer": "/data",
		"nats": "/data", "scylla": "/var/lib/scylla", "postgres": "/var/lib/postgresql/data",
		"redis": "/data", "prometheus": "/prometheus", "grafana": "/var/lib/grafana",
	}
	for name, target := range dataPaths {
		service := project.Services[name]
		index := slices.IndexFunc(service.Volumes, func(volume types.ServiceVolumeConfig) bool {
			return volume.Target == target
		})
		if index < 0 {
			t.Errorf("service %s mounts nothing on %s", name, target)
			continue
		}
		if volume := service.Volumes[index]; volume.Type != types.VolumeTypeVolume {
			t.Errorf("service %s mounts a %s on %s, want a named volume", name, volume.Type, target)
		}
	}
	for name, service := range project.Services {
		for _, volume := range service.Volumes {
			if volume.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(volume.Source); err != nil {
				t.Errorf("service %s binds %s, which is missing: %v", name, volume.Source, err)
			}
		}
	}
}

func TestComposeServiceImages(t *testing.T) {
	root := repoRoot(t)
	project := loadProject(t)
	for name, want := range Services {
		t.Run(name, func(t *testing.T) {
			service := project.Services[name]
			if service.Build == nil {
				t.Fatalf("service %s has no build section", name)
			}
			dockerfile := filepath.Join(service.Build.Context, service.Build.Dockerfile)
			stages, err := ReadDockerfile(dockerfile)
			if err != nil {
				t.Fatal(err)
			}
			stage, ok := stages[service.Build.Target]
			if !ok {
				t.Fatalf("%s has no stage %q for service %s", dockerfile, service.Build.Target, name)
			}
			settings, err := ReadSettings(root, want.Module)
			if err != nil {
				t.Fatal(err)
			}
			port := strconv.Itoa(want.Port)
			checkEnvironment(t, "image "+stage.Name, stage.Env, settings, port)
			if !slices.Contains(stage.Expose, port) {
				t.Errorf("image %s exposes %v, want %s", stage.Name, stage.Expose, port)
			}
			healthURL := "http://127.0.0.1:" + port + "/healthz"
			if !strings.Contains(stage.Healthcheck, healthURL) {
				t.Errorf("image %s HEALTHCHECK %q does not request %s",
					stage.Name, stage.Healthcheck, healthURL)
			}
			if !slices.Contains(service.HealthCheck.Test, healthURL) {
				t.Errorf("service %s healthcheck %q does not request %s",
					name, service.HealthCheck.Test, healthURL)
			}
			environment := make(map[string]string)
			for key, value := range service.Environment {
				if value != nil {
					environment[key] = *value
				}
			}
			checkEnvironment(t, "service "+name, environment, settings, port)
			checkServiceURLs(t, project, name, environment)
		})
	}
}

// checkEnvironment checks that every PEROXO_ variable is a setting the
// service reads and that the service listens on all interfaces on port.
func checkEnvironment(
	t *testing.T,
	where string,
	environment map[string]string,
	settings map[string]bool,
	port string,
) {
	t.Helper()
	listens := false
	for key, value := range environment {
		if !strings.HasPrefix(key, "PEROXO_") {
			continue
		}
		if !settings[key] {
			t.Errorf("%s sets %s, which the service does not read", where, key)
		}
		if strings.HasSuffix(key, "_ADDR") && !strings.HasSuffix(key, "_LISTEN_ADDR") {
			listens = true
			if value != "0.0.0.0:"+port {
				t.Errorf("%s sets %s=%q, want 0.0.0.0:%s", where, key, value, port)
			}
		}
	}
	if !listens {
		t.Errorf("%s sets no listen address 0.0.0.0:%s", where, port)
	}
}

// checkServiceURLs checks that every URL setting that names a compose
// service names one that exists, on the port that service listens on.
func checkServiceURLs(t *testing.T, project *types.Project, name string, environment map[string]string) {
	t.Helper()
	for key, value := range environment {
		if !strings.HasSuffix(key, "_URL") || value == "" {
			continue
		}
		parsed, err := url.Parse(value)
		if err != nil {
			t.Errorf("service %s sets %s=%q, not a URL: %v", name, key, value, err)
			continue
		}
		if _, ok := project.Services[parsed.Hostname()]; !ok {
			t.Errorf("service %s sets %s to host %q, which is no compose service",
				name, key, parsed.Hostname())
		}
		target, ok := Services[parsed.Hostname()]
		if ok && parsed.Port() != strconv.Itoa(target.Port) {
			t.Errorf("service %s sets %s to port %q, but %s listens on %d",
				name, key, parsed.Port(), parsed.Hostname(), target.Port)
		}
	}
}

func TestComposeBackends(t *testing.T) {
	project := loadProject(t)
	// Each of these settings moves a service off its embedded default.
	want := map[string]map[string]string{
		"gateway":  {"PEROXO_GATEWAY_NATS_URL": "nats://nats:4222"},
		"authsvc":  {"PEROXO_AUTH_TENANT_STORE": "postgres", "PEROXO_AUTH_TOKEN_STORE": "redis"},
		"chatsvc":  {"PEROXO_CHAT_CQL_HOSTS": "scylla:9042"},
		"consumer": {"PEROXO_CONSUMER_NATS_URL": "nats://nats:4222"},
	}
	for name, settings := range want {
		environment := project.Services[name].Environment
		for key, value := range settings {
			got := environment[key]
			if got == nil || *got != value {
				t.Errorf("service %s: %s = %s, want %q", name, key, describe(got), value)
			}
		}
	}
}

func describe(value *string) string {
	if value == nil {
		return "unset"
	}
	return fmt.Sprintf("%q", *value)
}

func splitTarget(address string) (string, string, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", "", fmt.Errorf("target %q is not host:port: %w", address, err)
	}
	return host, port, nil
}
