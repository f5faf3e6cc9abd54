package core

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// ViewDef describes a view's storage: its columns and primary key.
type ViewDef struct {
	// Name is the view's name, unique in a deployment.
	Name string
	// Columns are the view's output columns, in order.
	Columns []Column
	// Key names the primary-key columns (e.g. the GROUP BY columns). An empty
	// key means the view is a multiset of whole rows: a row's identity is all
	// its columns, and its stored multiplicity is the sum of its weights.
	Key []string
}

// KeyIndexes returns the positions of the key columns in Columns.
func (v ViewDef) KeyIndexes() []int {
	idx := make([]int, 0, len(v.Key))
	for _, k := range v.Key {
		for i, c := range v.Columns {
			if c.Name == k {
				idx = append(idx, i)
			}
		}
	}
	return idx
}

// EpochChanges is everything one epoch changes: each view's changelog
// batches, and the source offsets the epoch read.
type EpochChanges struct {
	Epoch   Epoch
	Offsets Offsets
	// Changes holds, per view name, the epoch's changelog batches for that
	// view (borrowed: valid during Apply). A keyed view's batches are
	// consolidated: per key at most one retraction of the old row and one
	// insertion of the new row. Views without changes are absent.
	Changes map[string][]arrow.RecordBatch
}

// Capabilities says what a backend can serve besides applying epochs.
type Capabilities struct {
	KeyLookup bool // implements KeyLookup
	SQL       bool // implements Querier
}

// Backend stores views. The engine applies each epoch's output to every
// backend of a view with Apply, which commits the changes together with the
// epoch number and the source offsets, so a backend always holds exactly the
// result of a prefix of the input and knows which.
//
// Apply, EnsureView and Close are called from one goroutine; Committed and
// the read interfaces (KeyLookup, Querier) may be called concurrently with
// them and must see only committed epochs.
type Backend interface {
	// Name is the backend's registered name ("pebble", "duckdb").
	Name() string

	// EnsureView creates the storage for v, or checks that existing storage
	// matches it. It is idempotent. A stored view whose columns or key differ
	// is reported with ErrSchemaMismatch.
	EnsureView(ctx context.Context, v ViewDef) error

	// Committed returns the last committed epoch and the offsets recorded
	// with it; (0, nil, nil) when nothing has been committed.
	Committed(ctx context.Context) (Epoch, Offsets, error)

	// Apply applies ch.Changes and records ch.Epoch and ch.Offsets in one
	// atomic commit: after a crash either all of it or none of it is
	// visible. Epochs arrive in increasing order; an epoch at or below
	// Committed is skipped and Apply returns nil.
	Apply(ctx context.Context, ch *EpochChanges) error

	// Capabilities reports which read interfaces the backend implements.
	Capabilities() Capabilities

	// Close flushes and releases the backend. It is idempotent.
	Close() error
}

// KeyLookup is implemented by backends that serve point lookups by primary key.
type KeyLookup interface {
	// Lookup returns the row of view whose key columns equal key (Go values
	// as returned by ValueAt: int64, int32, float64, string, []byte, bool,
	// time.Time, nil), and the epoch the answer reflects. found is false when
	// no such row exists.
	Lookup(ctx context.Context, view string, key []any) (row []any, found bool, epoch Epoch, err error)
}

// Querier is implemented by backends that answer ad-hoc SQL over views.
type Querier interface {
	// Query runs a read-only SQL statement and returns its result and the
	// epoch it read. The caller must Release the reader.
	Query(ctx context.Context, sql string) (array.RecordReader, Epoch, error)
}

// Errors callers branch on.
var (
	// ErrSchemaMismatch: a stored view's columns or key differ from its
	// definition.
	ErrSchemaMismatch = errors.New("stored view schema differs from its definition")
	// ErrUnknownView: the view does not exist in the backend.
	ErrUnknownView = errors.New("unknown view")
	// ErrReadOnly: the backend was opened read-only.
	ErrReadOnly = errors.New("backend is read-only")
)
