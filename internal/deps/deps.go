// Package deps pins modules the project requires before code imports them:
// wazero is the runtime of the WASM UDF host (udf/), pgx the driver of the
// Postgres backend. Remove an import here once real code imports the module.
package deps

import (
	_ "github.com/jackc/pgx/v5"
	_ "github.com/tetratelabs/wazero"
)
