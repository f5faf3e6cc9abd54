// Package lint checks the project's import rules and grep rules; each
// finding names the file, the rule and the fix.
package lint

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/stratadb/strata/"

// rules: packages under a prefix must not import these paths.
var rules = []struct {
	under     string
	forbidden []string
	why       string
}{
	{"engine", []string{module + "backends", module + "connect", module + "plans", module + "udf", module + "cmd",
		"github.com/duckdb/", "github.com/twmb/franz-go", "github.com/tetratelabs/wazero"},
		"the engine knows sources and backends only through engine/core contracts; pass them in from cmd"},
	{"engine/core", []string{module}, "engine/core is the leaf package: it imports nothing of ours"},
	{"connect", []string{module + "plans", module + "backends", module + "cmd"}, "connectors depend only on engine/core"},
	{"backends", []string{module + "plans", module + "connect", module + "cmd"}, "backends depend only on engine/core"},
	{"udf", []string{module + "plans", module + "connect", module + "backends", module + "cmd"}, "udf depends only on engine/core"},
}

func repoRoot(t *testing.T) string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

func TestImportRules(t *testing.T) {
	root := repoRoot(t)
	checked := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		isTest := strings.HasSuffix(path, "_test.go")
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, r := range rules {
				if !strings.HasPrefix(rel, r.under+"/") {
					continue
				}
				if r.under == "engine" && strings.HasPrefix(rel, "engine/core/") {
					continue // engine/core has its own, stricter rule
				}
				for _, bad := range r.forbidden {
					// External tests (package x_test) import the package
					// they test and the test helpers.
					if isTest && (strings.HasPrefix(p, module+"internal/") || p == module+filepath.ToSlash(filepath.Dir(rel))) {
						continue
					}
					if strings.HasPrefix(p, bad) && !(r.under == "engine" && strings.HasPrefix(p, module+"engine")) {
						t.Errorf("%s: imports %s; %s", rel, p, r.why)
					}
				}
			}
			if !isTest && p == "github.com/apache/arrow-go/v18/arrow/memory" && !strings.HasPrefix(rel, "cmd/") {
				src, _ := os.ReadFile(path)
				if strings.Contains(string(src), "memory.DefaultAllocator") {
					t.Errorf("%s: uses memory.DefaultAllocator; take an allocator through an option (STYLE §5)", rel)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files; the walk is broken", checked)
	}
}
