package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// AggKind names an aggregate function.
type AggKind string

// The aggregates GroupAgg maintains under insertions and retractions.
const (
	AggCountStar AggKind = "count(*)"
	AggCount     AggKind = "count"
	AggSum       AggKind = "sum"
	AggAvg       AggKind = "avg"
	AggMin       AggKind = "min"
	AggMax       AggKind = "max"
	// AggCountDistinct counts the distinct non-NULL values.
	AggCountDistinct AggKind = "count_distinct"
	// AggUDF is a user-defined aggregate (AggSpec.UDF): opaque states
	// folded in and out by the function, once per batch.
	AggUDF AggKind = "udf"
)

// keepsValues reports whether the aggregate needs the multiset of its
// input values to survive retractions (the minimum can be retracted).
func (k AggKind) keepsValues() bool {
	return k == AggMin || k == AggMax || k == AggCountDistinct
}

// AggSpec is one aggregate of a GroupAgg: Kind over input column Arg (-1
// for count(*)), named Name in the output.
type AggSpec struct {
	Kind AggKind
	Arg  int
	Name string
	// T is the result type: bigint for counts and integer sums, double for
	// floating sums.
	T core.Type
	// UDF is the function of an AggUDF; UDFArgs are its input columns
	// (Arg is UDFArgs[0]) and Policy what a row it fails on becomes.
	UDF     core.AggregateFunction
	UDFArgs []int
	Policy  core.ErrorPolicy
}

// GroupAgg groups its input by the key columns and maintains the aggregates
// of each group under insertions and retractions (weights). Its output has
// the key columns, then one column per aggregate; at the end of an epoch it
// emits, for each group the epoch changed, the retraction of the group's old
// row and the insertion of its new one. With no key columns it is a global
// aggregate: exactly one row, present even over empty input.
type GroupAgg struct {
	mem    memory.Allocator
	keys   []int
	aggs   []AggSpec
	schema *arrow.Schema

	groups   map[string]*group
	dirty    []*group
	hasUDF   bool     // some aggregate is user-defined
	rowGroup []*group // Push: the group of each row, for user-defined aggregates
	buf      []byte
	argFloat []bool // per aggregate: its argument is floating point

	win     *WindowClose
	wm      int64
	lastWM  int64
	pending map[string]*group // EmitOnClose: changed groups whose window is open
	changed map[string]bool   // groups changed since the last checkpoint
	store   StateLookup       // the committed checkpoint, for groups not in memory
	maxKeys int               // groups kept in memory after a checkpoint (0: all)
}

// SetWindow makes the aggregate window-aware (see WindowClose).
func (g *GroupAgg) SetWindow(wc *WindowClose) {
	g.win = wc
	g.pending = map[string]*group{}
}

// HoldsWindows reports whether the aggregate emits windows only at close.
func (g *GroupAgg) HoldsWindows() bool { return g.win != nil && g.win.EmitOnClose }

// SetWatermark implements Watermarked.
func (g *GroupAgg) SetWatermark(wm int64) { g.wm = wm }

// closed reports whether a window group no longer changes.
func (g *GroupAgg) closed(gr *group) bool {
	if g.win == nil || g.wm == NoWatermark {
		return false
	}
	t, ok := gr.keyVals[g.win.Key].(time.Time)
	if !ok {
		return false // a NULL window bound never closes
	}
	end := t.UnixMicro() + g.win.Offset
	return end+g.win.Grace <= g.wm || g.wm == math.MaxInt64
}

type group struct {
	key     string
	keyVals []any   // key values, for output
	rows    int64   // sum of weights
	cnt     []int64 // per aggregate: weight of non-NULL inputs
	isum    []int64
	fsum    []float64
	vals    []map[any]int64 // per aggregate that keeps values: value -> weight
	ustate  [][]byte        // per user-defined aggregate: its state (nil: initial)
	uval    []any           // per user-defined aggregate: the finished value
	ustale  bool            // uval is out of date
	dirty   bool
	out     []any // the row currently emitted downstream; nil when none
}

// NewGroupAgg returns a grouping aggregate over batches of in. keyNames name
// the output key columns.
func NewGroupAgg(mem memory.Allocator, in *arrow.Schema, keys []int, keyNames []string, aggs []AggSpec) (*GroupAgg, error) {
	fs := make([]arrow.Field, 0, len(keys)+len(aggs)+1)
	for i, k := range keys {
		fs = append(fs, arrow.Field{Name: keyNames[i], Type: in.Field(k).Type, Nullable: true})
	}
	for _, a := range aggs {
		if a.Arg >= 0 {
			switch in.Field(a.Arg).Type.ID() {
			case arrow.INT32, arrow.INT64, arrow.FLOAT64:
			default:
				if a.Kind == AggSum || a.Kind == AggAvg {
					return nil, fmt.Errorf("engine: %s over %s is not supported", a.Kind, in.Field(a.Arg).Type)
				}
			}
		}
		fs = append(fs, arrow.Field{Name: a.Name, Type: a.T.Arrow, Nullable: true})
	}
	fs = append(fs, core.WeightField)
	g := &GroupAgg{mem: mem, keys: keys, aggs: aggs, schema: arrow.NewSchema(fs, nil), groups: map[string]*group{}, argFloat: make([]bool, len(aggs)), wm: NoWatermark, lastWM: NoWatermark, changed: map[string]bool{}}
	for i, a := range aggs {
		g.argFloat[i] = a.Arg >= 0 && in.Field(a.Arg).Type.ID() == arrow.FLOAT64
		if a.Kind == AggUDF {
			if a.UDF == nil || len(a.UDFArgs) == 0 {
				return nil, fmt.Errorf("engine: user-defined aggregate %s has no function or arguments", a.Name)
			}
			g.hasUDF = true
		}
	}
	if len(keys) == 0 {
		gr := g.newGroup("", nil)
		g.groups[""] = gr
		gr.dirty = true
		g.dirty = append(g.dirty, gr)
		g.changed[""] = true
	}
	return g, nil
}

func (g *GroupAgg) newGroup(key string, vals []any) *group {
	n := len(g.aggs)
	gr := &group{key: key, keyVals: vals, cnt: make([]int64, n), isum: make([]int64, n), fsum: make([]float64, n)}
	for i, a := range g.aggs {
		if a.Kind.keepsValues() {
			if gr.vals == nil {
				gr.vals = make([]map[any]int64, n)
			}
			gr.vals[i] = map[any]int64{}
		}
	}
	if g.hasUDF {
		gr.ustate, gr.uval, gr.ustale = make([][]byte, n), make([]any, n), true
	}
	return gr
}

func (g *GroupAgg) Schema() *arrow.Schema { return g.schema }
func (g *GroupAgg) Stateful() bool        { return true }
func (g *GroupAgg) Close()                { g.groups = nil }
func (g *GroupAgg) Explain() string {
	ks := make([]string, len(g.keys))
	for i, k := range g.keys {
		ks[i] = fmt.Sprintf("#%d", k)
	}
	as := make([]string, len(g.aggs))
	for i, a := range g.aggs {
		switch {
		case a.Kind == AggUDF:
			args := make([]string, len(a.UDFArgs))
			for j, c := range a.UDFArgs {
				args[j] = fmt.Sprintf("#%d", c)
			}
			as[i] = fmt.Sprintf("udf %s(%s) AS %s", a.UDF.FunctionName(), strings.Join(args, ", "), a.Name)
		case a.Arg < 0:
			as[i] = fmt.Sprintf("%s AS %s", a.Kind, a.Name)
		default:
			as[i] = fmt.Sprintf("%s(#%d) AS %s", a.Kind, a.Arg, a.Name)
		}
	}
	s := fmt.Sprintf("GroupAgg keys=[%s] aggs=[%s]", strings.Join(ks, ", "), strings.Join(as, ", "))
	if g.win != nil {
		s += fmt.Sprintf(" window=#%d grace=%s", g.keys[g.win.Key], time.Duration(g.win.Grace)*time.Microsecond)
		if g.win.EmitOnClose {
			s += " emit=on-window-close"
		}
	}
	return s
}

// Groups returns the number of groups held in state.
func (g *GroupAgg) Groups() int { return len(g.groups) }

// Push implements Operator: it folds the batch into the groups' state.
func (g *GroupAgg) Push(ctx context.Context, _ int, in arrow.RecordBatch, _ Emit) error {
	n := int(in.NumRows())
	if g.hasUDF {
		g.rowGroup = g.rowGroup[:0]
	}
	w := fixed[int64](core.Weights(in))
	keyCols := make([]arrow.Array, len(g.keys))
	for i, k := range g.keys {
		keyCols[i] = in.Column(k)
	}
	args := make([]arrow.Array, len(g.aggs))
	for i, a := range g.aggs {
		if a.Arg >= 0 {
			args[i] = in.Column(a.Arg)
		}
	}
	for r := 0; r < n; r++ {
		g.buf = g.buf[:0]
		for _, c := range keyCols {
			g.buf = appendKey(g.buf, c, r)
		}
		gr, ok := g.groups[string(g.buf)]
		if !ok && g.lazy() {
			loaded, err := g.load(string(g.buf))
			if err != nil {
				return fmt.Errorf("engine: load group from the state store: %w", err)
			}
			if loaded != nil {
				gr, ok = loaded, true
				g.groups[gr.key] = gr
			}
		}
		if !ok {
			vals := make([]any, len(keyCols))
			for i, c := range keyCols {
				vals[i] = core.ValueAt(c, r)
			}
			gr = g.newGroup(string(g.buf), vals)
			g.groups[gr.key] = gr
		}
		if !gr.dirty {
			gr.dirty = true
			g.dirty = append(g.dirty, gr)
			g.changed[gr.key] = true
		}
		wt := w[r]
		gr.rows += wt
		if g.hasUDF {
			g.rowGroup = append(g.rowGroup, gr)
			gr.ustale = true
		}
		for i, a := range g.aggs {
			if a.Arg < 0 || a.Kind == AggUDF {
				continue
			}
			c := args[i]
			if c.IsNull(r) {
				continue
			}
			gr.cnt[i] += wt
			if a.Kind.keepsValues() {
				v := valueKey(core.ValueAt(c, r))
				n := gr.vals[i][v] + wt
				if n == 0 {
					delete(gr.vals[i], v)
				} else {
					gr.vals[i][v] = n
				}
				continue
			}
			if a.Kind != AggSum && a.Kind != AggAvg {
				continue
			}
			switch c := c.(type) {
			case *array.Int64:
				s, overflow := addMul(gr.isum[i], c.Value(r), wt)
				if overflow {
					return fmt.Errorf("sum(%s): %w", g.schema.Field(len(g.keys)+i).Name, ErrOverflow)
				}
				gr.isum[i] = s
			case *array.Int32:
				s, overflow := addMul(gr.isum[i], int64(c.Value(r)), wt)
				if overflow {
					return fmt.Errorf("sum(%s): %w", g.schema.Field(len(g.keys)+i).Name, ErrOverflow)
				}
				gr.isum[i] = s
			case *array.Float64:
				gr.fsum[i] += c.Value(r) * float64(wt)
			}
		}
	}
	if g.hasUDF {
		for i, a := range g.aggs {
			if a.Kind == AggUDF {
				if err := g.foldUDF(ctx, i, in); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// addMul returns s + v*w and whether it overflowed int64.
func addMul(s, v, w int64) (int64, bool) {
	p := v * w
	if v != 0 && (p/v != w || (v == -1 && w == math.MinInt64)) {
		return 0, true
	}
	r := s + p
	if (r > s) != (p > 0) {
		return 0, true
	}
	return r, false
}

// row returns the group's current output row, or nil when the group is empty.
func (g *GroupAgg) row(gr *group) []any {
	if gr.rows == 0 && len(g.keys) > 0 {
		return nil
	}
	out := make([]any, 0, len(gr.keyVals)+len(g.aggs))
	out = append(out, gr.keyVals...)
	for i, a := range g.aggs {
		switch {
		case a.Kind == AggCountStar:
			out = append(out, gr.rows)
		case a.Kind == AggCount:
			out = append(out, gr.cnt[i])
		case a.Kind == AggCountDistinct:
			out = append(out, int64(len(gr.vals[i])))
		case a.Kind == AggUDF:
			out = append(out, gr.uval[i])
		case gr.cnt[i] == 0:
			out = append(out, nil)
		case a.Kind == AggMin || a.Kind == AggMax:
			out = append(out, extreme(gr.vals[i], a.Kind == AggMin, a.T))
		case a.Kind == AggAvg:
			if g.argFloat[i] {
				out = append(out, gr.fsum[i]/float64(gr.cnt[i]))
			} else {
				out = append(out, float64(gr.isum[i])/float64(gr.cnt[i]))
			}
		case a.T.Arrow.ID() == arrow.FLOAT64:
			out = append(out, gr.fsum[i])
		default:
			out = append(out, gr.isum[i])
		}
	}
	return out
}

// EndEpoch implements Operator: it emits -old/+new for every group the epoch
// changed, and forgets groups that became empty.
func (g *GroupAgg) EndEpoch(ctx context.Context, emit Emit) error {
	if g.win != nil {
		defer g.purgeClosed()
	}
	if g.hasUDF {
		if err := g.finishUDFs(ctx); err != nil {
			return err
		}
	}
	if g.win != nil && g.win.EmitOnClose {
		return g.emitClosed(emit)
	}
	if len(g.dirty) == 0 {
		return nil
	}
	bld := array.NewRecordBuilder(g.mem, g.schema)
	defer bld.Release()
	wcol := len(g.schema.Fields()) - 1
	for _, gr := range g.dirty {
		gr.dirty = false
		if gr.rows < 0 {
			return fmt.Errorf("engine: group %v has negative count %d: a retraction without its insertion", gr.keyVals, gr.rows)
		}
		nw := g.row(gr)
		if rowsEqual(gr.out, nw) {
			continue
		}
		if gr.out != nil {
			appendRow(bld, gr.out)
			bld.Field(wcol).(*array.Int64Builder).Append(-1)
		}
		if nw != nil {
			appendRow(bld, nw)
			bld.Field(wcol).(*array.Int64Builder).Append(1)
		}
		gr.out = nw
		if nw == nil {
			delete(g.groups, gr.key)
		}
	}
	g.dirty = g.dirty[:0]
	return emitBuilt(bld, emit)
}

func rowsEqual(a, b []any) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if x, ok := a[i].(time.Time); ok {
			y, ok := b[i].(time.Time)
			if !ok || !x.Equal(y) {
				return false
			}
			continue
		}
		if xb, ok := a[i].([]byte); ok {
			yb, ok := b[i].([]byte)
			if !ok || string(xb) != string(yb) {
				return false
			}
			continue
		}
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// appendRow appends Go values (as core.ValueAt returns them) to the first
// len(vals) builders of bld.
func appendRow(bld *array.RecordBuilder, vals []any) {
	for i, v := range vals {
		core.AppendValue(bld.Field(i), v)
	}
}

// appendKey appends an unambiguous encoding of row r of c to buf: a tag
// byte (NULL or not), then the value (fixed width, or length-prefixed).
func appendKey(buf []byte, c arrow.Array, r int) []byte {
	if c.IsNull(r) {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch c := c.(type) {
	case *array.Int64:
		return binary.LittleEndian.AppendUint64(buf, uint64(c.Value(r)))
	case *array.Int32:
		return binary.LittleEndian.AppendUint32(buf, uint32(c.Value(r)))
	case *array.Float64:
		f := c.Value(r)
		if f == 0 {
			f = 0 // -0 and +0 are one group
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	case *array.String:
		s := c.Value(r)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case *array.Binary:
		s := c.Value(r)
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		return append(buf, s...)
	case *array.Boolean:
		if c.Value(r) {
			return append(buf, 1)
		}
		return append(buf, 0)
	case *array.Date32:
		return binary.LittleEndian.AppendUint32(buf, uint32(c.Value(r)))
	case *array.Timestamp:
		return binary.LittleEndian.AppendUint64(buf, uint64(c.Value(r)))
	}
	s := c.ValueStr(r)
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// valueKey makes a value from core.ValueAt usable as a map key.
func valueKey(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case float64:
		if x == 0 {
			return float64(0) // -0 and +0 are one value
		}
	case time.Time:
		return x.UnixMicro()
	}
	return v
}

// extreme returns the smallest (min) or largest value of a multiset, in the
// aggregate's result type.
func extreme(vals map[any]int64, min bool, t core.Type) any {
	var best any
	for v := range vals {
		if best == nil || less(v, best) == min {
			best = v
		}
	}
	switch x := best.(type) {
	case int64:
		switch t.Arrow.ID() {
		case arrow.TIMESTAMP:
			return time.UnixMicro(x).UTC()
		case arrow.DATE32:
			return time.UnixMicro(x).UTC()
		}
	case string:
		if t.Arrow.ID() == arrow.BINARY {
			return []byte(x)
		}
	}
	return best
}

// less orders two values of one type (as valueKey returns them).
func less(a, b any) bool {
	switch x := a.(type) {
	case int64:
		return x < b.(int64)
	case int32:
		return x < b.(int32)
	case float64:
		y := b.(float64)
		return x < y || (math.IsNaN(y) && !math.IsNaN(x)) // NaN sorts last, as in DuckDB
	case string:
		return x < b.(string)
	case bool:
		return !x && b.(bool)
	}
	return false
}

// emitClosed is EndEpoch under EMIT ON WINDOW CLOSE: changed groups wait
// until their window closes, then their final row is emitted once.
func (g *GroupAgg) emitClosed(emit Emit) error {
	for _, gr := range g.dirty {
		gr.dirty = false
		g.pending[gr.key] = gr
	}
	g.dirty = g.dirty[:0]
	bld := array.NewRecordBuilder(g.mem, g.schema)
	defer bld.Release()
	wcol := len(g.schema.Fields()) - 1
	keys := make([]string, 0, len(g.pending))
	for k, gr := range g.pending {
		if g.closed(gr) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // deterministic output order
	for _, k := range keys {
		gr := g.pending[k]
		delete(g.pending, k)
		delete(g.groups, k)
		g.changed[k] = true
		if nw := g.row(gr); nw != nil {
			appendRow(bld, nw)
			bld.Field(wcol).(*array.Int64Builder).Append(1)
		}
	}
	return emitBuilt(bld, emit)
}

// purgeClosed forgets the state of closed windows (their rows stay in the
// output): late rows for them are dropped before they get here.
func (g *GroupAgg) purgeClosed() {
	if g.wm == g.lastWM || g.wm == NoWatermark {
		return
	}
	g.lastWM = g.wm
	for k, gr := range g.groups {
		if _, waiting := g.pending[k]; waiting || gr.dirty {
			continue
		}
		if g.closed(gr) {
			delete(g.groups, k)
			g.changed[k] = true
		}
	}
}

// Checkpoint implements Checkpointer: every group changed since the last
// checkpoint is written (or deleted when it is gone).
func (g *GroupAgg) Checkpoint(w StateWriter) error {
	var buf []byte
	for k := range g.changed {
		gr, ok := g.groups[k]
		if !ok {
			w.Delete([]byte(k))
			continue
		}
		buf = buf[:0]
		buf = binary.AppendUvarint(buf, uint64(len(gr.keyVals)))
		for _, v := range gr.keyVals {
			buf = appendValue(buf, v)
		}
		buf = binary.AppendVarint(buf, gr.rows)
		for i := range g.aggs {
			buf = binary.AppendVarint(buf, gr.cnt[i])
			buf = binary.AppendVarint(buf, gr.isum[i])
			buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(gr.fsum[i]))
			if gr.vals == nil || gr.vals[i] == nil {
				buf = append(buf, 0)
				continue
			}
			buf = append(buf, 1)
			buf = binary.AppendUvarint(buf, uint64(len(gr.vals[i])))
			for v, n := range gr.vals[i] {
				buf = appendValue(buf, v)
				buf = binary.AppendVarint(buf, n)
			}
		}
		if gr.out == nil {
			buf = append(buf, 0)
		} else {
			buf = append(buf, 1)
			for _, v := range gr.out {
				buf = appendValue(buf, v)
			}
		}
		if _, waiting := g.pending[k]; waiting {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
		for i, a := range g.aggs {
			if a.Kind != AggUDF {
				continue
			}
			if gr.ustate[i] == nil {
				buf = binary.AppendUvarint(buf, 0)
				continue
			}
			buf = binary.AppendUvarint(buf, uint64(len(gr.ustate[i]))+1)
			buf = append(buf, gr.ustate[i]...)
		}
		w.Set([]byte(k), buf)
	}
	clear(g.changed)
	return nil
}

// Checkpointed implements Spiller: the checkpoint is committed, so clean
// groups may leave memory.
func (g *GroupAgg) Checkpointed() { g.evict() }

// Restore implements Checkpointer.
func (g *GroupAgg) Restore(r StateReader) error {
	g.dirty = g.dirty[:0]
	clear(g.changed)
	if len(g.keys) == 0 {
		delete(g.groups, "")
	}
	if g.lazy() {
		// Groups load on demand from the store (bounded memory); only the
		// global group, if any, is needed up front.
		if len(g.keys) == 0 {
			if gr, err := g.load(""); err != nil {
				return err
			} else if gr != nil {
				g.groups[""] = gr
			}
		}
	} else {
		err := r.Scan(func(k, v []byte) error {
			gr, err := g.decodeGroup(k, v)
			if err != nil {
				return err
			}
			g.groups[gr.key] = gr
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, ok := g.groups[""]; !ok && len(g.keys) == 0 {
		gr := g.newGroup("", nil)
		g.groups[""] = gr
		gr.dirty = true
		g.dirty = append(g.dirty, gr)
	}
	return nil
}

// decodeGroup decodes a group written by Checkpoint.
func (g *GroupAgg) decodeGroup(k, v []byte) (*group, error) {
	d := &decoder{b: v}
	nk := int(d.uvarint())
	gr := g.newGroup(string(k), nil)
	gr.keyVals = make([]any, nk)
	for i := range gr.keyVals {
		gr.keyVals[i] = d.value()
	}
	gr.rows = d.varint()
	for i, a := range g.aggs {
		gr.cnt[i] = d.varint()
		gr.isum[i] = d.varint()
		if len(d.b) < 9 {
			d.fail()
			break
		}
		gr.fsum[i] = math.Float64frombits(binary.BigEndian.Uint64(d.b))
		has := d.b[8]
		d.b = d.b[9:]
		if has == 1 {
			n := int(d.uvarint())
			m := map[any]int64{}
			for j := 0; j < n && d.err == nil; j++ {
				val := d.value()
				if t, ok := val.(time.Time); ok {
					val = t.UnixMicro()
				}
				m[val] = d.varint()
			}
			if a.Kind.keepsValues() {
				gr.vals[i] = m
			}
		}
	}
	if len(d.b) == 0 {
		d.fail()
	} else {
		has := d.b[0]
		d.b = d.b[1:]
		if has == 1 {
			gr.out = make([]any, len(gr.keyVals)+len(g.aggs))
			for i := range gr.out {
				gr.out[i] = d.value()
			}
		}
	}
	if len(d.b) > 0 {
		if d.b[0] == 1 {
			g.pending[gr.key] = gr
		}
		d.b = d.b[1:]
	}
	for i, a := range g.aggs {
		if a.Kind != AggUDF || d.err != nil {
			continue
		}
		n := d.uvarint()
		if n == 0 {
			continue
		}
		if uint64(len(d.b)) < n-1 {
			d.fail()
			break
		}
		gr.ustate[i] = append([]byte(nil), d.b[:n-1]...)
		d.b = d.b[n-1:]
	}
	if d.err != nil {
		return nil, fmt.Errorf("engine: restore group %x: %w", k, d.err)
	}
	return gr, nil
}

// AttachState implements Spiller: with a store and a limit, clean groups
// beyond the limit leave memory after each checkpoint and are read back
// from the store when a row needs them.
func (g *GroupAgg) AttachState(store StateLookup, maxKeys int) {
	g.store, g.maxKeys = store, maxKeys
}

// lazy reports whether groups live in the store rather than all in memory.
// Window aggregates keep every open window in memory: the watermark bounds
// them and closing needs them all.
func (g *GroupAgg) lazy() bool { return g.store != nil && g.maxKeys > 0 && g.win == nil }

// load reads a group from the store; nil when it is not there.
func (g *GroupAgg) load(key string) (*group, error) {
	v, ok, err := g.store.Get([]byte(key))
	if err != nil || !ok {
		return nil, err
	}
	return g.decodeGroup([]byte(key), v)
}

// evict drops clean groups (written by the checkpoint just taken) until at
// most maxKeys stay in memory.
func (g *GroupAgg) evict() {
	if !g.lazy() || len(g.groups) <= g.maxKeys {
		return
	}
	for k, gr := range g.groups {
		if len(g.groups) <= g.maxKeys {
			return
		}
		if k == "" || gr.dirty || g.changed[k] {
			continue
		}
		delete(g.groups, k)
	}
}
