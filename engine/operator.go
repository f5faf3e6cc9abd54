package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
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
	// Push processes one input batch (borrowed).
	Push(ctx context.Context, in arrow.RecordBatch, emit Emit) error
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

// Chain runs operators one after another.
type Chain []Operator

// Push sends in through the chain; outputs of the last operator go to emit.
func (c Chain) Push(ctx context.Context, in arrow.RecordBatch, emit Emit) error {
	return c.push(ctx, 0, in, emit)
}

func (c Chain) push(ctx context.Context, i int, in arrow.RecordBatch, emit Emit) error {
	if i == len(c) {
		return emit(in)
	}
	return c[i].Push(ctx, in, func(out arrow.RecordBatch) error { return c.push(ctx, i+1, out, emit) })
}

// EndEpoch ends the epoch in every operator in order, so that what one
// operator emits at the end of the epoch flows through the rest first.
func (c Chain) EndEpoch(ctx context.Context, emit Emit) error {
	for i, op := range c {
		if err := op.EndEpoch(ctx, func(out arrow.RecordBatch) error { return c.push(ctx, i+1, out, emit) }); err != nil {
			return err
		}
	}
	return nil
}

// Stateful reports whether any operator of the chain is stateful.
func (c Chain) Stateful() bool {
	for _, op := range c {
		if op.Stateful() {
			return true
		}
	}
	return false
}

// Close closes every operator.
func (c Chain) Close() {
	for _, op := range c {
		op.Close()
	}
}
