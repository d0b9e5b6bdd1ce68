package stack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// ComposeFile is the name of the stack's compose file at the repository root.
const ComposeFile = "docker-compose.yaml"

// LoadCompose loads, interpolates and validates the repository's compose
// file against the Compose specification, the way `docker compose config`
// does. Variables in ${...} take their defaults from the file, because
// environment holds only the values given; nil means none.
func LoadCompose(ctx context.Context, root string, environment map[string]string) (*types.Project, error) {
	path := filepath.Join(root, ComposeFile)
	details, err := loader.LoadConfigFiles(ctx, []string{path}, root)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ComposeFile, err)
	}
	details.Environment = environment
	project, err := loader.LoadWithContext(ctx, *details)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", ComposeFile, err)
	}
	return project, nil
}
