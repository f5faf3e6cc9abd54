// Package connect holds Strata's sources and sinks and the registry that
// names them.
//
// A connector registers itself from init() with RegisterSource; a binary
// chooses the connectors it ships by blank-importing them (connect/all
// imports every one). The engine never sees a concrete connector: cmd/strata
// opens sources through this registry and hands the engine core.Source
// values.
//
// Transport and format are separate: connect/file and connect/kafka move raw
// records, connect/format turns raw records into Arrow changelog batches (and
// dead letters for what it cannot decode), connect/gen generates Arrow
// directly.
//
// Concurrency: the registry is safe for concurrent use; it is written only by
// init functions. A core.Source is driven by one goroutine.
package connect
