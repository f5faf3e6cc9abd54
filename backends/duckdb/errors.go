package duckdb

import "errors"

// ErrUnavailable is returned by Open when the binary was built without cgo
// or without the duckdb_arrow build tag, which the backend needs.
var ErrUnavailable = errors.New("duckdb: backend not built in (build with cgo and -tags duckdb_arrow)")
