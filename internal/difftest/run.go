package difftest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/plans"
)

// Planned is a query bound by the planner: its upstream views, then the
// query itself (last).
type Planned struct {
	Query Query
	Names []string
	Plans []*plans.ViewPlan
	// Sources lists the base relations the query reads, directly or
	// through its upstream views.
	Sources []string
}

// View is the plan of the query itself.
func (p *Planned) View() *plans.ViewPlan { return p.Plans[len(p.Plans)-1] }

// Plan binds q and its upstream views against Catalog.
func Plan(q Query) (*Planned, error) {
	cat := plans.Catalog(Catalog())
	p := &Planned{Query: q}
	for _, v := range q.Views {
		vp, err := plans.Plan(v.SQL, cat)
		if err != nil {
			return nil, fmt.Errorf("view %s: %w", v.Name, err)
		}
		cat[v.Name] = vp.Columns
		p.Names = append(p.Names, v.Name)
		p.Plans = append(p.Plans, vp)
	}
	vp, err := plans.Plan(q.SQL, cat)
	if err != nil {
		return nil, err
	}
	p.Names = append(p.Names, q.Name)
	p.Plans = append(p.Plans, vp)
	seen := map[string]bool{}
	for _, vp := range p.Plans {
		for _, in := range vp.Inputs() {
			if RelationNamed(in) != nil && !seen[in] {
				seen[in] = true
				p.Sources = append(p.Sources, in)
			}
		}
	}
	return p, nil
}

// Run drives one query incrementally over a change stream, the way the
// engine does: per epoch, the watermark as the epoch begins, the epoch's
// batches, the watermark after them, EndEpoch in dependency order. It keeps
// the view materialised and checks the invariants.
type Run struct {
	p     *Planned
	mem   memory.Allocator
	flows []*engine.Dataflow
	// View is the materialised view: every row the query emitted, with its
	// multiplicity.
	View *Multiset
	key  []int // indexes of the key columns; nil for a multiset
	cols []core.Column
	// EmptyBatches makes RunEpoch push a batch without rows now and then
	// (off by default: see TestKnownBugs).
	EmptyBatches bool
	// Epoch counts the epochs run so far.
	Epoch int
	// Watermark is the watermark of the last epoch (µs), or engine.NoWatermark.
	Watermark int64
	maxTS     map[string]int64
	keyDelta  map[string][2]int64 // per key: retractions, insertions this epoch
	err       error
}

// NewRun builds fresh dataflows for p. Close releases them.
func NewRun(p *Planned, mem memory.Allocator) (*Run, error) {
	r := &Run{p: p, mem: mem, View: NewMultiset(), cols: p.View().Columns, Watermark: engine.NoWatermark, maxTS: map[string]int64{}}
	for i, vp := range p.Plans {
		f, err := vp.Build(mem)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("build %s: %w", p.Names[i], err)
		}
		r.flows = append(r.flows, f)
	}
	for _, k := range p.View().Key {
		found := false
		for i, c := range r.cols {
			if c.Name == k {
				r.key = append(r.key, i)
				found = true
				break
			}
		}
		if !found {
			r.Close()
			return nil, fmt.Errorf("key column %q is not an output column", k)
		}
	}
	return r, nil
}

// Close releases the dataflows.
func (r *Run) Close() {
	for _, f := range r.flows {
		f.Close()
	}
	r.flows = nil
}

// Keyed reports whether the view has a primary key.
func (r *Run) Keyed() bool { return len(r.key) > 0 }

// watermark is the smallest watermark of the event-time sources the query
// reads, NoWatermark until each has seen an event time.
func (r *Run) watermark() int64 {
	var wm int64 = engine.NoWatermark
	first := true
	for _, s := range r.p.Sources {
		rel := RelationNamed(s)
		if rel.EventTime < 0 {
			continue
		}
		t, ok := r.maxTS[s]
		if !ok {
			return engine.NoWatermark
		}
		w := t - Delay.Microseconds()
		if first || w < wm {
			wm = w
		}
		first = false
	}
	return wm
}

func (r *Run) setWatermark() {
	if r.Watermark == math.MaxInt64 {
		return // after RunFinal
	}
	r.Watermark = r.watermark()
	for _, f := range r.flows {
		f.SetWatermark(r.Watermark)
	}
}

// RunEpoch runs one epoch of changes. rng decides how the changes are cut
// into batches, how the relations' batches interleave and how each batch is
// sliced out of a larger one (so its arrays have offsets).
func (r *Run) RunEpoch(ctx context.Context, rng *rand.Rand, changes []Change) error {
	r.Epoch++
	r.keyDelta = map[string][2]int64{}
	r.setWatermark()
	// Per relation, the epoch's changes in order, cut into batches.
	type chunk struct {
		rel  *Relation
		rows []Change
	}
	var queues [][]chunk
	for _, name := range r.p.Sources {
		rel := RelationNamed(name)
		var rows []Change
		for _, c := range changes {
			if c.Rel == name {
				rows = append(rows, c)
			}
		}
		var q []chunk
		for len(rows) > 0 {
			k := 1 + rng.IntN(len(rows))
			if rng.IntN(3) == 0 {
				k = 1 + rng.IntN(min(len(rows), 8))
			}
			q = append(q, chunk{rel, rows[:k]})
			rows = rows[k:]
		}
		if r.EmptyBatches && rng.IntN(15) == 0 {
			q = append(q, chunk{rel, nil}) // an empty batch
		}
		queues = append(queues, q)
	}
	// Interleave the relations, each in its own order.
	for {
		var live []int
		for i, q := range queues {
			if len(q) > 0 {
				live = append(live, i)
			}
		}
		if len(live) == 0 {
			break
		}
		i := live[rng.IntN(len(live))]
		c := queues[i][0]
		queues[i] = queues[i][1:]
		b := r.batch(rng, c.rel, c.rows)
		err := r.push(ctx, 0, c.rel.Name, b)
		b.Release()
		if err != nil {
			return fmt.Errorf("push %s: %w", c.rel.Name, err)
		}
		for _, ch := range c.rows {
			if t := c.rel.EventTime; t >= 0 && ch.Row[t] != nil {
				us := ch.Row[t].(time.Time).UnixMicro()
				if old, ok := r.maxTS[c.rel.Name]; !ok || us > old {
					r.maxTS[c.rel.Name] = us
				}
			}
		}
	}
	r.setWatermark()
	for i, f := range r.flows {
		if err := f.EndEpoch(ctx, r.emitter(ctx, i)); err != nil {
			return fmt.Errorf("end epoch of %s: %w", r.p.Names[i], err)
		}
		if r.err != nil {
			return r.err
		}
	}
	return r.check()
}

// RunFinal runs the final epoch the engine runs when bounded inputs are
// drained (--until-idle): no input, the watermark at +infinity, so every
// window closes.
func (r *Run) RunFinal(ctx context.Context) error {
	r.Epoch++
	r.keyDelta = map[string][2]int64{}
	r.Watermark = math.MaxInt64
	for _, f := range r.flows {
		f.SetWatermark(r.Watermark)
	}
	for i, f := range r.flows {
		if err := f.EndEpoch(ctx, r.emitter(ctx, i)); err != nil {
			return fmt.Errorf("final epoch of %s: %w", r.p.Names[i], err)
		}
		if r.err != nil {
			return r.err
		}
	}
	return r.check()
}

// push hands b to every flow from index from on that reads rel.
func (r *Run) push(ctx context.Context, from int, rel string, b arrow.RecordBatch) error {
	for i := from; i < len(r.flows); i++ {
		if err := r.flows[i].Push(ctx, rel, b, r.emitter(ctx, i)); err != nil {
			return err
		}
		if r.err != nil {
			return r.err
		}
	}
	return nil
}

// emitter receives flow i's output: an upstream view's changes go to the
// flows after it; the query's changes go into the materialised view.
func (r *Run) emitter(ctx context.Context, i int) engine.Emit {
	if i < len(r.flows)-1 {
		return func(b arrow.RecordBatch) error {
			if err := core.CheckChangelog(b); err != nil {
				return fmt.Errorf("view %s: %w", r.p.Names[i], err)
			}
			return r.push(ctx, i+1, r.p.Names[i], b)
		}
	}
	return func(b arrow.RecordBatch) error {
		if err := r.absorb(b); err != nil {
			r.err = err
			return err
		}
		return nil
	}
}

// absorb folds an output batch of the query into the view.
func (r *Run) absorb(b arrow.RecordBatch) error {
	if err := core.CheckChangelog(b); err != nil {
		return err
	}
	if got, want := int(b.NumCols())-1, len(r.cols); got != want {
		return fmt.Errorf("output has %d columns, the plan says %d", got, want)
	}
	for i, c := range r.cols {
		f := b.Schema().Field(i)
		if f.Name != c.Name || !arrow.TypeEqual(f.Type, c.Type.Arrow) {
			return fmt.Errorf("output column %d is %s %s, the plan says %s %s", i, f.Name, f.Type, c.Name, c.Type.Arrow)
		}
	}
	w := core.Weights(b)
	for i := 0; i < int(b.NumRows()); i++ {
		row := make(Row, len(r.cols))
		for c := range r.cols {
			v := core.ValueAt(b.Column(c), i)
			if s, ok := v.(string); ok && b.Column(c).DataType().ID() == arrow.DECIMAL128 {
				row[c] = NormDecimal(s)
			} else {
				row[c] = Norm(v)
			}
		}
		n := w.Value(i)
		r.View.Add(row, n)
		if r.Keyed() {
			k := r.keyOf(row)
			d := r.keyDelta[k]
			if n < 0 {
				d[0] += -n
			} else {
				d[1] += n
			}
			r.keyDelta[k] = d
		}
	}
	return nil
}

func (r *Run) keyOf(row Row) string {
	k := make(Row, len(r.key))
	for i, c := range r.key {
		k[i] = row[c]
	}
	return k.key()
}

// check verifies the invariants after an epoch: no row has a negative
// count; a keyed view holds at most one row per key and its epoch output
// is consolidated (per key at most one retraction and one insertion).
func (r *Run) check() error {
	if row, n, bad := r.View.Negative(); bad {
		return fmt.Errorf("invariant: row %s has count %d", row, n)
	}
	if !r.Keyed() {
		return nil
	}
	seen := map[string]Row{}
	var err error
	r.View.Each(func(row Row, n int64) {
		k := r.keyOf(row)
		if err != nil {
			return
		}
		if n > 1 {
			err = fmt.Errorf("invariant: keyed view holds row %s %d times", row, n)
		} else if prev, dup := seen[k]; dup {
			err = fmt.Errorf("invariant: keyed view holds two rows for key %v: %s and %s", r.keyNames(), prev, row)
		}
		seen[k] = row
	})
	if err != nil {
		return err
	}
	for k, d := range r.keyDelta {
		if d[0] > 1 || d[1] > 1 {
			return fmt.Errorf("invariant: epoch output not consolidated: key %q has %d retractions and %d insertions", strings.ReplaceAll(k, "\x00", ","), d[0], d[1])
		}
	}
	return nil
}

func (r *Run) keyNames() []string { return r.p.View().Key }

// batch builds a changelog batch of rows for rel, sliced out of a larger
// batch with other rows (weight 1000) before and after it, so its arrays
// start at an offset and junk rows sit just outside the slice.
func (r *Run) batch(rng *rand.Rand, rel *Relation, rows []Change) arrow.RecordBatch {
	before, after := 0, 0
	if rng.IntN(4) != 0 {
		before, after = rng.IntN(13), rng.IntN(5)
	}
	bld := array.NewRecordBuilder(r.mem, core.ChangelogSchema(core.ArrowSchema(rel.Columns)))
	defer bld.Release()
	junk := func() {
		src := rows
		if len(src) == 0 {
			for c := range rel.Columns {
				bld.Field(c).AppendNull()
			}
		} else {
			for c, v := range src[rng.IntN(len(src))].Row {
				if rng.IntN(3) == 0 {
					v = nil
				}
				core.AppendValue(bld.Field(c), v)
			}
		}
		bld.Field(len(rel.Columns)).(*array.Int64Builder).Append(1000)
	}
	for range before {
		junk()
	}
	for _, ch := range rows {
		for c, v := range ch.Row {
			core.AppendValue(bld.Field(c), v)
		}
		bld.Field(len(rel.Columns)).(*array.Int64Builder).Append(ch.Weight)
	}
	for range after {
		junk()
	}
	full := bld.NewRecordBatch()
	defer full.Release()
	return full.NewSlice(int64(before), int64(before+len(rows)))
}

// RunAll runs every epoch of changes cut by sizes, calling after (if not
// nil) once each epoch has run.
func (r *Run) RunAll(ctx context.Context, rng *rand.Rand, changes []Change, sizes []int, after func(epoch []Change) error) error {
	for _, n := range sizes {
		cur := changes[:n]
		changes = changes[n:]
		if err := r.RunEpoch(ctx, rng, cur); err != nil {
			return fmt.Errorf("epoch %d: %w", r.Epoch, err)
		}
		if after != nil {
			if err := after(cur); err != nil {
				return err
			}
		}
	}
	return nil
}
