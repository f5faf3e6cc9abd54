//go:build !duckdb_arrow || !cgo

package duckdb

import (
	"context"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/engine/core"
)

// Name is the name the backend registers under.
const Name = "duckdb"

func init() {
	backends.Register(Name, func(context.Context, backends.Config) (core.Backend, error) {
		return nil, ErrUnavailable
	})
}
