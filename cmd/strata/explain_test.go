package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite golden files")

// TestExplainGolden: `strata explain` of every view in testdata/explain.yaml
// against testdata/explain.golden (go test ./cmd/strata -run Explain
// -rewrite regenerates it; review the diff).
func TestExplainGolden(t *testing.T) {
	cfg := filepath.Join("testdata", "explain.yaml")
	d, err := load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, v := range d.cfg.Views {
		b.WriteString(mustStrata(t, "explain", "-c", cfg, v.Name))
		b.WriteString("\n")
	}
	golden := filepath.Join("testdata", "explain.golden")
	if *rewrite {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/strata -run Explain -rewrite)", err)
	}
	if b.String() != string(want) {
		t.Errorf("explain output differs from %s (rerun with -rewrite and review the diff):\n%s", golden, b.String())
	}
}
