package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// JoinKind is the kind of an equi-join.
type JoinKind string

// The join kinds.
const (
	JoinInner JoinKind = "inner"
	JoinLeft  JoinKind = "left"
	JoinRight JoinKind = "right"
	JoinFull  JoinKind = "full"
)

// Join is an incremental equi-join of two changelogs: port 0 is the left
// input, port 1 the right. Its output is the left columns then the right
// columns. Both sides are kept in state (per key, the multiset of rows), so
// a change on either side joins against the other side's current state:
// Δ(L⋈R) = ΔL⋈R + L'⋈ΔR. Outer joins also maintain the NULL-extended rows:
// a left row without partner appears as (l, NULL...) and is retracted when
// the first partner arrives (and re-emitted when the last one leaves).
// A key with a NULL column never matches, as in SQL.
type Join struct {
	mem         memory.Allocator
	kind        JoinKind
	lk, rk      []int
	nl, nr      int
	schema      *arrow.Schema
	side        [2]map[string]*joinKey
	buf, rowBuf []byte
	bld         *array.RecordBuilder
	wb          *array.Int64Builder
	keyNames    string
	changed     [2]map[string]bool // per side, keys changed since the last checkpoint

	tb      *TimeBound
	wm      int64 // the watermark
	cleaned int64 // the watermark state was last cleaned to; older rows are late
	source  [2]string
}

// TimeBound makes a join an interval join: right.ts - left.ts lies in
// [Lower, Upper] (microseconds). With it, rows whose every possible partner
// is behind the watermark leave the state, and rows older than the
// watermark arrive too late to be joined: they are dead letters.
type TimeBound struct {
	LeftTs, RightTs int   // column of each side's event time
	Lower, Upper    int64 // µs
}

// SetTimeBound turns the join into an interval join; sources name the
// sides in dead letters.
func (j *Join) SetTimeBound(tb *TimeBound, left, right string) {
	j.tb = tb
	j.source = [2]string{left, right}
	j.cleaned = NoWatermark
}

// SetWatermark implements Watermarked.
func (j *Join) SetWatermark(wm int64) { j.wm = wm }

// rowTime returns a stored row's event time on side s.
func (j *Join) rowTime(s int, vals []any) (int64, bool) {
	c := j.tb.LeftTs
	if s == 1 {
		c = j.tb.RightTs
	}
	t, ok := vals[c].(time.Time)
	return t.UnixMicro(), ok
}

// clean drops the rows no future row can join: a left row at t once
// t + Upper is behind the watermark, a right row at t once t - Lower is.
func (j *Join) clean() {
	if j.tb == nil || j.wm == NoWatermark || j.wm <= j.cleaned {
		return
	}
	for s := 0; s < 2; s++ {
		for k, jk := range j.side[s] {
			for id, r := range jk.rows {
				t, _ := j.rowTime(s, r.vals)
				if (s == 0 && t+j.tb.Upper < j.wm) || (s == 1 && t-j.tb.Lower < j.wm) {
					jk.total -= r.w
					delete(jk.rows, id)
					j.changed[s][k] = true
				}
			}
			if len(jk.rows) == 0 {
				delete(j.side[s], k)
			}
		}
	}
	j.cleaned = j.wm
}

type joinKey struct {
	rows  map[string]*joinRow
	total int64
}

type joinRow struct {
	vals []any
	w    int64
}

// NewJoin returns a join of left and right (changelog schemas) on
// left[lk[i]] = right[rk[i]].
func NewJoin(mem memory.Allocator, kind JoinKind, left, right *arrow.Schema, lk, rk []int) (*Join, error) {
	if len(lk) != len(rk) || len(lk) == 0 {
		return nil, fmt.Errorf("engine: join needs matching key lists, got %d and %d", len(lk), len(rk))
	}
	ld, rd := core.DataSchema(left), core.DataSchema(right)
	fs := make([]arrow.Field, 0, ld.NumFields()+rd.NumFields()+1)
	for _, f := range ld.Fields() {
		f.Nullable = true
		fs = append(fs, f)
	}
	for _, f := range rd.Fields() {
		f.Nullable = true
		fs = append(fs, f)
	}
	fs = append(fs, core.WeightField)
	j := &Join{mem: mem, kind: kind, lk: lk, rk: rk, nl: ld.NumFields(), nr: rd.NumFields(),
		schema: arrow.NewSchema(fs, nil)}
	j.side[0], j.side[1] = map[string]*joinKey{}, map[string]*joinKey{}
	j.changed[0], j.changed[1] = map[string]bool{}, map[string]bool{}
	ks := make([]string, len(lk))
	for i := range lk {
		ks[i] = fmt.Sprintf("left#%d = right#%d", lk[i], rk[i])
	}
	j.keyNames = strings.Join(ks, " AND ")
	return j, nil
}

func (j *Join) Schema() *arrow.Schema { return j.schema }
func (j *Join) Stateful() bool        { return true }
func (j *Join) Explain() string {
	e := fmt.Sprintf("Join %s on %s", strings.ToUpper(string(j.kind)), j.keyNames)
	if j.tb != nil {
		e += fmt.Sprintf(" interval right#%d - left#%d in [%s, %s]", j.tb.RightTs, j.tb.LeftTs,
			time.Duration(j.tb.Lower)*time.Microsecond, time.Duration(j.tb.Upper)*time.Microsecond)
	}
	return e
}
func (j *Join) Close() {
	j.side[0], j.side[1] = nil, nil
	if j.bld != nil {
		j.bld.Release()
		j.bld = nil
	}
}
func (j *Join) EndEpoch(context.Context, Emit) error {
	j.clean()
	return nil
}

// outer reports whether rows of side s without partner are kept.
func (j *Join) outer(s int) bool {
	return j.kind == JoinFull || (s == 0 && j.kind == JoinLeft) || (s == 1 && j.kind == JoinRight)
}

// joinKeyOf appends the canonical encoding of the key columns of row r
// (integers of any width encode alike so int and bigint keys match) and
// reports whether any key column is NULL.
func joinKeyOf(buf []byte, cols []arrow.Array, r int) ([]byte, bool) {
	for _, c := range cols {
		if c.IsNull(r) {
			return buf, true
		}
		switch c := c.(type) {
		case *array.Int32:
			buf = append(buf, 1)
			buf = binary.LittleEndian.AppendUint64(buf, uint64(int64(c.Value(r))))
		case *array.Int64:
			buf = append(buf, 1)
			buf = binary.LittleEndian.AppendUint64(buf, uint64(c.Value(r)))
		default:
			buf = appendKey(buf, c, r)
		}
	}
	return buf, false
}

// Push implements Operator.
func (j *Join) Push(ctx context.Context, port int, in arrow.RecordBatch, emit Emit) error {
	if j.bld == nil {
		j.bld = array.NewRecordBuilder(j.mem, j.schema)
		j.wb = j.bld.Field(j.nl + j.nr).(*array.Int64Builder)
	}
	me, other := port, 1-port
	keys := j.lk
	if port == 1 {
		keys = j.rk
	}
	kcols := make([]arrow.Array, len(keys))
	for i, k := range keys {
		kcols[i] = in.Column(k)
	}
	ncols := int(in.NumCols()) - 1
	w := fixed[int64](core.Weights(in))
	for r := 0; r < int(in.NumRows()); r++ {
		wt := w[r]
		if wt == 0 {
			continue
		}
		vals := make([]any, ncols)
		for c := range vals {
			vals[c] = core.ValueAt(in.Column(c), r)
		}
		if j.tb != nil {
			t, ok := j.rowTime(me, vals)
			if !ok {
				continue // no event time: it can never satisfy the bound
			}
			if j.cleaned != NoWatermark && t < j.cleaned {
				if wt > 0 {
					ReportDeadLetter(ctx, core.DeadLetter{Source: j.source[me], Offset: -1,
						Reason: fmt.Sprintf("late event: event time %s is behind the watermark %s of an interval join",
							time.UnixMicro(t).UTC().Format("2006-01-02 15:04:05.999999"), wmText(j.cleaned)),
						Raw: []byte(rowText(in, r))})
				}
				continue
			}
		}
		var null bool
		j.buf, null = joinKeyOf(j.buf[:0], kcols, r)
		if null {
			if j.outer(me) {
				j.appendPair(me, vals, nil, wt)
			}
			continue
		}
		theirs := j.side[other][string(j.buf)]
		// Inner part: join against the other side's current rows.
		if theirs != nil {
			for _, o := range theirs.rows {
				j.appendPair(me, vals, o.vals, wt*o.w)
			}
		}
		// My own row without partner (outer on my side).
		if j.outer(me) && (theirs == nil || theirs.total <= 0) {
			j.appendPair(me, vals, nil, wt)
		}
		j.changed[me][string(j.buf)] = true
		mine := j.side[me][string(j.buf)]
		if mine == nil {
			mine = &joinKey{rows: map[string]*joinRow{}}
			j.side[me][string(j.buf)] = mine
		}
		before := mine.total
		after := before + wt
		// The other side's rows gain or lose their first/last partner.
		if j.outer(other) && theirs != nil {
			switch {
			case before <= 0 && after > 0:
				for _, o := range theirs.rows {
					j.appendPair(other, o.vals, nil, -o.w)
				}
			case before > 0 && after <= 0:
				for _, o := range theirs.rows {
					j.appendPair(other, o.vals, nil, o.w)
				}
			}
		}
		j.rowBuf = j.rowBuf[:0]
		for c := 0; c < ncols; c++ {
			j.rowBuf = appendKey(j.rowBuf, in.Column(c), r)
		}
		row := mine.rows[string(j.rowBuf)]
		if row == nil {
			row = &joinRow{vals: vals}
			mine.rows[string(j.rowBuf)] = row
		}
		row.w += wt
		if row.w == 0 {
			delete(mine.rows, string(j.rowBuf))
		}
		mine.total = after
		if len(mine.rows) == 0 {
			delete(j.side[me], string(j.buf))
		}
	}
	if j.wb.Len() == 0 {
		return nil
	}
	out := j.bld.NewRecordBatch()
	defer out.Release()
	return emit(out)
}

// appendPair appends the output row of a side-s row and its partner
// (nil: NULLs) with weight w.
func (j *Join) appendPair(s int, mine, theirs []any, w int64) {
	left, right := mine, theirs
	if s == 1 {
		left, right = theirs, mine
	}
	for c := 0; c < j.nl; c++ {
		if left == nil {
			j.bld.Field(c).AppendNull()
		} else {
			core.AppendValue(j.bld.Field(c), left[c])
		}
	}
	for c := 0; c < j.nr; c++ {
		if right == nil {
			j.bld.Field(j.nl + c).AppendNull()
		} else {
			core.AppendValue(j.bld.Field(j.nl+c), right[c])
		}
	}
	j.wb.Append(w)
}

// Union concatenates changelogs of one schema (UNION ALL). It is stateless.
type Union struct {
	schema *arrow.Schema
	n      int
}

// NewUnion returns a union of n inputs of schema.
func NewUnion(schema *arrow.Schema, n int) *Union { return &Union{schema: schema, n: n} }

func (u *Union) Schema() *arrow.Schema                { return u.schema }
func (u *Union) Stateful() bool                       { return false }
func (u *Union) Explain() string                      { return fmt.Sprintf("UnionAll inputs=%d", u.n) }
func (u *Union) Close()                               {}
func (u *Union) EndEpoch(context.Context, Emit) error { return nil }

// Push implements Operator: the batch passes through under the union's
// schema (the planner casts every input to it).
func (u *Union) Push(_ context.Context, _ int, in arrow.RecordBatch, emit Emit) error {
	if in.Schema().Equal(u.schema) {
		return emit(in)
	}
	out := array.NewRecordBatch(u.schema, in.Columns(), in.NumRows())
	defer out.Release()
	return emit(out)
}

// Checkpoint implements Checkpointer: per side, the rows of every key
// changed since the last checkpoint.
func (j *Join) Checkpoint(w StateWriter) error {
	var buf []byte
	if j.tb != nil {
		w.Set([]byte{2}, binary.AppendVarint(nil, j.cleaned))
	}
	for s := 0; s < 2; s++ {
		for k := range j.changed[s] {
			key := append([]byte{byte(s)}, k...)
			jk, ok := j.side[s][k]
			if !ok {
				w.Delete(key)
				continue
			}
			buf = binary.AppendVarint(buf[:0], jk.total)
			buf = binary.AppendUvarint(buf, uint64(len(jk.rows)))
			for id, r := range jk.rows {
				buf = binary.AppendUvarint(buf, uint64(len(id)))
				buf = append(buf, id...)
				buf = binary.AppendVarint(buf, r.w)
				buf = appendRowVals(buf, r.vals)
			}
			w.Set(key, buf)
		}
		clear(j.changed[s])
	}
	return nil
}

// Restore implements Checkpointer.
func (j *Join) Restore(r StateReader) error {
	return r.Scan(func(k, v []byte) error {
		if len(k) == 1 && k[0] == 2 {
			d := &decoder{b: v}
			j.cleaned = d.varint()
			return d.err
		}
		if len(k) == 0 || k[0] > 1 {
			return fmt.Errorf("engine: join state key %x", k)
		}
		d := &decoder{b: v}
		jk := &joinKey{total: d.varint(), rows: map[string]*joinRow{}}
		n := int(d.uvarint())
		for i := 0; i < n && d.err == nil; i++ {
			id := d.str()
			row := &joinRow{w: d.varint()}
			row.vals = d.rowVals()
			jk.rows[id] = row
		}
		if d.err != nil {
			return fmt.Errorf("engine: restore join state: %w", d.err)
		}
		j.side[k[0]][string(k[1:])] = jk
		return nil
	})
}
