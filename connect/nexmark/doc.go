// Package nexmark generates the event stream of the Nexmark auction
// benchmark, as the "nexmark" source connector and as a Go API.
//
// The model is the standard generator's (Apache Beam's NexmarkGenerator and
// the nexmark/nexmark Flink suite): events are numbered 0, 1, 2, ...; in
// each block of person+auction+bid proportion events (1+3+46 = 50 by
// default) the offset of an event in its block makes it a person, an
// auction or a bid. Ids follow from the event number (the n-th person is
// person 1000+n), bidders, sellers and auctions are drawn from the recent
// ones with a hot share, prices are log-uniform between 1.00 and
// 1,000,000.00 (in cents), and event n happens at base time +
// n/first_event_rate seconds. docs/nexmark.md describes every column.
//
// Determinism: every random field of event n draws from its own splitmix64
// stream keyed by (seed, field, n), so each value is a pure function of the
// seed and the event number: any range, in any chunking, with any subset of
// the columns, before or after a restart, yields identical rows. Prices use
// no math.Pow, so they are the same on every platform.
//
// Entry points. The connector registers itself with connect.RegisterSource
// from init (import this package or connect/all); Open returns a *Source;
// Options lists its options. In Go, NewGenerator(opts...) returns a
// *Generator whose NewRecordBatch(mem, table, from, to) makes the rows of
// one table among the events [from, to); NewProjection and
// NewProjectedBatch make a subset of the columns, optionally with the
// changelog weight column; Schema and Columns give each table's columns;
// Count, Kind and EventTime answer arithmetic questions without generating.
//
//	sources:
//	  - name: bid
//	    connector: nexmark
//	    options: {table: bid, events: 10000000, seed: 42}
//	    schema: [{name: auction, type: bigint}, {name: price, type: bigint}, {name: date_time, type: timestamp}]
//	    event_time: {column: date_time, watermark_delay: 1s}
//
// Source: positions are event numbers of the whole stream, in one
// partition, "0", so three sources (person, auction, bid) with the same
// seed and events are one interleaved stream: each reads only its own
// table's events, stepping over the others arithmetically. Next proposes
// [pos, end) holding at most max rows of the table, bounded by events, and
// with rate (events per second of the whole stream) by what is due since
// the first Next after Open or Seek, waiting at most about 50ms before
// returning empty Ranges; an unbounded source proposes at most MaxProposal
// rows. Exhausted reports true once events > 0 and every event was
// proposed. Declared columns must be columns of the table with its types;
// only they are generated.
//
// Concurrency: a Generator is immutable and safe for concurrent use. A
// Source is driven by one goroutine, as core.Source says; it starts none.
//
// Ownership: NewRecordBatch and NewProjectedBatch return batches the
// caller must Release, each column allocated once from the given allocator
// at its exact size. The batches a Source passes to emit are borrowed,
// valid only during the call.
package nexmark
