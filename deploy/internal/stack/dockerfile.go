package stack

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// DockerfileStage is one build stage of a Dockerfile.
type DockerfileStage struct {
	// Name is the stage name after AS, the --target of a build.
	Name string
	// Env holds the variables its ENV instructions set.
	Env map[string]string
	// Expose lists the EXPOSE arguments, such as "8080".
	Expose []string
	// Healthcheck is the HEALTHCHECK instruction without its keyword.
	Healthcheck string
}

// ReadDockerfile returns the named stages of a Dockerfile. It understands
// the instructions this repository uses (FROM ... AS, ENV key=value,
// EXPOSE, HEALTHCHECK) and line continuations, not the whole syntax.
func ReadDockerfile(path string) (map[string]*DockerfileStage, error) {
	lines, err := readInstructions(path)
	if err != nil {
		return nil, err
	}
	stages := make(map[string]*DockerfileStage)
	var current *DockerfileStage
	for _, line := range lines {
		keyword, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(keyword) {
		case "FROM":
			current = &DockerfileStage{Env: make(map[string]string)}
			fields := strings.Fields(rest)
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				current.Name = fields[2]
				stages[current.Name] = current
			}
		case "ENV":
			if current == nil {
				return nil, fmt.Errorf("read %s: ENV before FROM", path)
			}
			for _, pair := range strings.Fields(rest) {
				key, value, ok := strings.Cut(pair, "=")
				if !ok {
					return nil, fmt.Errorf("read %s: ENV %q is not key=value", path, pair)
				}
				current.Env[key] = value
			}
		case "EXPOSE":
			if current != nil {
				current.Expose = append(current.Expose, strings.Fields(rest)...)
			}
		case "HEALTHCHECK":
			if current != nil {
				current.Healthcheck = rest
			}
		}
	}
	return stages, nil
}

// readInstructions returns the instructions of a Dockerfile, one a line,
// with continuation lines joined and comments dropped.
func readInstructions(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read dockerfile: %w", err)
	}
	defer file.Close()
	var instructions []string
	var pending strings.Builder
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if continued, ok := strings.CutSuffix(line, "\\"); ok {
			pending.WriteString(continued)
			pending.WriteString(" ")
			continue
		}
		pending.WriteString(line)
		instructions = append(instructions, pending.String())
		pending.Reset()
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return instructions, nil
}
