// Package nexmark holds the Nexmark queries q0–q22 as Strata SQL, one file
// each (q0.sql .. q22.sql, embedded), and what `strata bench nexmark` needs
// to check and report them. docs/nexmark.md lists the queries, their status
// and their deviations from the standard.
//
// A query file starts with a comment: what the query computes, the standard
// it follows (the nexmark/nexmark Flink suite, RisingWave's variants) and
// any deviation with its reason. A query Strata cannot run yet keeps its
// standard form and says so in a line
//
//	-- status: unsupported: <the planner's message>
//
// which TestQueriesPlanOrSayWhy checks against the planner, so the list
// stays honest. After the SQL, a line starting "-- oracle:" may begin
// DuckDB's spelling of the same query, for the window table functions
// (TUMBLE, HOP, SESSION) DuckDB lacks.
//
// Entry points: Queries and Lookup read the files; Relations gives the
// catalog a query plans against (the three Nexmark tables and q13's side
// input). NewOracle loads the generated events into an in-memory DuckDB to
// run a query as a batch (it needs -tags duckdb_arrow and cgo; otherwise
// it returns ErrNoOracle); ReadRows and Diff compare two results as
// multisets of rows, numbers equal within Tolerance. Latencies turns
// per-epoch commits into event-latency quantiles; ReadUsage reads the
// process's CPU time and peak RSS.
//
// Concurrency: an Oracle and a Latencies are used by one goroutine;
// everything else is safe for concurrent use. Ownership: ReadRows drains
// but does not Release the reader it is given.
package nexmark
