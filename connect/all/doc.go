// Package all registers every source connector Strata ships: import it for
// its side effects.
//
//	import _ "github.com/stratadb/strata/connect/all"
//
// Entry points: none; after the import, connect.LookupSource and
// connect.OpenSource find "file", "datagen" and "kafka". A binary that wants
// fewer connectors (or none with cgo or network dependencies) imports the
// connector packages it needs instead.
//
// Concurrency and ownership: registration happens in init functions, before
// main runs; see package connect for the registry's contract.
package all
