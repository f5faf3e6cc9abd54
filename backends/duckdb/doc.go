// Package duckdb is the DuckDB storage backend ("duckdb"): every view is a
// table users query with ad-hoc, read-only SQL.
//
// Entry points: Open (or backends.Open(ctx, "duckdb", cfg) after importing
// this package), then the core.Backend methods, Query (core.Querier) and
// Lookup (core.KeyLookup, a convenience: Pebble is the backend built for
// point lookups).
//
// The implementation needs cgo and the duckdb_arrow build tag (for DuckDB's
// Arrow interface). Without them the package still compiles and registers
// "duckdb", but Open fails with an error wrapping ErrUnavailable.
//
// # Layout
//
// One database file, Config.Dir/strata.duckdb, holding
//
//   - one table per view, named like the view and typed from its columns
//     (BOOLEAN, INTEGER, BIGINT, DOUBLE, VARCHAR, BLOB, DATE, TIMESTAMP), so
//     users write SELECT * FROM my_view; a view without key columns is a
//     multiset and holds one table row per copy;
//   - _strata_epoch, one row: the committed epoch (BIGINT) and its offsets
//     (VARCHAR, core.Offsets JSON);
//   - _strata_views: each view's name and definition (JSON), to detect a
//     definition that changed (core.ErrSchemaMismatch).
//
// View names starting with "_strata_" and columns named "rowid" are
// reserved.
//
// # Applying an epoch
//
// Apply runs one transaction on a dedicated writer connection. For each view
// it registers the epoch's changelog batches as a temporary Arrow view
// (DuckDB's Arrow scan, zero-copy, through the C data interface), copies them
// once into a per-view temporary staging table (an Arrow stream can be
// scanned only once, and each view needs two set-based statements over it),
// and then
//
//   - keyed views: deletes every stored row whose key (compared with IS NOT
//     DISTINCT FROM, so NULL keys match) appears in the epoch with a
//     non-zero weight, then inserts the rows with a positive weight; this is
//     an upsert that does not depend on the order of a -old/+new pair, the
//     same outcome as Pebble's. The delete is a hash semi-join that scans
//     the view's key columns, so its cost grows with the table (columnar and
//     fast, but not O(changes): there is no index, since keys may be NULL);
//   - multiset views: sums the weights per distinct row, inserts n copies of
//     each row with a positive sum and deletes n copies (by rowid) of each
//     row with a negative sum.
//
// The same transaction updates _strata_epoch, so an epoch is visible entirely
// or not at all. Epochs at or below the committed one are skipped.
//
// # Concurrency
//
// Apply, EnsureView and Close are called from one goroutine. Query, Lookup
// and Committed may be called from any goroutine concurrently with them:
// each query runs on its own connection in a read-only transaction that also
// reads _strata_epoch, so the answer and the epoch reported with it belong
// together (DuckDB's MVCC: readers never block the writer, nor it them).
// After Close, every method returns backends.ErrClosed; readers still open
// stay usable until released.
//
// # Read-only mode
//
// With Config.ReadOnly the file is opened with access_mode=read_only, so the
// CLI can query a data directory while no engine runs; Apply and EnsureView
// return core.ErrReadOnly.
//
// # Ownership
//
// Batches passed to Apply are borrowed: they are exported to DuckDB for the
// duration of the call and released before it returns. The reader Query
// returns is owned by the caller, who must Release it; it holds a connection
// and a transaction until then. Rows returned by Lookup are owned by the
// caller.
//
// # Options
//
// Config.Options accepts "threads" (int) and "memory_limit" (string, e.g.
// "2GB"), passed to DuckDB.
package duckdb
