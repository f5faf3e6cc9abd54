// Package config loads and checks Strata deployment files (strata.yaml).
//
// A deployment file is checked against a declared spec (spec.go): every key
// has a name, a kind (string, int, bool, duration, list, map, object),
// whether it is required or its default, an example, a description and the
// version it appeared in. The spec is the single source of truth: it drives
// the generic checks (unknown keys with "did you mean", wrong kinds, missing
// required keys, enums), fills defaults, and renders the reference
// docs/config.md (regenerate with go test ./internal/config -rewrite; the
// normal test run fails when it is stale). What the spec cannot express is
// checked in build.go: identifiers, the namespace sources and views share,
// column types (core.ParseType), event-time columns, primary keys, storage
// names, sinks that must read views, UDF paths, host:port addresses and,
// given WithConnectors, each connector's name and options.
//
// Entry points: Load reads a file, Parse checks bytes. Both return the
// Deployment and, when anything is wrong, a Problems error listing every
// problem found (never only the first), sorted by position, each as
// file:line:col: message (hint). The Deployment is returned even then,
// built as far as the problems allow, so callers (strata validate) can go
// on to check SQL and report those problems too; View.SQLPos maps an offset
// in a view's SQL back to the file.
//
// Conventions a deployment file follows: names are folded to lower case
// (as Postgres folds unquoted identifiers); relative paths resolve against
// the file's directory; ${VAR} and ${VAR:-default} in string values read
// the environment (WithEnv, default os.LookupEnv), except in SQL; top-level
// keys starting with x- are ignored so they can hold YAML anchors; positions
// of keys left out are those of the enclosing item.
//
// Concurrency: Load and Parse may run concurrently; options are not
// mutated. A Deployment is read-only after Load returns and may be shared by
// goroutines; its maps and slices must not be modified.
package config
