package udf

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
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
	var be *BatchError
	if errors.As(err, &be) {
		errs := make([]core.RowError, len(be.Rows))
		for i, e := range be.Rows {
			errs[i] = core.RowError{Row: e.Row, Msg: e.Msg}
		}
		return out, errs, nil
	}
	return out, nil, err
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
