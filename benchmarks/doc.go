// Package benchmarks holds Strata's end-to-end workloads: a deployment's
// whole path (source -> plan -> operators -> backends) measured as one
// number. Micro-benchmarks sit next to the code they measure
// (engine, connect/*, backends/*); `make bench` runs both.
//
// BenchmarkIngest runs a generated stream through a GROUP BY view into
// Pebble and DuckDB, committing an epoch per 64k rows, and reports rows/s.
// benchmarks/nexmark holds the Nexmark queries q0-q22 that `strata bench
// nexmark` runs and checks against DuckDB; the peers' runs are to come.
package benchmarks
