// Package pebble is the Pebble storage backend ("pebble"): views stored as
// sorted key-value pairs for point lookups and prefix scans by primary key.
//
// Entry points: Open (or backends.Open(ctx, "pebble", cfg) after importing
// this package), then the core.Backend methods, Lookup (core.KeyLookup) and
// Scan.
//
// # Layout
//
// One Pebble database per backend directory (Config.Dir). Keys:
//
//	0x00 "epoch"                     committed epoch and offsets
//	0x00 "view" 0x00 name            the view's definition (JSON)
//	0x01 enc(name) enc(key...)       one row of view name
//
// enc is the order-preserving key encoding of backends/internal/keyenc, so a
// view's rows are contiguous and sorted by key, NULLs first, and a prefix of
// the key columns selects a contiguous range. A view without key columns is a
// multiset: a row's key is the encoding of all its columns and its value
// carries its multiplicity.
//
// The epoch value is the epoch as 8 bytes big-endian followed by
// core.Offsets.Marshal. A row value is (see rowenc.go):
//
//	version byte 0x01
//	multiplicity (uvarint; multiset views only)
//	NULL bitmap, one bit per column, LSB first, ceil(n/8) bytes
//	each non-NULL column in order: boolean 1 byte; integer, bigint, date,
//	timestamp as zig-zag varints; double 8 bytes little-endian; varchar and
//	bytea as uvarint length then bytes
//
// # Atomicity
//
// Apply writes an epoch's changes to all views, the epoch number and the
// offsets in one Pebble batch committed with Sync, so after a crash either
// the whole epoch is visible or none of it. Keyed views: every row with a
// negative weight deletes its key, then every row with a positive weight sets
// it (so a -old/+new pair is an update whatever its order in the batches).
// Multiset views: weights are summed per row and added to the stored
// multiplicity; a row whose multiplicity reaches zero (or would fall below)
// is deleted.
//
// # Concurrency
//
// Apply, EnsureView and Close are called from one goroutine (the engine's).
// Committed, Lookup and Scan may run concurrently with them from any
// goroutine; each reads one Pebble snapshot, so a row and the epoch returned
// with it belong together and only committed epochs are visible. Close waits
// for reads in flight, after which every method returns backends.ErrClosed.
//
// # Read-only mode
//
// With Config.ReadOnly the database is opened with Pebble's ReadOnly option
// (it must exist and no writer may hold it); Apply and EnsureView return
// core.ErrReadOnly. View definitions are loaded from the database on first
// use, so lookups need no EnsureView.
//
// # Ownership
//
// Batches passed to Apply are borrowed and not retained. Rows returned by
// Lookup and passed to Scan's callback are freshly allocated and owned by the
// caller.
//
// # Options
//
// Config.Options accepts "cache_bytes" (int): the block cache size (Pebble's
// default is 8 MiB).
package pebble
