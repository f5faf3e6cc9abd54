// Package difftest proves Strata's incremental views against DuckDB.
//
// Generate makes a random change stream over Relations, deterministic for a
// seed: two streams (events, payments: appends only, event times mostly
// increasing with out-of-order jitter of at most MaxJitter) and a keyed
// table (users: inserts, updates as -old/+new pairs, deletes), with NULLs in
// every nullable column, hot keys and small domains so groups and joins
// collide. Cut splits the stream into epochs of random sizes (sometimes
// empty, often a handful of rows, sometimes a few hundred).
//
// Run drives one query the way the engine does: a fresh dataflow per view
// (upstream views first, their output pushed into the views that read
// them), per epoch the watermark as the epoch begins, the epoch's changes
// as batches of random sizes sliced out of larger batches (so arrays have
// offsets and junk rows sit just outside them), the relations interleaved
// at random, the watermark after the batches (newest event time minus
// Delay), then EndEpoch; RunFinal is the final epoch of --until-idle. The
// output changelog is folded into a materialised multiset, and after every
// epoch Run checks the invariants: no row count below zero; for a keyed view
// at most one row per key and a consolidated epoch output (per key at most
// one retraction and one insertion); every batch a well-formed changelog of
// the planned columns.
//
// The tests (diff_test.go needs the duckdb_arrow build tag):
//
//   - TestDiff keeps the input prefix in DuckDB (streams appended, a
//     table's touched keys replaced) and after every epoch compares the view
//     with DuckDB evaluating the query (Query.Oracle when DuckDB spells it
//     differently) over the prefix. Values are normalised (Norm) and
//     compared exactly, except doubles, within RelTol. A mismatch prints the
//     query, the seed, the epoch, the rows only on one side and the command
//     that reruns the seed:
//     go test -tags duckdb_arrow ./internal/difftest -run 'TestDiff/q=NAME$' -seed=N
//   - TestMetamorphic needs no oracle: the same changes cut into different
//     epochs and batches end in the same view, and the same seed twice in
//     exactly the same view.
//   - TestEmptyBatches pushes batches without rows (a known bug, logged).
//
// Queries is the table of views; each names the constructs it needs
// (Needs), and Supported, the one place that says which constructs have
// landed, decides: a query runs iff it plans, a query whose needs are all
// supported must plan, and the rest are pending and logged with the count
// of queries run. Flags: -seeds=N (20), -seed=N, -rows=N, -strict.
package difftest
