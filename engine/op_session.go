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

// SessionAgg groups rows into session windows per key — a session is a run
// of events whose event times are less than Gap apart — and aggregates each
// session. Its input has the key columns first, then the event time, then
// the aggregates' arguments; its output is the keys, window_start,
// window_end (the last event time plus the gap), then the aggregates.
//
// A new event can extend a session, or merge two; a retraction can split
// one. So per key the operator keeps the key's rows and, at the end of an
// epoch, recomputes the sessions of every key the epoch touched and emits
// the difference from what it emitted before. Sessions closed by the
// watermark (window_end + grace <= watermark) leave the state; late events
// for them are dead letters.
type SessionAgg struct {
	mem         memory.Allocator
	nkeys       int
	gap         int64
	grace       int64
	aggs        []AggSpec // Arg indexes the input
	schema      *arrow.Schema
	wm          int64
	emitOnClose bool
	keys        map[string]*sessKey
	dirty       []*sessKey
	buf         []byte
	source      string
	changed     map[string]bool // keys changed since the last checkpoint
}

type sessKey struct {
	id    string
	kvals []any
	rows  map[string]*sessRow
	out   map[string][]any // emitted rows by session start (as text)
	dirty bool
}

type sessRow struct {
	ts   int64
	vals []any // the aggregates' arguments
	w    int64
}

// NewSessionAgg returns a session-window aggregate over changelog batches of
// in: key columns [0, nkeys), the event time at column nkeys, and aggs.
func NewSessionAgg(mem memory.Allocator, in *arrow.Schema, nkeys int, keyNames []string, gap, grace time.Duration, aggs []AggSpec, emitOnClose bool, source string) (*SessionAgg, error) {
	if gap <= 0 {
		return nil, fmt.Errorf("engine: session gap must be positive, got %s", gap)
	}
	if in.Field(nkeys).Type.ID() != arrow.TIMESTAMP {
		return nil, fmt.Errorf("engine: SESSION over %s: the event-time column must be a timestamp", in.Field(nkeys).Type)
	}
	ts := &arrow.TimestampType{Unit: arrow.Microsecond}
	fs := make([]arrow.Field, 0, nkeys+len(aggs)+3)
	for i := 0; i < nkeys; i++ {
		fs = append(fs, arrow.Field{Name: keyNames[i], Type: in.Field(i).Type, Nullable: true})
	}
	fs = append(fs, arrow.Field{Name: "window_start", Type: ts, Nullable: true}, arrow.Field{Name: "window_end", Type: ts, Nullable: true})
	for _, a := range aggs {
		fs = append(fs, arrow.Field{Name: a.Name, Type: a.T.Arrow, Nullable: true})
	}
	fs = append(fs, core.WeightField)
	return &SessionAgg{mem: mem, nkeys: nkeys, gap: gap.Microseconds(), grace: grace.Microseconds(), aggs: aggs,
		schema: arrow.NewSchema(fs, nil), wm: NoWatermark, emitOnClose: emitOnClose, keys: map[string]*sessKey{}, source: source, changed: map[string]bool{}}, nil
}

func (s *SessionAgg) Schema() *arrow.Schema { return s.schema }
func (s *SessionAgg) Stateful() bool        { return true }
func (s *SessionAgg) Close()                { s.keys = nil }
func (s *SessionAgg) SetWatermark(wm int64) { s.wm = wm }
func (s *SessionAgg) HoldsWindows() bool    { return s.emitOnClose }
func (s *SessionAgg) Explain() string {
	as := make([]string, len(s.aggs))
	for i, a := range s.aggs {
		as[i] = fmt.Sprintf("%s(#%d)", a.Kind, a.Arg)
	}
	e := fmt.Sprintf("SessionAgg keys=%d gap=%s grace=%s aggs=[%s]", s.nkeys, time.Duration(s.gap)*time.Microsecond,
		time.Duration(s.grace)*time.Microsecond, strings.Join(as, ", "))
	if s.emitOnClose {
		e += " emit=on-window-close"
	}
	return e
}

func (s *SessionAgg) closedAt(end int64) bool {
	return s.wm == math.MaxInt64 || (s.wm != NoWatermark && end+s.grace <= s.wm)
}

// Push implements Operator.
func (s *SessionAgg) Push(ctx context.Context, _ int, in arrow.RecordBatch, _ Emit) error {
	w := fixed[int64](core.Weights(in))
	tsCol := in.Column(s.nkeys).(*array.Timestamp)
	for r := 0; r < int(in.NumRows()); r++ {
		if w[r] == 0 || tsCol.IsNull(r) {
			continue
		}
		ts := int64(tsCol.Value(r))
		// An event is late when the session it would at best join has closed.
		if w[r] > 0 && s.closedAt(ts+s.gap) {
			ReportDeadLetter(ctx, core.DeadLetter{Source: s.source, Offset: -1,
				Reason: fmt.Sprintf("late event: event time %s is in a session closed by the watermark %s (gap %s, grace %s)",
					time.UnixMicro(ts).UTC().Format("2006-01-02 15:04:05.999999"), wmText(s.wm),
					time.Duration(s.gap)*time.Microsecond, time.Duration(s.grace)*time.Microsecond),
				Raw: []byte(rowText(in, r))})
			continue
		}
		s.buf = s.buf[:0]
		for k := 0; k < s.nkeys; k++ {
			s.buf = appendKey(s.buf, in.Column(k), r)
		}
		sk := s.keys[string(s.buf)]
		if sk == nil {
			kv := make([]any, s.nkeys)
			for k := range kv {
				kv[k] = core.ValueAt(in.Column(k), r)
			}
			sk = &sessKey{id: string(s.buf), kvals: kv, rows: map[string]*sessRow{}, out: map[string][]any{}}
			s.keys[sk.id] = sk
		}
		if !sk.dirty {
			sk.dirty = true
			s.dirty = append(s.dirty, sk)
		}
		s.buf = s.buf[:0]
		for c := s.nkeys; c < int(in.NumCols())-1; c++ {
			s.buf = appendKey(s.buf, in.Column(c), r)
		}
		row := sk.rows[string(s.buf)]
		if row == nil {
			vals := make([]any, len(s.aggs))
			for i, a := range s.aggs {
				if a.Arg >= 0 {
					vals[i] = core.ValueAt(in.Column(a.Arg), r)
				}
			}
			row = &sessRow{ts: ts, vals: vals}
			sk.rows[string(s.buf)] = row
		}
		row.w += w[r]
		if row.w == 0 {
			delete(sk.rows, string(s.buf))
		}
	}
	return nil
}

// sessions splits a key's rows into sessions: each a run of rows sorted by
// event time whose consecutive times are less than gap apart.
func (s *SessionAgg) sessions(sk *sessKey) [][]*sessRow {
	rows := make([]*sessRow, 0, len(sk.rows))
	for _, r := range sk.rows {
		if r.w > 0 {
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ts < rows[j].ts })
	var out [][]*sessRow
	for i, r := range rows {
		if i == 0 || r.ts-rows[i-1].ts >= s.gap {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// aggregate computes the output row of one session.
func (s *SessionAgg) aggregate(sk *sessKey, sess []*sessRow) []any {
	start, last := sess[0].ts, sess[len(sess)-1].ts
	row := append(append([]any(nil), sk.kvals...), time.UnixMicro(start).UTC(), time.UnixMicro(last+s.gap).UTC())
	for i, a := range s.aggs {
		var cnt, isum int64
		var fsum float64
		var best any
		distinct := map[any]bool{}
		for _, r := range sess {
			if a.Kind == AggCountStar {
				cnt += r.w
				continue
			}
			v := r.vals[i]
			if v == nil {
				continue
			}
			cnt += r.w
			switch x := v.(type) {
			case int64:
				isum += x * r.w
				fsum += float64(x) * float64(r.w)
			case int32:
				isum += int64(x) * r.w
				fsum += float64(x) * float64(r.w)
			case float64:
				fsum += x * float64(r.w)
			}
			distinct[valueKey(v)] = true
			if best == nil || (a.Kind == AggMin && compareValues(v, best) < 0) || (a.Kind == AggMax && compareValues(v, best) > 0) {
				best = v
			}
		}
		switch a.Kind {
		case AggCountStar, AggCount:
			row = append(row, cnt)
		case AggCountDistinct:
			row = append(row, int64(len(distinct)))
		case AggSum:
			switch {
			case cnt == 0:
				row = append(row, nil)
			case a.T.Arrow.ID() == arrow.FLOAT64:
				row = append(row, fsum)
			default:
				row = append(row, isum)
			}
		case AggAvg:
			if cnt == 0 {
				row = append(row, nil)
			} else {
				row = append(row, fsum/float64(cnt))
			}
		default: // min, max
			row = append(row, best)
		}
	}
	return row
}

// EndEpoch implements Operator.
func (s *SessionAgg) EndEpoch(_ context.Context, emit Emit) error {
	bld := array.NewRecordBuilder(s.mem, s.schema)
	defer bld.Release()
	wb := bld.Field(len(s.schema.Fields()) - 1).(*array.Int64Builder)
	add := func(row []any, w int64) {
		appendRow(bld, row)
		wb.Append(w)
	}
	touched := s.dirty
	if s.emitOnClose || s.wm != NoWatermark {
		// Sessions may close without new events: visit every key.
		touched = touched[:0:0]
		for _, sk := range s.keys {
			touched = append(touched, sk)
		}
		sort.Slice(touched, func(i, j int) bool { return touched[i].id < touched[j].id })
	}
	for _, sk := range touched {
		sk.dirty = false
		s.changed[sk.id] = true
		next := map[string][]any{}
		for _, sess := range s.sessions(sk) {
			end := sess[len(sess)-1].ts + s.gap
			if s.emitOnClose && !s.closedAt(end) {
				continue
			}
			next[fmt.Sprint(sess[0].ts)] = s.aggregate(sk, sess)
		}
		starts := make([]string, 0, len(next)+len(sk.out))
		for k := range sk.out {
			starts = append(starts, k)
		}
		for k := range next {
			if _, ok := sk.out[k]; !ok {
				starts = append(starts, k)
			}
		}
		sort.Strings(starts)
		for _, k := range starts {
			old, nw := sk.out[k], next[k]
			if old != nil && nw != nil && rowsEqual(old, nw) {
				continue
			}
			if old != nil {
				add(old, -1)
			}
			if nw != nil {
				add(nw, 1)
			}
		}
		sk.out = next
		// Forget closed sessions: their rows can no longer change.
		for _, sess := range s.sessions(sk) {
			if end := sess[len(sess)-1].ts + s.gap; s.closedAt(end) {
				for id, r := range sk.rows {
					if r.ts >= sess[0].ts && r.ts <= sess[len(sess)-1].ts {
						delete(sk.rows, id)
					}
				}
				delete(sk.out, fmt.Sprint(sess[0].ts))
			}
		}
		if len(sk.rows) == 0 && len(sk.out) == 0 {
			delete(s.keys, sk.id)
		}
	}
	s.dirty = s.dirty[:0]
	return emitBuilt(bld, emit)
}

// Checkpoint implements Checkpointer: the events and emitted sessions of
// every key changed since the last checkpoint.
func (s *SessionAgg) Checkpoint(w StateWriter) error {
	var buf []byte
	for k := range s.changed {
		sk, ok := s.keys[k]
		if !ok {
			w.Delete([]byte(k))
			continue
		}
		buf = appendRowVals(buf[:0], sk.kvals)
		buf = binary.AppendUvarint(buf, uint64(len(sk.rows)))
		for id, r := range sk.rows {
			buf = binary.AppendUvarint(buf, uint64(len(id)))
			buf = append(buf, id...)
			buf = binary.AppendVarint(buf, r.ts)
			buf = binary.AppendVarint(buf, r.w)
			buf = appendRowVals(buf, r.vals)
		}
		buf = binary.AppendUvarint(buf, uint64(len(sk.out)))
		for start, row := range sk.out {
			buf = binary.AppendUvarint(buf, uint64(len(start)))
			buf = append(buf, start...)
			buf = appendRowVals(buf, row)
		}
		w.Set([]byte(k), buf)
	}
	clear(s.changed)
	return nil
}

// Restore implements Checkpointer.
func (s *SessionAgg) Restore(r StateReader) error {
	return r.Scan(func(k, v []byte) error {
		d := &decoder{b: v}
		sk := &sessKey{id: string(k), rows: map[string]*sessRow{}, out: map[string][]any{}}
		sk.kvals = d.rowVals()
		n := int(d.uvarint())
		for i := 0; i < n && d.err == nil; i++ {
			id := d.str()
			row := &sessRow{ts: d.varint(), w: d.varint()}
			row.vals = d.rowVals()
			sk.rows[id] = row
		}
		m := int(d.uvarint())
		for i := 0; i < m && d.err == nil; i++ {
			start := d.str()
			sk.out[start] = d.rowVals()
		}
		if d.err != nil {
			return fmt.Errorf("engine: restore session state: %w", d.err)
		}
		s.keys[sk.id] = sk
		return nil
	})
}
