package stack

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// workspaceModulePrefix is the import path prefix of the workspace modules;
// the folder of such a package is its path below the repository root.
const workspaceModulePrefix = "github.com/peroxo/peroxo/"

// ReadSettings returns the names of the environment variables that a
// service's settings struct reads: the `env` tags of the Config struct in
// <module>/internal/config and of the struct types its fields use, in that
// package or in other workspace packages such as platform/logging.
//
// It parses the source rather than importing it because internal packages
// cannot be imported from another module. It follows the struct options of
// github.com/caarlos0/env: a field with an `envPrefix` tag prefixes the
// names of its nested fields.
func ReadSettings(root, module string) (map[string]bool, error) {
	reader := &settingsReader{root: root, packages: make(map[string]*sourcePackage)}
	importPath := workspaceModulePrefix + module + "/internal/config"
	names := make(map[string]bool)
	if err := reader.collect(importPath, "Config", "", names, 0); err != nil {
		return nil, fmt.Errorf("read settings of %s: %w", module, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("read settings of %s: Config has no env tags", module)
	}
	return names, nil
}

// sourcePackage is one parsed package: its type declarations and, for each
// file, the import path of each import name.
type sourcePackage struct {
	types   map[string]*ast.StructType
	imports map[string]map[string]string // type name -> import name -> path
}

type settingsReader struct {
	root     string
	packages map[string]*sourcePackage
}

// maxStructDepth bounds the recursion through nested settings structs.
const maxStructDepth = 8

func (r *settingsReader) collect(
	importPath, typeName, prefix string,
	names map[string]bool,
	depth int,
) error {
	if depth > maxStructDepth {
		return fmt.Errorf("struct %s.%s nests deeper than %d levels",
			importPath, typeName, maxStructDepth)
	}
	pkg, err := r.load(importPath)
	if err != nil {
		return err
	}
	structType, ok := pkg.types[typeName]
	if !ok {
		return fmt.Errorf("struct type %s not found in %s", typeName, importPath)
	}
	for _, field := range structType.Fields.List {
		tag := fieldTag(field)
		if name, _, _ := strings.Cut(tag.Get("env"), ","); name != "" {
			names[prefix+name] = true
			continue
		}
		nestedPath, nestedType, ok := structReference(field.Type, importPath,
			pkg.imports[typeName])
		if !ok {
			continue
		}
		nested, err := r.load(nestedPath)
		if err != nil {
			return err
		}
		if _, ok := nested.types[nestedType]; !ok {
			continue // a predeclared or non-struct type such as string
		}
		err = r.collect(nestedPath, nestedType, prefix+tag.Get("envPrefix"), names, depth+1)
		if err != nil {
			return err
		}
	}
	return nil
}

func fieldTag(field *ast.Field) reflect.StructTag {
	if field.Tag == nil {
		return ""
	}
	tag, err := strconv.Unquote(field.Tag.Value)
	if err != nil {
		return ""
	}
	return reflect.StructTag(tag)
}

// structReference resolves a field type that names a struct in a workspace
// package, through pointers, to its import path and type name.
func structReference(
	expr ast.Expr,
	importPath string,
	imports map[string]string,
) (string, string, bool) {
	switch typed := expr.(type) {
	case *ast.StarExpr:
		return structReference(typed.X, importPath, imports)
	case *ast.Ident:
		return importPath, typed.Name, true
	case *ast.SelectorExpr:
		pkgName, ok := typed.X.(*ast.Ident)
		if !ok {
			return "", "", false
		}
		path, ok := imports[pkgName.Name]
		if !ok || !strings.HasPrefix(path, workspaceModulePrefix) {
			return "", "", false
		}
		return path, typed.Sel.Name, true
	}
	return "", "", false
}

// load parses the non-test Go files of a workspace package once.
func (r *settingsReader) load(importPath string) (*sourcePackage, error) {
	if pkg, ok := r.packages[importPath]; ok {
		return pkg, nil
	}
	dir := filepath.Join(r.root, filepath.FromSlash(
		strings.TrimPrefix(importPath, workspaceModulePrefix)))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read package %s: %w", importPath, err)
	}
	pkg := &sourcePackage{
		types:   make(map[string]*ast.StructType),
		imports: make(map[string]map[string]string),
	}
	fileSet := token.NewFileSet()
	for _, entry := range entries {
		name := entry.Name()
		if entry.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fileSet, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		fileImports := importNames(file)
		for _, decl := range file.Decls {
			general, ok := decl.(*ast.GenDecl)
			if !ok || general.Tok != token.TYPE {
				continue
			}
			for _, spec := range general.Specs {
				typeSpec := spec.(*ast.TypeSpec)
				if structType, ok := typeSpec.Type.(*ast.StructType); ok {
					pkg.types[typeSpec.Name.Name] = structType
					pkg.imports[typeSpec.Name.Name] = fileImports
				}
			}
		}
	}
	r.packages[importPath] = pkg
	return pkg, nil
}

// importNames maps each import name of file to its path. An import without
// an explicit name is known by the last element of its path, which holds for
// every workspace package.
func importNames(file *ast.File) map[string]string {
	names := make(map[string]string)
	for _, spec := range file.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if spec.Name != nil {
			name = spec.Name.Name
		}
		names[name] = path
	}
	return names
}
