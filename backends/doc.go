// Package backends is the registry of Strata's storage backends and the home
// of their shared contract.
//
// A backend stores the views a deployment materializes. The contract itself,
// core.Backend (aliased here as Backend), lives in the leaf package
// engine/core so that the engine can drive backends without importing any of
// them; this package only maps names to implementations:
//
//   - Register is called from the init function of each implementation
//     (backends/pebble registers "pebble", backends/duckdb registers "duckdb");
//   - Open opens a registered backend by name in its own directory;
//   - Names lists what is registered.
//
// The package backends/all blank-imports every implementation; binaries import
// it (or a subset) to choose which backends they carry.
//
// Every implementation commits an epoch's changes together with the epoch
// number and the source offsets in one atomic commit (a Pebble batch, a DuckDB
// transaction), skips epochs at or below the one it has committed, and
// reports a stored view whose definition differs with core.ErrSchemaMismatch.
// The shared datadriven scripts in backends/testdata run against every
// implementation and expect identical output.
//
// Concurrency: Register is meant for init functions but is safe to call
// concurrently with Open and Names. The concurrency contract of an opened
// backend is the one documented on core.Backend: Apply, EnsureView and Close
// from one goroutine, reads (Committed, Lookup, Scan, Query) from any.
//
// Ownership: changelog batches passed to Apply are borrowed for the duration
// of the call; readers returned by a Querier are owned by the caller, who must
// Release them.
package backends
