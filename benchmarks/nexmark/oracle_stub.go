//go:build !duckdb_arrow || !cgo

package nexmark

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow/memory"

	gen "github.com/stratadb/strata/connect/nexmark"
)

// ErrNoOracle: the binary was built without DuckDB's Arrow interface
// (build with -tags duckdb_arrow and cgo).
var ErrNoOracle = errors.New("nexmark: the DuckDB oracle needs a build with -tags duckdb_arrow and cgo")

// Oracle is unavailable in this build.
type Oracle struct{}

// NewOracle returns ErrNoOracle in this build.
func NewOracle(context.Context, memory.Allocator, *gen.Generator, int64, []string) (*Oracle, error) {
	return nil, ErrNoOracle
}

// Query returns ErrNoOracle.
func (*Oracle) Query(context.Context, string) ([]Row, error) { return nil, ErrNoOracle }

// Close does nothing.
func (*Oracle) Close() error { return nil }
