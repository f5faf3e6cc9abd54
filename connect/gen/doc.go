// Package gen is the "datagen" source connector: deterministic rows of the
// declared schema, generated straight into Arrow.
//
//	sources:
//	  - name: clicks
//	    connector: datagen
//	    options: {rows: 100000, seed: 42, cardinality: 20, rate: 1000,
//	              start: "2024-01-01 00:00:00", interval: 1ms}
//	    schema: [{name: page, type: bigint}, {name: ts, type: timestamp}]
//
// Entry points: the package registers itself with connect.RegisterSource
// from init (import it, or connect/all, for its side effect); Open returns
// the *Source directly. Options lists the options.
//
// Determinism: the value of column c in row r is a pure function of
// (seed, r, c), the r-th output of a splitmix64 stream keyed by the seed and
// the column index, so any range, read in any chunking, before or after a
// restart, yields identical rows; replay relies on it. Values: boolean a
// fair coin; integer and bigint uniform in [0, cardinality); double in
// [0, 1000) with two decimals; varchar and bytea "<column>_<n>" with n in
// [0, cardinality); date and timestamp start + r*interval, a monotonic event
// time. No value is NULL.
//
// There is one partition, "0"; positions are row numbers. Next proposes
// [pos, min(pos+max, rows)); with rate it proposes only the rows due since
// the first Next after Open or Seek, waiting at most about 50ms for the next
// row before returning empty Ranges. An unbounded source without max or rate
// proposes at most MaxProposal rows per Next. Exhausted reports true once
// rows > 0 and every row was proposed.
//
// Concurrency: a Source is driven by one goroutine, as core.Source says; it
// starts no goroutines. Ownership: the batches passed to emit are borrowed,
// valid only during the call (the source releases them after emit returns).
// Read builds columns with typed Arrow builders from cfg.Alloc, reused from
// one batch to the next and freed by Close.
package gen
