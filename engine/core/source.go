package core

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// Source is one input of a deployment, read epoch by epoch.
//
// The engine drives a source from one goroutine: it calls Seek once after
// recovery, then, per epoch, Next to learn what the epoch will read, writes
// those ranges to the epoch log, and Read to decode exactly them. Read must be
// deterministic: the same ranges always yield the same rows and dead letters,
// so a replayed epoch reproduces its output exactly. Offsets are owned by the
// engine's epoch log, never by the source (no consumer-group commits).
type Source interface {
	// Schema is the schema of the rows the source produces, without the
	// weight column.
	Schema() *arrow.Schema

	// Seek positions the source at pos (per partition, the next position to
	// read). Partitions absent from pos start at their beginning.
	Seek(ctx context.Context, pos Positions) error

	// Next proposes the ranges of the next epoch: what is available beyond
	// the current position, at most max records in total (max <= 0: no
	// limit), and advances the position past them. It may wait briefly for
	// data but returns empty Ranges rather than block when nothing arrives.
	Next(ctx context.Context, max int) (Ranges, error)

	// Read decodes exactly the records in ranges, calling emit with changelog
	// batches (ChangelogSchema(Schema())); each batch is borrowed and valid
	// only during the call. Records that cannot be decoded are returned as
	// dead letters; every other record is emitted. Read may be called for
	// ranges before the current position (replay after a restart).
	Read(ctx context.Context, ranges Ranges, emit func(arrow.RecordBatch) error) ([]DeadLetter, error)

	// Exhausted reports whether a bounded source has nothing more to read,
	// ever (a file not followed, a datagen source with a row limit).
	// Unbounded sources always return false.
	Exhausted() bool

	// Close releases the source's resources. It is idempotent.
	Close() error
}
