package engine

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// Watermarks: an operator that implements Watermarked learns, before each
// Push of an epoch and before EndEpoch, the event-time watermark of its
// dataflow (microseconds since the epoch; math.MinInt64 when no input has
// event time yet, math.MaxInt64 once bounded inputs are exhausted).
type Watermarked interface {
	SetWatermark(wm int64)
}

// NoWatermark is the watermark of a dataflow whose inputs have not
// reported event time.
const NoWatermark = math.MinInt64

// WindowKind names a window table function.
type WindowKind string

// The window kinds.
const (
	Tumble WindowKind = "TUMBLE"
	Hop    WindowKind = "HOP"
)

// WindowAssign assigns each row to its event-time windows: it appends
// window_start and window_end (timestamps) and, for HOP, emits one copy of
// the row per window. Rows whose window is already closed (the watermark
// has passed window_end + grace) are late: they are dropped and reported as
// dead letters. Rows with a NULL event time belong to no window.
type WindowAssign struct {
	mem    memory.Allocator
	kind   WindowKind
	ts     int
	size   int64 // microseconds
	slide  int64
	grace  int64
	wm     int64
	schema *arrow.Schema
	source string
}

// NewWindowAssign returns the window assignment over changelog batches of
// in, using timestamp column ts; slide equals size for TUMBLE. source names
// the input in dead letters.
func NewWindowAssign(mem memory.Allocator, in *arrow.Schema, kind WindowKind, ts int, size, slide, grace time.Duration, source string) (*WindowAssign, error) {
	if size <= 0 || slide <= 0 {
		return nil, fmt.Errorf("engine: %s window size and slide must be positive, got %s and %s", kind, size, slide)
	}
	if in.Field(ts).Type.ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("engine: %s over %s: the event-time column must be a timestamp", kind, in.Field(ts).Type)
	}
	fs := append([]arrow.Field(nil), core.DataSchema(in).Fields()...)
	tsType := &arrow.TimestampType{Unit: arrow.Microsecond}
	fs = append(fs, arrow.Field{Name: "window_start", Type: tsType, Nullable: true},
		arrow.Field{Name: "window_end", Type: tsType, Nullable: true}, core.WeightField)
	return &WindowAssign{mem: mem, kind: kind, ts: ts, size: size.Microseconds(), slide: slide.Microseconds(),
		grace: grace.Microseconds(), wm: NoWatermark, schema: arrow.NewSchema(fs, nil), source: source}, nil
}

func (w *WindowAssign) Schema() *arrow.Schema                { return w.schema }
func (w *WindowAssign) Stateful() bool                       { return false }
func (w *WindowAssign) Close()                               {}
func (w *WindowAssign) EndEpoch(context.Context, Emit) error { return nil }
func (w *WindowAssign) SetWatermark(wm int64)                { w.wm = wm }
func (w *WindowAssign) Explain() string {
	if w.kind == Tumble {
		return fmt.Sprintf("WindowAssign TUMBLE(#%d, %s) grace=%s", w.ts, time.Duration(w.size)*time.Microsecond, time.Duration(w.grace)*time.Microsecond)
	}
	return fmt.Sprintf("WindowAssign HOP(#%d, slide=%s, size=%s) grace=%s", w.ts, time.Duration(w.slide)*time.Microsecond,
		time.Duration(w.size)*time.Microsecond, time.Duration(w.grace)*time.Microsecond)
}

// closed reports whether the window ending at end no longer accepts rows.
func (w *WindowAssign) closed(end int64) bool {
	return w.wm != NoWatermark && end+w.grace <= w.wm
}

// floorDiv rounds x down to a multiple of m (also for negative x).
func floorDiv(x, m int64) int64 {
	q := x / m
	if x%m != 0 && x < 0 {
		q--
	}
	return q * m
}

// Push implements Operator.
func (w *WindowAssign) Push(ctx context.Context, _ int, in arrow.RecordBatch, emit Emit) error {
	n := int(in.NumRows())
	tsCol := in.Column(w.ts).(*array.Timestamp)
	tsv := tsCol.TimestampValues()
	// idx[i] is the input row of output row i; starts[i] its window start.
	idx := make([]int, 0, n)
	starts := make([]int64, 0, n)
	for r := 0; r < n; r++ {
		if tsCol.IsNull(r) {
			continue
		}
		t := int64(tsv[r])
		last := floorDiv(t, w.slide)
		kept := false
		for s := last; s > t-w.size; s -= w.slide {
			if w.closed(s + w.size) {
				continue
			}
			idx = append(idx, r)
			starts = append(starts, s)
			kept = true
		}
		if !kept && core.Weights(in).Value(r) > 0 {
			ReportDeadLetter(ctx, core.DeadLetter{
				Source: w.source, Partition: "", Offset: -1,
				Reason: fmt.Sprintf("late event: event time %s is in a window closed by the watermark %s (grace %s)",
					time.UnixMicro(t).UTC().Format("2006-01-02 15:04:05.999999"), wmText(w.wm),
					time.Duration(w.grace)*time.Microsecond),
				Raw: []byte(rowText(in, r)),
			})
		}
	}
	if len(idx) == n && w.size == w.slide {
		// Every row in exactly one window: add the two columns.
		return w.emitWith(in, nil, starts, emit)
	}
	if len(idx) == 0 {
		return nil
	}
	return w.emitWith(in, idx, starts, emit)
}

func (w *WindowAssign) emitWith(in arrow.RecordBatch, idx []int, starts []int64, emit Emit) error {
	ncols := int(in.NumCols()) - 1
	cols := make([]arrow.Array, 0, ncols+3)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	var take arrow.Array
	if idx != nil {
		ib := array.NewInt64Builder(w.mem)
		for _, i := range idx {
			ib.Append(int64(i))
		}
		take = ib.NewArray()
		ib.Release()
		defer take.Release()
	}
	pick := func(c arrow.Array) (arrow.Array, error) {
		if take == nil {
			c.Retain()
			return c, nil
		}
		return takeArray(w.mem, c, take)
	}
	for c := 0; c < ncols; c++ {
		a, err := pick(in.Column(c))
		if err != nil {
			return err
		}
		cols = append(cols, a)
	}
	sb := array.NewTimestampBuilder(w.mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	eb := array.NewTimestampBuilder(w.mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	for _, s := range starts {
		sb.Append(arrow.Timestamp(s))
		eb.Append(arrow.Timestamp(s + w.size))
	}
	cols = append(cols, sb.NewArray(), eb.NewArray())
	sb.Release()
	eb.Release()
	wcol, err := pick(core.Weights(in))
	if err != nil {
		return err
	}
	cols = append(cols, wcol)
	out := array.NewRecordBatch(w.schema, cols, int64(len(starts)))
	defer out.Release()
	return emit(out)
}

// rowText renders row r of b for a dead letter.
func rowText(b arrow.RecordBatch, r int) string {
	s := "{"
	for c := 0; c < int(b.NumCols())-1; c++ {
		if c > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q: %s", b.Schema().Field(c).Name, core.FormatValue(core.ValueAt(b.Column(c), r)))
	}
	return s + "}"
}

type deadLetterKey struct{}

// WithDeadLetters returns a context whose operators report dead letters
// (late events, rows a function rejects) to fn.
func WithDeadLetters(ctx context.Context, fn func(core.DeadLetter)) context.Context {
	return context.WithValue(ctx, deadLetterKey{}, fn)
}

// ReportDeadLetter hands d to the dead-letter output of the running epoch,
// if any.
func ReportDeadLetter(ctx context.Context, d core.DeadLetter) {
	if fn, ok := ctx.Value(deadLetterKey{}).(func(core.DeadLetter)); ok {
		fn(d)
	}
}

func takeArray(mem memory.Allocator, values, indices arrow.Array) (arrow.Array, error) {
	return compute.TakeArray(compute.WithAllocator(context.Background(), mem), values, indices)
}

// WindowClose tells a GroupAgg that one of its keys is a window bound, so
// groups close when the watermark passes the window's end plus the grace
// period: with EmitOnClose, a window's row is emitted once, at close; without
// it, rows are updated as events arrive and closed windows leave the state.
type WindowClose struct {
	Key         int   // index of the key column holding window_start or window_end
	Offset      int64 // microseconds added to that key to get window_end
	Grace       int64 // microseconds
	EmitOnClose bool
}

// wmText renders a watermark for people.
func wmText(wm int64) string {
	if wm == math.MaxInt64 {
		return "+infinity (the bounded input ended)"
	}
	return time.UnixMicro(wm).UTC().Format("2006-01-02 15:04:05.999999")
}
