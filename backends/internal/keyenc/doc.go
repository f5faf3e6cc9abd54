// Package keyenc is the order-preserving encoding of primary keys used by the
// Pebble backend: for any two keys a and b of the same column types,
// bytes.Compare(Encode(a), Encode(b)) has the sign of SQL's ORDER BY
// comparison of a and b, with NULLs first. Composite keys are the
// concatenation of their columns' encodings, so a key's encoding is a byte
// prefix of every longer key that starts with the same column values, which
// is what prefix scans rely on.
//
// Format, per value: one tag byte, then the payload.
//
//	NULL       0x01                      (sorts before every value)
//	boolean    0x10, 0x00 | 0x01
//	integer    0x11, 4 bytes big-endian with the sign bit flipped
//	bigint     0x12, 8 bytes big-endian with the sign bit flipped
//	double     0x13, 8 bytes: the IEEE bits with the sign bit flipped if
//	           positive, all bits flipped if negative; -0 is written as +0
//	           and every NaN as the canonical quiet NaN, which sorts after
//	           +Inf as in PostgreSQL and DuckDB
//	varchar    0x14, the bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01
//	bytea      0x15, as varchar
//	date       0x16, days since 1970-01-01 as integer
//	timestamp  0x17, microseconds since 1970-01-01 as bigint
//
// The escape makes "a" < "a\x00" < "a\x00b" < "ab" hold bytewise, and no
// encoded string is a prefix of another. Tags differ per type so that Decode
// needs no schema; within one column all non-NULL values share a tag.
//
// Entry points: NewColumnEncoder (the hot path, over Arrow columns),
// AppendValue (one Go value in core.ValueAt form), Decode.
//
// Everything here is a pure function; encoders are safe to use from one
// goroutine at a time and hold borrowed Arrow arrays, valid while the batch
// they came from is.
package keyenc
