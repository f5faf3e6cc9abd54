package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Filter keeps the rows for which Pred is true (not false, not NULL), with
// their weights. It is stateless.
type Filter struct {
	mem    memory.Allocator
	pred   Expr
	schema *arrow.Schema
	udfs   *udfStage // UDF calls of pred, evaluated first (nil: none)
	eval   Expr      // pred over the stage's columns
}

// NewFilter returns a filter over changelog batches of schema.
func NewFilter(mem memory.Allocator, schema *arrow.Schema, pred Expr) *Filter {
	st, ev := hoistUDFs(schema.NumFields(), []Expr{pred})
	return &Filter{mem: mem, pred: pred, schema: schema, udfs: st, eval: ev[0]}
}

func (f *Filter) Schema() *arrow.Schema { return f.schema }
func (f *Filter) Stateful() bool        { return false }
func (f *Filter) Explain() string       { return fmt.Sprintf("Filter %s", f.pred) }
func (f *Filter) Close()                {}
func (f *Filter) EndEpoch(context.Context, Emit) error {
	return nil
}

// Push implements Operator.
func (f *Filter) Push(ctx context.Context, _ int, in arrow.RecordBatch, emit Emit) error {
	src, dropped := in, []bool(nil)
	if f.udfs != nil {
		ext, d, err := f.udfs.run(ctx, f.mem, in)
		if err != nil {
			return fmt.Errorf("filter %s: %w", f.pred, err)
		}
		defer ext.Release()
		src, dropped = ext, d
	}
	mask, err := Eval(f.mem, f.eval, src)
	if err != nil {
		return fmt.Errorf("filter %s: %w", f.pred, err)
	}
	defer mask.Release()
	m := mask.(*array.Boolean)
	if dropped != nil {
		m = andNotDropped(f.mem, m, dropped)
		defer m.Release()
	}
	if m.NullN() == 0 {
		all := true
		for i := 0; i < m.Len(); i++ {
			if !m.Value(i) {
				all = false
				break
			}
		}
		if all {
			return emit(in)
		}
	}
	out, err := compute.FilterRecordBatch(compute.WithAllocator(ctx, f.mem), in, m, compute.DefaultFilterOptions())
	if err != nil {
		return fmt.Errorf("filter %s: %w", f.pred, err)
	}
	defer out.Release()
	if out.NumRows() == 0 {
		return nil
	}
	return emit(out)
}

// Project computes Exprs over each row, keeping the row's weight.
type Project struct {
	mem    memory.Allocator
	exprs  []Expr
	names  []string
	schema *arrow.Schema
	udfs   *udfStage // UDF calls of exprs, evaluated first (nil: none)
	eval   []Expr    // exprs over the stage's columns
	hasUDF bool      // some expression calls a UDF
}

// NewProject returns a projection computing exprs named names.
func NewProject(mem memory.Allocator, exprs []Expr, names []string) *Project {
	fs := make([]arrow.Field, 0, len(exprs)+1)
	for i, e := range exprs {
		fs = append(fs, arrow.Field{Name: names[i], Type: e.Type().Arrow, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "_weight", Type: arrow.PrimitiveTypes.Int64})
	return &Project{mem: mem, exprs: exprs, names: names, schema: arrow.NewSchema(fs, nil), eval: exprs, hasUDF: hasUDFs(exprs)}
}

// WithInputWidth tells a projection whose expressions call UDFs how many
// columns its input has (with _weight), so the calls can be evaluated as
// columns appended after them. The planner calls it; without UDF calls it
// does nothing.
func (p *Project) WithInputWidth(width int) *Project {
	p.udfs, p.eval = hoistUDFs(width, p.exprs)
	return p
}

func (p *Project) Schema() *arrow.Schema                { return p.schema }
func (p *Project) Stateful() bool                       { return false }
func (p *Project) Close()                               {}
func (p *Project) EndEpoch(context.Context, Emit) error { return nil }
func (p *Project) Explain() string {
	s := "Project"
	for i, e := range p.exprs {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s AS %s", e, p.names[i])
	}
	return s
}

// Push implements Operator.
func (p *Project) Push(ctx context.Context, _ int, in arrow.RecordBatch, emit Emit) error {
	cols := make([]arrow.Array, 0, len(p.exprs)+1)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	src, dropped := in, []bool(nil)
	if p.udfs != nil {
		if p.udfs.base != int(in.NumCols()) {
			return fmt.Errorf("project: input has %d columns, the UDF stage was planned for %d", in.NumCols(), p.udfs.base)
		}
		ext, d, err := p.udfs.run(ctx, p.mem, in)
		if err != nil {
			return fmt.Errorf("project: %w", err)
		}
		defer ext.Release()
		src, dropped = ext, d
	} else if p.hasUDF {
		return fmt.Errorf("project: expressions call UDFs but the planner gave no input width (WithInputWidth)")
	}
	for i, e := range p.eval {
		c, err := Eval(p.mem, e, src)
		if err != nil {
			return fmt.Errorf("project %s: %w", p.exprs[i], err)
		}
		cols = append(cols, c)
	}
	w := in.Column(int(in.NumCols()) - 1)
	w.Retain()
	cols = append(cols, w)
	out := array.NewRecordBatch(p.schema, cols, in.NumRows())
	defer out.Release()
	if dropped != nil {
		keep := keepMask(p.mem, dropped)
		defer keep.Release()
		kept, err := compute.FilterRecordBatch(compute.WithAllocator(ctx, p.mem), out, keep, compute.DefaultFilterOptions())
		if err != nil {
			return fmt.Errorf("project: %w", err)
		}
		defer kept.Release()
		if kept.NumRows() == 0 {
			return nil
		}
		return emit(kept)
	}
	return emit(out)
}
