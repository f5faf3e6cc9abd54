package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Emit receives an operator's output batch. The batch is borrowed: valid
// only during the call; a receiver that keeps it must Retain it.
type Emit func(arrow.RecordBatch) error

// Operator is one step of a view's dataflow. It consumes changelog batches
// (the input schema's columns plus _weight) and emits changelog batches of
// its output Schema.
//
// An operator is driven by one goroutine. Push may emit at once (stateless
// operators) or fold the batch into state; EndEpoch is called once after the
// last batch of an epoch and emits what the epoch changed, consolidated (for
// a keyed output: per key at most one retraction and one insertion).
type Operator interface {
	// Schema is the changelog schema of the operator's output.
	Schema() *arrow.Schema
	// Push processes one input batch (borrowed) arriving on input port
	// (0 for single-input operators; 0 left and 1 right for joins).
	Push(ctx context.Context, port int, in arrow.RecordBatch, emit Emit) error
	// EndEpoch emits the changes of the epoch that just ended.
	EndEpoch(ctx context.Context, emit Emit) error
	// Stateful reports whether the operator keeps state across epochs, so
	// recovery must replay history to rebuild it.
	Stateful() bool
	// Explain describes the operator in one line for EXPLAIN.
	Explain() string
	// Close releases the operator's state. It is idempotent.
	Close()
}

// emitBuilt emits the rows bld holds as one batch, if there are any.
func emitBuilt(bld *array.RecordBuilder, emit Emit) error {
	rec := bld.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() == 0 {
		return nil
	}
	return emit(rec)
}
