// Package pgtest runs Strata's Postgres tests against a real PostgreSQL
// server on 127.0.0.1, started from the distribution's binaries (Debian's
// postgresql package: /usr/lib/postgresql/<version>/bin) with initdb and
// pg_ctl in a temporary directory.
//
// Entry points: a package whose tests need Postgres calls Main from its
// TestMain; each test then asks DSN for a connection string to a database
// of its own, dropped when the test ends:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.DSN(t) // skips (fails under STRATA_CI=1) without Postgres
//		...
//	}
//
// A package whose TestMain belongs to another helper (kafkatest.Main) may
// call DSN without Main: the first call starts the server, and a watchdog
// process stops it and removes its files once the test binary has exited.
// Main uses the same watchdog, so a test timeout never leaks a server.
//
// With STRATA_POSTGRES set to the DSN of a superuser on a running server,
// nothing is started and each test's database is created there.
//
// The server runs with fsync off (tests kill Strata, never Postgres),
// UTF8 encoding, the C locale and trust authentication on loopback only.
// initdb refuses to run as root: under uid 0 the server runs as the
// "postgres" system user the Debian package creates.
//
// Concurrency: every function is safe for concurrent use by parallel tests.
package pgtest
