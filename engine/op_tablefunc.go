package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
)

// TableFunc applies a user-defined table function to every row: each input
// row yields zero or more output rows, which carry the input's columns, the
// function's value as one more column, and the input row's weight (so a
// retracted input retracts exactly the rows it produced, as long as the
// function is deterministic). It is stateless.
type TableFunc struct {
	mem    memory.Allocator
	fn     core.TableFunction
	args   []Expr
	name   string
	policy core.ErrorPolicy
	schema *arrow.Schema
}

// NewTableFunc returns the operator over changelog batches of in; the
// function's value is the column name of type t, after in's columns.
func NewTableFunc(mem memory.Allocator, in *arrow.Schema, fn core.TableFunction, args []Expr, name string, t core.Type, policy core.ErrorPolicy) *TableFunc {
	fs := append([]arrow.Field(nil), in.Fields()[:in.NumFields()-1]...)
	fs = append(fs, arrow.Field{Name: name, Type: t.Arrow, Nullable: true}, core.WeightField)
	return &TableFunc{mem: mem, fn: fn, args: args, name: name, policy: policy, schema: arrow.NewSchema(fs, nil)}
}

func (t *TableFunc) Schema() *arrow.Schema                { return t.schema }
func (t *TableFunc) Stateful() bool                       { return false }
func (t *TableFunc) Close()                               {}
func (t *TableFunc) EndEpoch(context.Context, Emit) error { return nil }
func (t *TableFunc) Explain() string {
	args := make([]string, len(t.args))
	for i, a := range t.args {
		args[i] = a.String()
	}
	return fmt.Sprintf("TableFunc %s(%s) AS %s", t.fn.FunctionName(), strings.Join(args, ", "), t.name)
}

// Push implements Operator.
func (t *TableFunc) Push(ctx context.Context, _ int, in arrow.RecordBatch, emit Emit) error {
	args := make([]arrow.Array, len(t.args))
	defer func() {
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, e := range t.args {
		a, err := Eval(t.mem, e, in)
		if err != nil {
			return fmt.Errorf("table function %s: %w", t.fn.FunctionName(), err)
		}
		args[i] = a
	}
	out, parents, rowErrs, err := t.fn.CallTable(ctx, t.mem, args)
	if err != nil {
		return err
	}
	defer out.Release()
	for _, re := range rowErrs {
		switch t.policy {
		case core.OnErrorNull:
		case core.OnErrorDeadLetter:
			if core.Weights(in).Value(re.Row) > 0 {
				ReportDeadLetter(ctx, core.DeadLetter{Source: "udf " + t.fn.FunctionName(), Offset: -1,
					Reason: fmt.Sprintf("udf %s: %s", t.fn.FunctionName(), re.Msg), Raw: []byte(rowText(in, re.Row))})
			}
		default:
			return &UDFError{Func: t.fn.FunctionName(), Row: rowText(in, re.Row), Msg: re.Msg}
		}
	}
	if len(parents) == 0 {
		return nil
	}
	ib := array.NewInt32Builder(t.mem)
	ib.AppendValues(parents, nil)
	idx := ib.NewArray()
	ib.Release()
	defer idx.Release()
	cols := make([]arrow.Array, 0, in.NumCols()+1)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for c := 0; c < int(in.NumCols())-1; c++ {
		tc, err := takeArray(t.mem, in.Column(c), idx)
		if err != nil {
			return err
		}
		cols = append(cols, tc)
	}
	out.Retain()
	cols = append(cols, out)
	w, err := takeArray(t.mem, core.Weights(in), idx)
	if err != nil {
		return err
	}
	cols = append(cols, w)
	rec := array.NewRecordBatch(t.schema, cols, int64(len(parents)))
	defer rec.Release()
	return emit(rec)
}
