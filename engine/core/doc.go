// Package core is Strata's shared vocabulary: the leaf package every other
// package may import and which imports nothing of ours.
//
// It defines
//   - changelog batches: an Arrow record batch whose last column is the int64
//     WeightColumn ("_weight"); +n inserts n copies of the row, -n deletes n
//     copies, an update is a -old/+new pair (see batch.go);
//   - SQL column types and their Arrow representation (types.go);
//   - epochs and source offsets, the unit of progress and of atomic commit
//     (epoch.go);
//   - the Source and Backend contracts the engine drives, so that the engine
//     never knows a concrete connector or storage backend (source.go,
//     backend.go);
//   - dead letters, the rows a source could not decode (deadletter.go).
//
// Ownership: arguments are borrowed, return values are owned. A callee that
// keeps a borrowed arrow.RecordBatch past the call must Retain it and Release
// it when done; a function that returns a batch hands the caller one
// reference, which the caller must Release.
package core
