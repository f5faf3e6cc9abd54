// Package pgwire is the server side of the Postgres frontend/backend
// protocol (version 3.0), so psql, drivers (pgx, JDBC, psycopg) and BI
// tools run read-only SQL over a deployment's views.
//
// Entry points: NewServer(runner, options...) and Server.Serve(listener);
// Close stops it. The Runner runs one statement and returns Arrow; in the
// strata binary it is the DuckDB backend.
//
// # What the server speaks
//
//   - Start-up: SSLRequest and GSSEncRequest are answered 'N' (no TLS yet);
//     protocol 3.2 and _pq_ options are answered with
//     NegotiateProtocolVersion (3.0). Authentication is trust by default,
//     or a password checked in clear text or as Postgres' salted MD5
//     (WithPassword, WithAuthMethod); SCRAM is not offered. Then
//     ParameterStatus (server_version "16.0 (Strata)", server_encoding and
//     client_encoding UTF8, DateStyle ISO, IntervalStyle postgres, TimeZone
//     UTC, integer_datetimes on, standard_conforming_strings on, ...),
//     BackendKeyData and ReadyForQuery.
//   - Simple query: several statements separated by ';' run in turn until
//     one fails; an empty query answers EmptyQueryResponse.
//   - Extended query: Parse, Bind, Describe (statement and portal),
//     Execute (with a row limit: PortalSuspended, then more rows), Close,
//     Sync and Flush. After an error, messages are skipped up to Sync.
//   - Terminate. CancelRequest cancels the running query of the connection
//     whose process ID and secret key it names (57014).
//   - Answered by the server itself: SET (any name; kept per connection so
//     SHOW returns it; server-fixed settings such as TimeZone and
//     client_encoding keep their value), RESET, SHOW name and SHOW ALL,
//     SELECT version(), BEGIN/START TRANSACTION, COMMIT/END,
//     ROLLBACK/ABORT, DISCARD, and SQL-level PREPARE name [(types)] AS ..,
//     EXECUTE name(args), DEALLOCATE. Writes and DDL are refused with
//     25006; LISTEN, NOTIFY and cursors with 0A000.
//   - Everything else goes to the Runner: DuckDB SQL over the views,
//     including DuckDB's pg_catalog and information_schema views. psql's
//     \d commands use Postgres-only catalog functions and fail with
//     DuckDB's error; use SELECT * FROM information_schema.tables instead.
//
// Transactions: every statement reads its own consistent epoch (the epoch
// is reported after each query as the ParameterStatus "strata_epoch", and
// by SHOW strata_epoch). BEGIN/COMMIT only track the transaction status
// that ReadyForQuery reports ('T', 'E' after an error until ROLLBACK), so
// drivers that wrap reads in transactions work; they add no isolation.
//
// # Types
//
// Result columns map from Arrow: boolean 16, int8/int16/uint8 as int2 21,
// int32/uint16 as int4 23, int64/uint32 as int8 20, uint64 and decimals as
// numeric 1700 (with precision and scale as the type modifier), float32
// as float4 700, float64 as float8 701, strings as text 25, binary as
// bytea 17, date 1082, timestamp 1114, timestamp with a zone as
// timestamptz 1184, time 1083, intervals and durations as interval 1186;
// lists, structs, maps and extension types (uuid) are sent as their text
// (25). Every type is sent in text format, or in binary when the client
// asks for it in Bind (pgx does).
//
// # Parameters
//
// The Runner takes SQL text, so Bind substitutes parameters as SQL
// literals (params.go documents the quoting rules; injection attempts with
// quotes, backslashes, comments and NUL are tested). A parameter's type is
// the one the client gives in Parse, else an explicit cast written after
// it ($1::bigint), else unspecified: ParameterDescription reports OID 0,
// clients then send text, and the value becomes an untyped string literal
// that DuckDB casts implicitly, as Postgres resolves "unknown". Describe
// of a statement runs it with NULL parameters under LIMIT 0 to learn the
// result columns.
//
// # Errors
//
// An error is sent as ErrorResponse with a SQLSTATE: a Runner returns an
// *Error to choose it (the strata binary maps DuckDB's error types:
// parser 42601, catalog 42P01, ...), any other error is XX000. The
// connection stays usable.
//
// # Concurrency and ownership
//
// Each connection runs on its own goroutine and calls the Runner from it;
// the Runner must be safe for concurrent use. Result readers are released
// when a result is drained, its portal closed, or the connection ends.
package pgwire
