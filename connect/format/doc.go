// Package format decodes raw records (a Kafka value, a line of a file) into
// Arrow changelog batches of a declared schema.
//
// A Decoder appends records one at a time and flushes them as a batch; a
// record it cannot decode is not appended and its error is the dead-letter
// reason, so one bad record never affects its neighbours.
//
// Concurrency: a Decoder is used by one goroutine. Ownership: Flush returns a
// batch the caller must Release; Append borrows raw only during the call.
package format
