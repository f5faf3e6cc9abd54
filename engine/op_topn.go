package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// SortKey is one ORDER BY item of a TopN: input column, direction, and
// where NULLs go (Postgres: last ascending, first descending).
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// TopN keeps, per partition, the first Limit rows in ORDER BY order and
// numbers them (ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) <= Limit).
// Its output is the input columns then the row number. At the end of an
// epoch it emits, for every partition the epoch changed, the retraction of
// the numbered rows that left or moved and the insertion of the new ones.
// Rows that tie on the ORDER BY keys are ordered by their whole value, so
// the numbering is deterministic.
type TopN struct {
	mem     memory.Allocator
	part    []int
	order   []SortKey
	limit   int64
	schema  *arrow.Schema
	ncols   int
	parts   map[string]*topPart
	dirty   []*topPart
	buf     []byte
	changed map[string]bool
}

type topPart struct {
	key   string
	rows  map[string]*topRow
	out   []topOut // the rows currently emitted, in rank order
	dirty bool
}

type topRow struct {
	id   string // the row's encoding, the final tie-breaker
	vals []any
	w    int64
}

type topOut struct {
	id   string
	vals []any
}

// NewTopN returns a TopN over changelog batches of in.
func NewTopN(mem memory.Allocator, in *arrow.Schema, part []int, order []SortKey, limit int64, rankName string) (*TopN, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("engine: top-N limit must be positive, got %d", limit)
	}
	fs := append([]arrow.Field(nil), core.DataSchema(in).Fields()...)
	fs = append(fs, arrow.Field{Name: rankName, Type: arrow.PrimitiveTypes.Int64, Nullable: true}, core.WeightField)
	return &TopN{mem: mem, part: part, order: order, limit: limit, schema: arrow.NewSchema(fs, nil),
		ncols: len(fs) - 2, parts: map[string]*topPart{}, changed: map[string]bool{}}, nil
}

func (t *TopN) Schema() *arrow.Schema { return t.schema }
func (t *TopN) Stateful() bool        { return true }
func (t *TopN) Close()                { t.parts = nil }
func (t *TopN) Explain() string {
	ps := make([]string, len(t.part))
	for i, p := range t.part {
		ps[i] = fmt.Sprintf("#%d", p)
	}
	os := make([]string, len(t.order))
	for i, o := range t.order {
		os[i] = fmt.Sprintf("#%d", o.Col)
		if o.Desc {
			os[i] += " DESC"
		}
	}
	return fmt.Sprintf("TopN limit=%d partition=[%s] order=[%s]", t.limit, strings.Join(ps, ", "), strings.Join(os, ", "))
}

// Push implements Operator: rows are folded into their partition.
func (t *TopN) Push(_ context.Context, _ int, in arrow.RecordBatch, _ Emit) error {
	w := fixed[int64](core.Weights(in))
	for r := 0; r < int(in.NumRows()); r++ {
		if w[r] == 0 {
			continue
		}
		t.buf = t.buf[:0]
		for _, p := range t.part {
			t.buf = appendKey(t.buf, in.Column(p), r)
		}
		pt := t.parts[string(t.buf)]
		if pt == nil {
			pt = &topPart{key: string(t.buf), rows: map[string]*topRow{}}
			t.parts[pt.key] = pt
		}
		if !pt.dirty {
			pt.dirty = true
			t.dirty = append(t.dirty, pt)
			t.changed[pt.key] = true
		}
		t.buf = t.buf[:0]
		for c := 0; c < t.ncols; c++ {
			t.buf = appendKey(t.buf, in.Column(c), r)
		}
		row := pt.rows[string(t.buf)]
		if row == nil {
			vals := make([]any, t.ncols)
			for c := range vals {
				vals[c] = core.ValueAt(in.Column(c), r)
			}
			row = &topRow{id: string(t.buf), vals: vals}
			pt.rows[row.id] = row
		}
		row.w += w[r]
		if row.w == 0 {
			delete(pt.rows, row.id)
		}
	}
	return nil
}

// cmp orders two rows by the sort keys, then by their encoding.
func (t *TopN) cmp(a, b *topRow) int {
	for _, k := range t.order {
		x, y := a.vals[k.Col], b.vals[k.Col]
		if x == nil || y == nil {
			if x == nil && y == nil {
				continue
			}
			if (x == nil) == k.NullsFirst {
				return -1
			}
			return 1
		}
		c := compareValues(x, y)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return strings.Compare(a.id, b.id)
}

// compareValues orders two non-NULL values of one type.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case time.Time:
		return x.Compare(b.(time.Time))
	case []byte:
		return strings.Compare(string(x), string(b.([]byte)))
	}
	x, y := valueKey(a), valueKey(b)
	switch {
	case less(x, y):
		return -1
	case less(y, x):
		return 1
	}
	return 0
}

// EndEpoch implements Operator.
func (t *TopN) EndEpoch(_ context.Context, emit Emit) error {
	if len(t.dirty) == 0 {
		return nil
	}
	bld := array.NewRecordBuilder(t.mem, t.schema)
	defer bld.Release()
	rank := bld.Field(t.ncols).(*array.Int64Builder)
	wb := bld.Field(t.ncols + 1).(*array.Int64Builder)
	add := func(vals []any, rn int, w int64) {
		appendRow(bld, vals)
		rank.Append(int64(rn))
		wb.Append(w)
	}
	for _, pt := range t.dirty {
		pt.dirty = false
		rows := make([]*topRow, 0, len(pt.rows))
		for _, r := range pt.rows {
			if r.w < 0 {
				return fmt.Errorf("engine: top-N row retracted more often than inserted: %v", r.vals)
			}
			rows = append(rows, r)
		}
		sort.Slice(rows, func(i, j int) bool { return t.cmp(rows[i], rows[j]) < 0 })
		var top []topOut
		for _, r := range rows {
			for c := int64(0); c < r.w && int64(len(top)) < t.limit; c++ {
				top = append(top, topOut{id: r.id, vals: r.vals})
			}
			if int64(len(top)) >= t.limit {
				break
			}
		}
		// Emit what changed, position by position.
		for i := 0; i < max(len(top), len(pt.out)); i++ {
			if i < len(top) && i < len(pt.out) && top[i].id == pt.out[i].id {
				continue
			}
			if i < len(pt.out) {
				add(pt.out[i].vals, i+1, -1)
			}
			if i < len(top) {
				add(top[i].vals, i+1, 1)
			}
		}
		pt.out = top
		if len(pt.rows) == 0 {
			delete(t.parts, pt.key)
		}
	}
	t.dirty = t.dirty[:0]
	return emitBuilt(bld, emit)
}

// Checkpoint implements Checkpointer: the rows and emitted ranks of every
// partition changed since the last checkpoint.
func (t *TopN) Checkpoint(w StateWriter) error {
	var buf []byte
	for k := range t.changed {
		pt, ok := t.parts[k]
		if !ok {
			w.Delete([]byte(k))
			continue
		}
		buf = binary.AppendUvarint(buf[:0], uint64(len(pt.rows)))
		for _, r := range pt.rows {
			buf = binary.AppendUvarint(buf, uint64(len(r.id)))
			buf = append(buf, r.id...)
			buf = binary.AppendVarint(buf, r.w)
			buf = appendRowVals(buf, r.vals)
		}
		buf = binary.AppendUvarint(buf, uint64(len(pt.out)))
		for _, o := range pt.out {
			buf = binary.AppendUvarint(buf, uint64(len(o.id)))
			buf = append(buf, o.id...)
		}
		w.Set([]byte(k), buf)
	}
	clear(t.changed)
	return nil
}

// Restore implements Checkpointer.
func (t *TopN) Restore(r StateReader) error {
	return r.Scan(func(k, v []byte) error {
		d := &decoder{b: v}
		pt := &topPart{key: string(k), rows: map[string]*topRow{}}
		n := int(d.uvarint())
		for i := 0; i < n && d.err == nil; i++ {
			row := &topRow{id: d.str()}
			row.w = d.varint()
			row.vals = d.rowVals()
			pt.rows[row.id] = row
		}
		m := int(d.uvarint())
		for i := 0; i < m && d.err == nil; i++ {
			id := d.str()
			row, ok := pt.rows[id]
			if !ok {
				return fmt.Errorf("engine: restore top-N: ranked row missing from its partition")
			}
			pt.out = append(pt.out, topOut{id: id, vals: row.vals})
		}
		if d.err != nil {
			return fmt.Errorf("engine: restore top-N state: %w", d.err)
		}
		t.parts[pt.key] = pt
		return nil
	})
}
