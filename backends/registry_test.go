package backends_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/engine/core"
)

func TestRegistry(t *testing.T) {
	if got := backends.Names(); !slices.Contains(got, "pebble") || !slices.Contains(got, "duckdb") || !slices.IsSorted(got) {
		t.Fatalf("Names() = %v, want sorted and holding pebble and duckdb", got)
	}
	_, err := backends.Open(context.Background(), "nosuch", backends.Config{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `unknown backend "nosuch" (known: `) || !strings.Contains(err.Error(), "pebble") {
		t.Fatalf("Open(nosuch) = %v, want an error listing the known backends", err)
	}
	for _, tc := range []struct {
		name string
		open backends.OpenFunc
	}{
		{"pebble", func(context.Context, backends.Config) (core.Backend, error) { return nil, nil }},
		{"", func(context.Context, backends.Config) (core.Backend, error) { return nil, nil }},
		{"nilfunc", nil},
	} {
		t.Run("name="+tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("Register(%q) did not panic", tc.name)
				}
			}()
			backends.Register(tc.name, tc.open)
		})
	}
}
