// Package postgres is the Postgres storage backend: every view is a real
// table in a Postgres schema, kept exact by the engine's epochs, so that any
// Postgres client (psql, BI tools, another service's SQL) reads Strata's
// views directly. It registers as "postgres".
//
// # Configuration
//
// The backend's options (backends.Config.Options) are dsn, a libpq
// connection string or URL, and schema (default "public"). `strata run`
// passes no options, so the DSN comes from the environment variable
// STRATA_POSTGRES_DSN when the options carry none:
//
//	STRATA_POSTGRES_DSN=postgres://strata@127.0.0.1:5432/app strata run -c strata.yaml
//
// cfg.Dir is not used: the data lives in the server.
//
// # Layout
//
// In the schema: one table per view, named and typed like the view (bigint,
// integer, double precision, text, bytea, boolean, date, timestamp,
// timestamptz); a keyed view's table has a unique index on its key that
// treats NULLs as equal (UNIQUE NULLS NOT DISTINCT, Postgres 15+; a plain
// index before). A view without a key is a multiset: the table holds one
// row per copy. _strata_epoch holds one row, the committed epoch and its
// source offsets (jsonb); _strata_views the stored view definitions, which
// EnsureView compares with core.ErrSchemaMismatch.
//
// Text cannot hold U+0000 in Postgres: strings with it are stored with
// U+0000 as U+FFFF '0' (and U+FFFF as U+FFFF U+FFFF), which the backend
// reverses on reading. Strings without either character, nearly all, are
// stored as they are.
//
// # Apply
//
// Apply runs one transaction on a dedicated writer connection. It reads
// the epoch row FOR UPDATE and skips an epoch at or below it; then, per
// view, it writes the changelog batches straight from the Arrow columns in
// COPY's binary format into a temporary staging table (ON COMMIT DELETE
// ROWS) and applies them with set-based statements: keyed views delete
// every key the epoch touches (an equality join; keys holding a NULL get an
// IS NOT DISTINCT FROM statement of their own, run only when present) and
// insert the last insertion of each key (DISTINCT ON over the rows' order);
// multisets delete n copies by ctid and insert n copies with
// generate_series. The same transaction updates the epoch row. Nothing is
// ever inserted row by row.
//
// # Crashes and writers
//
// The writer connection holds a session advisory lock on the schema for
// the backend's life. A second writer waits (then fails with ErrLocked); a
// process restarted after kill -9 waits until the server has ended the dead
// session, whose last transaction is then committed or rolled back, so the
// epoch Committed reports is final before recovery uses it.
//
// # Reads
//
// Lookup and Scan run in a REPEATABLE READ, READ ONLY transaction on a
// pooled read connection that also reads the epoch row, so a row and the
// epoch reported with it always match, and readers never block Apply.
// Read-only mode (the CLI with no engine running) opens no writer and takes
// no lock.
//
// Concurrency: Apply, EnsureView and Close from one goroutine; Committed,
// Lookup and Scan from any. Batches passed to Apply are borrowed for the
// call; rows returned by reads are owned by the caller.
package postgres
