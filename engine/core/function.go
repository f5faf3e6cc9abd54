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
