// Package all registers every storage backend Strata ships: importing it for
// its side effects makes "pebble", "duckdb" and "postgres" available to
// backends.Open.
//
//	import _ "github.com/stratadb/strata/backends/all"
//
// Binaries that want fewer backends (no cgo, say) import the implementations
// they need instead. The package has no API, no state and no goroutines.
package all

import (
	_ "github.com/stratadb/strata/backends/duckdb"   // registers "duckdb"
	_ "github.com/stratadb/strata/backends/pebble"   // registers "pebble"
	_ "github.com/stratadb/strata/backends/postgres" // registers "postgres"
)
