package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// docsPath is the generated reference, relative to this package.
var docsPath = filepath.Join("..", "..", "docs", "config.md")

// rewriting reports whether the test runs with -rewrite (the flag that
// datadriven registers, shared by every golden file).
func rewriting() bool {
	f := flag.Lookup("rewrite")
	return f != nil && f.Value.String() == "true"
}

// TestReferenceUpToDate checks docs/config.md against the spec; run
// go test ./internal/config -rewrite to regenerate it.
func TestReferenceUpToDate(t *testing.T) {
	want := reference()
	if rewriting() {
		if err := os.MkdirAll(filepath.Dir(docsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docsPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatalf("%v (generate it with: go test ./internal/config -rewrite)", err)
	}
	if string(got) != want {
		t.Errorf("%s is out of date with spec.go: run go test ./internal/config -rewrite and commit the result", docsPath)
	}
}

// TestSpecComplete: every field is documented, has a since version and an
// example, and every default has the Go type its kind decodes to.
func TestSpecComplete(t *testing.T) {
	var walk func(path string, f *field)
	walk = func(path string, f *field) {
		if f.kind == kindObject {
			if f.singular == "" {
				t.Errorf("%s: object without a singular name for messages", path)
			}
			seen := map[string]bool{}
			for _, c := range f.fields {
				p := strings.TrimPrefix(path+"."+c.name, ".")
				if seen[c.name] {
					t.Errorf("%s declared twice", p)
				}
				seen[c.name] = true
				if c.doc == "" || c.example == "" || c.since == "" {
					t.Errorf("%s: needs doc, example and since", p)
				}
				if c.required && c.def != nil {
					t.Errorf("%s: a required field has no default", p)
				}
				if c.def != nil {
					ok := false
					switch c.kind {
					case kindString:
						_, ok = c.def.(string)
					case kindInt:
						_, ok = c.def.(int)
					case kindBool:
						_, ok = c.def.(bool)
					case kindDuration:
						_, ok = c.def.(time.Duration)
					case kindList:
						_, ok = c.def.([]string)
					}
					if !ok {
						t.Errorf("%s: default %v (%T) does not fit kind %s", p, c.def, c.def, c.kind)
					}
				}
				walk(p, c)
			}
		}
		if f.kind == kindList {
			if f.elem == nil {
				t.Fatalf("%s: list without elem", path)
			}
			walk(path+"[]", f.elem)
		}
	}
	walk("", spec)
}

// TestExampleLoads: the example shown in the reference is a valid deployment.
func TestExampleLoads(t *testing.T) {
	d, err := Parse(filepath.Join("testdata", "strata.yaml"), []byte(Example), WithEnv(fakeEnv(nil)))
	if err != nil {
		t.Fatalf("the reference example has problems:\n%v", err)
	}
	if len(d.Sources) != 2 || len(d.Views) != 1 || len(d.Sinks) != 1 || len(d.UDFs) != 1 {
		t.Fatalf("example loaded as %+v", d)
	}
	if got := d.Sources[0].Options["brokers"]; len(got.([]any)) != 1 || got.([]any)[0] != "127.0.0.1:9092" {
		t.Errorf("brokers = %v, want the ${KAFKA_BROKERS:-...} default", got)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 10 * time.Second: "10s", 500 * time.Millisecond: "500ms",
		time.Minute: "1m", 90 * time.Second: "1m30s", time.Hour: "1h", 2*time.Hour + 30*time.Second: "2h0m30s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
