// Package kafka is Strata's Kafka source connector, registered as "kafka".
//
// Entry point: blank-import the package (connect/all does) and open a source
// through the registry:
//
//	src, err := connect.OpenSource(ctx, "kafka", connect.SourceConfig{
//		Name:    "bids",
//		Options: map[string]any{"brokers": []any{"127.0.0.1:9092"}, "topic": "bids"},
//		Format:  "json", Columns: cols, Alloc: mem,
//	})
//
// Options: brokers (list, required), topic (required), client_id, bounded,
// poll_wait, partition_refresh, replay_timeout; see the OptionSpecs this
// package registers.
//
// Offsets: the source reads every partition of the topic by direct
// partition assignment with franz-go. There is no consumer group and nothing
// is committed to Kafka: the engine's epoch log owns the offsets. Partitions
// are named by their decimal number ("0", "1", ...) in core.Ranges and
// core.Positions; positions are Kafka offsets. Next proposes, per
// partition, [position, last buffered offset + 1) over the records fetched
// so far (at most max in total) and waits at most poll_wait when nothing is
// buffered, so an idle topic yields empty Ranges quickly (strata run
// --until-idle relies on it). Read decodes exactly the records of the
// ranges: from memory when this source proposed them, otherwise it fetches
// them again from the broker (replay after a restart). Rows come in
// ascending partition order, each partition in offset order, so the same
// ranges always give the same rows. Records are read with read_committed
// isolation; transaction markers take up offsets but produce nothing. A
// record with a null value (a tombstone) or one the format rejects becomes
// a core.DeadLetter with its partition, offset and raw value.
//
// New partitions are picked up every partition_refresh. The source is
// unbounded (Exhausted is false) unless bounded: true, where it reads the
// end offsets when it opens and is exhausted once it has proposed
// everything before them.
//
// Concurrency: a source is driven by one goroutine, as core.Source says.
// Ownership: batches passed to emit are borrowed for the call; dead letters'
// Raw slices are owned by the caller. Close is idempotent and closes every
// client.
package kafka
