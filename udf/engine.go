package udf

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
)

// Scalar returns the engine's handle on the scalar function name: each
// call runs whatever module currently defines name, so a module replaced
// between epochs (Host.Replace) serves the next batch without replanning.
func (h *Host) Scalar(name string) core.ScalarFunction { return &scalarRef{h: h, name: name} }

type scalarRef struct {
	h    *Host
	name string
}

func (r *scalarRef) FunctionName() string { return r.name }

func (r *scalarRef) CallBatch(ctx context.Context, mem memory.Allocator, args []arrow.Array) (arrow.Array, []core.RowError, error) {
	f, ok := r.h.Lookup(r.name)
	if !ok {
		return nil, nil, fmt.Errorf("%w %q (its module was unloaded)", ErrUnknownFunction, r.name)
	}
	out, err := f.Call(ctx, args, mem)
	errs, err := rowErrors(err)
	if err != nil {
		return nil, nil, err
	}
	return out, errs, nil
}

// Table returns the engine's handle on the table function name.
func (h *Host) Table(name string) core.TableFunction { return &scalarRef{h: h, name: name} }

// Aggregate returns the engine's handle on the aggregate name.
func (h *Host) Aggregate(name string) core.AggregateFunction { return &scalarRef{h: h, name: name} }

func (r *scalarRef) lookup() (*Function, error) {
	f, ok := r.h.Lookup(r.name)
	if !ok {
		return nil, fmt.Errorf("%w %q (its module was unloaded)", ErrUnknownFunction, r.name)
	}
	return f, nil
}

func (r *scalarRef) CallTable(ctx context.Context, mem memory.Allocator, args []arrow.Array) (arrow.Array, []int32, []core.RowError, error) {
	f, err := r.lookup()
	if err != nil {
		return nil, nil, nil, err
	}
	out, parents, err := f.CallTable(ctx, args, mem)
	errs, err := rowErrors(err)
	if err != nil {
		return nil, nil, nil, err
	}
	defer parents.Release()
	return out, append([]int32(nil), parents.Int32Values()...), errs, nil
}

func (r *scalarRef) Fold(ctx context.Context, mem memory.Allocator, states arrow.Array, groups []int32, args []arrow.Array, retract bool) (arrow.Array, []core.RowError, error) {
	f, err := r.lookup()
	if err != nil {
		return nil, nil, err
	}
	st, ok := states.(*array.Binary)
	if !ok {
		return nil, nil, fmt.Errorf("udf: %s: states must be bytea, got %s", r.name, states.DataType())
	}
	fold := f.Accumulate
	if retract {
		fold = f.Retract
	}
	out, err := fold(ctx, st, groups, args, mem)
	errs, err := rowErrors(err)
	if err != nil {
		return nil, nil, err
	}
	return out, errs, nil
}

func (r *scalarRef) Finish(ctx context.Context, mem memory.Allocator, states arrow.Array) (arrow.Array, []core.RowError, error) {
	f, err := r.lookup()
	if err != nil {
		return nil, nil, err
	}
	st, ok := states.(*array.Binary)
	if !ok {
		return nil, nil, fmt.Errorf("udf: %s: states must be bytea, got %s", r.name, states.DataType())
	}
	out, err := f.Finish(ctx, st, mem)
	errs, err := rowErrors(err)
	if err != nil {
		return nil, nil, err
	}
	return out, errs, nil
}

// rowErrors splits a call's error into row errors (a *BatchError, which
// comes with a result) and a failure of the whole call.
func rowErrors(err error) ([]core.RowError, error) {
	var be *BatchError
	if !errors.As(err, &be) {
		return nil, err
	}
	errs := make([]core.RowError, len(be.Rows))
	for i, e := range be.Rows {
		errs[i] = core.RowError{Row: e.Row, Msg: e.Msg}
	}
	return errs, nil
}

// Stats are a function's counters since its module was loaded.
type Stats struct {
	Calls     int64         // batch calls
	Rows      int64         // input rows
	RowErrors int64         // rows the function reported errors for
	Failures  int64         // calls that failed as a whole (trap, deadline, bad result)
	Time      time.Duration // time inside calls, copies included
}

type stats struct {
	calls, rows, rowErrors, failures, nanos atomic.Int64
}

func (s *stats) record(rows int, start time.Time, res result, err error) {
	s.calls.Add(1)
	s.rows.Add(int64(rows))
	s.nanos.Add(int64(time.Since(start)))
	if err != nil {
		s.failures.Add(1)
	}
	s.rowErrors.Add(int64(len(res.errs)))
}

// Stats returns the function's counters.
func (f *Function) Stats() Stats {
	return Stats{Calls: f.stats.calls.Load(), Rows: f.stats.rows.Load(), RowErrors: f.stats.rowErrors.Load(),
		Failures: f.stats.failures.Load(), Time: time.Duration(f.stats.nanos.Load())}
}
