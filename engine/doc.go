// Package engine runs views: vectorised expression kernels over Arrow
// columns, the operators of a view's dataflow (Filter, Project, GroupAgg),
// the epoch log and the epoch coordinator.
//
// # The epoch protocol
//
// Progress is counted in epochs. For each epoch the Engine
//
//  1. asks every source (core.Source.Next) what it will read,
//  2. writes those offsets to the epoch log (Pebble, fsynced) under the
//     epoch's number,
//  3. reads exactly those offsets (core.Source.Read) and pushes the
//     changelog batches through every view's operator chain, then ends the
//     epoch in every operator so stateful operators emit their
//     consolidated changes,
//  4. hands each backend the epoch's output for the views it stores plus the
//     dead letters, and the backend commits them atomically together with
//     the epoch number and the offsets (core.Backend.Apply).
//
// Recovery reads the epoch log and each backend's committed epoch. Epochs a
// backend lacks are re-run from the logged offsets (the sources' Read is
// deterministic) and applied to it; when a view keeps state in memory
// (GroupAgg), every logged epoch is re-run to rebuild that state and only the
// missing epochs are applied. Then the sources are positioned after the last
// logged epoch. So every backend receives every epoch exactly once, and all
// views in a backend always reflect the same input prefix.
//
// The engine never imports a concrete source or backend (see
// internal/lint): cmd/strata opens them through the connect and backends
// registries and passes them in with options.
//
// Concurrency: Run drives everything from one goroutine. Stats may be read
// concurrently. Ownership: operators borrow their input batches and emit
// borrowed batches (see Emit); Eval returns an owned array.
package engine
