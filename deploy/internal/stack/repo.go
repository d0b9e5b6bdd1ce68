package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Services maps each PerOXO service, named as in docker-compose.yaml, to
// its Go module folder and the port it listens on.
var Services = map[string]Service{
	"gateway":  {Module: "gateway", Port: 8080},
	"authsvc":  {Module: "authsvc", Port: 8081},
	"chatsvc":  {Module: "chatsvc", Port: 8082},
	"consumer": {Module: "consumer", Port: 8083},
}

// Service describes one PerOXO service.
type Service struct {
	// Module is the workspace folder of the service's Go module.
	Module string
	// Port is the default port of the service's listen address.
	Port int
}

// FindRoot returns the repository root: the nearest folder at or above dir
// that contains go.work.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		_, err := os.Stat(filepath.Join(dir, "go.work"))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find repository root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.work above the working directory")
		}
		dir = parent
	}
}
