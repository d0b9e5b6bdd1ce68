package stack

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// metricNamePattern matches the metric names this project uses: lower
// snake case with at least one underscore, as Prometheus recommends.
var metricNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)+$`)

// SourceMetricNames returns every string literal shaped like a metric name
// in the non-test Go files under the given folders of root. Collectors are
// declared with literal names, so a dashboard series whose family is not in
// this set is exported by none of these folders.
func SourceMetricNames(root string, folders ...string) (map[string]bool, error) {
	names := make(map[string]bool)
	fileSet := token.NewFileSet()
	for _, folder := range folders {
		err := filepath.WalkDir(filepath.Join(root, folder),
			func(path string, entry fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				name := entry.Name()
				if entry.IsDir() || !strings.HasSuffix(name, ".go") ||
					strings.HasSuffix(name, "_test.go") {
					return nil
				}
				file, err := parser.ParseFile(fileSet, path, nil, parser.SkipObjectResolution)
				if err != nil {
					return err
				}
				ast.Inspect(file, func(node ast.Node) bool {
					literal, ok := node.(*ast.BasicLit)
					if !ok || literal.Kind != token.STRING {
						return true
					}
					value, err := strconv.Unquote(literal.Value)
					if err == nil && metricNamePattern.MatchString(value) {
						names[value] = true
					}
					return true
				})
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("read metric names under %s: %w", folder, err)
		}
	}
	return names, nil
}
