package core

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ScalarFunction is a user-defined scalar function (a WebAssembly UDF) as
// the engine sees it: called once per batch, never per row. The udf
// package implements it; the engine knows no more than this.
type ScalarFunction interface {
	// FunctionName is the function's SQL name.
	FunctionName() string
	// CallBatch evaluates the function over args (borrowed, all of the
	// same length) and returns one value per row, allocated from mem and
	// owned by the caller. Rows the function failed on are NULL in out and
	// listed in rowErrs, in row order. A non-nil err means the batch has
	// no result at all (deadline, trap, bad result buffer).
	CallBatch(ctx context.Context, mem memory.Allocator, args []arrow.Array) (out arrow.Array, rowErrs []RowError, err error)
}

// RowError is a function's failure on one row of a batch.
type RowError struct {
	Row int
	Msg string
}

// ErrorPolicy says what happens to a row a user-defined function failed on.
type ErrorPolicy string

// The error policies of a UDF (`udfs: [{on_error: ..}]`).
const (
	// OnErrorFail fails the view: the epoch does not commit and the error
	// names the function, the row and the message.
	OnErrorFail ErrorPolicy = "fail"
	// OnErrorNull makes the function's value NULL for that row.
	OnErrorNull ErrorPolicy = "null"
	// OnErrorDeadLetter drops the row and sends it, with the message, to
	// the dead-letter output.
	OnErrorDeadLetter ErrorPolicy = "dead_letter"
)

// FunctionDef describes a scalar UDF to a backend that runs SQL.
type FunctionDef struct {
	Name    string
	Args    []Type
	Returns Type
	Fn      ScalarFunction
	// Policy applies to rows the function fails on; a backend that cannot
	// drop rows from a query treats dead_letter as null.
	Policy ErrorPolicy
}

// FunctionRegistry is implemented by backends that answer SQL (DuckDB), so
// ad-hoc queries can call the deployment's scalar UDFs by name.
type FunctionRegistry interface {
	RegisterFunction(ctx context.Context, def FunctionDef) error
}

// TableFunction is a user-defined table function: each input row yields
// zero or more output rows. Called once per batch.
type TableFunction interface {
	FunctionName() string
	// CallTable returns the output values (caller releases) and, per
	// output row, the input row it came from (non-decreasing). An input
	// row listed in rowErrs produced no rows.
	CallTable(ctx context.Context, mem memory.Allocator, args []arrow.Array) (out arrow.Array, parents []int32, rowErrs []RowError, err error)
}

// AggregateFunction is a user-defined aggregate over a changelog: rows are
// folded into opaque per-group states (bytea; NULL is the initial state)
// and folded out again when retracted.
type AggregateFunction interface {
	FunctionName() string
	// Fold accumulates (retract false) or retracts row i of args into
	// states[groups[i]] and returns the new states (caller releases). A
	// row listed in rowErrs was left out of its group's state.
	Fold(ctx context.Context, mem memory.Allocator, states arrow.Array, groups []int32, args []arrow.Array, retract bool) (newStates arrow.Array, rowErrs []RowError, err error)
	// Finish turns states into the aggregate's values (caller releases).
	// A group listed in rowErrs has a NULL value.
	Finish(ctx context.Context, mem memory.Allocator, states arrow.Array) (out arrow.Array, rowErrs []RowError, err error)
}
