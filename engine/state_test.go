package engine

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

type mapState map[string][]byte

func (m mapState) Set(k, v []byte) { m[string(k)] = append([]byte(nil), v...) }
func (m mapState) Delete(k []byte) { delete(m, string(k)) }
func (m mapState) Scan(fn func(k, v []byte) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

// kvRows builds a changelog batch of (k, v, weight) rows.
func kvRows(mem memory.Allocator, rows [][3]int64) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kvCols)))
	defer bld.Release()
	for _, r := range rows {
		bld.Field(0).(*array.Int64Builder).Append(r[0])
		bld.Field(1).(*array.Int64Builder).Append(r[1])
		bld.Field(2).(*array.Int64Builder).Append(r[2])
	}
	return bld.NewRecordBatch()
}

// TestGroupAggCheckpoint: an aggregate restored from its checkpoint behaves
// exactly like the one that kept running, for every aggregate kind, and a
// later checkpoint writes only the groups that changed.
func TestGroupAggCheckpoint(t *testing.T) {
	mem := testutil.Alloc(t)
	ctx := t.Context()
	schema := core.ChangelogSchema(core.ArrowSchema(kvCols))
	aggs := []AggSpec{
		{Kind: AggCountStar, Arg: -1, Name: "n", T: core.Bigint},
		{Kind: AggSum, Arg: 1, Name: "s", T: core.Bigint},
		{Kind: AggAvg, Arg: 1, Name: "a", T: core.Double},
		{Kind: AggMin, Arg: 1, Name: "lo", T: core.Bigint},
		{Kind: AggMax, Arg: 1, Name: "hi", T: core.Bigint},
		{Kind: AggCountDistinct, Arg: 1, Name: "d", T: core.Bigint},
	}
	var first, second, third [][3]int64
	for i := int64(0); i < 50; i++ {
		first = append(first, [3]int64{i % 5, i, 1})
		if i%3 == 0 {
			second = append(second, [3]int64{i % 5, i, -1})
		}
	}
	for i := int64(0); i < 30; i++ {
		third = append(third, [3]int64{i % 7, 1000 + i, 1})
	}
	for _, keys := range [][]int{{0}, nil} {
		t.Run(fmt.Sprintf("keys=%d", len(keys)), func(t *testing.T) {
			mk := func() *GroupAgg {
				g, err := NewGroupAgg(mem, schema, keys, []string{"k"}[:len(keys)], aggs)
				if err != nil {
					t.Fatal(err)
				}
				return g
			}
			run := func(g *GroupAgg, rows [][3]int64) string {
				rec := kvRows(mem, rows)
				defer rec.Release()
				if err := g.Push(ctx, 0, rec, nil); err != nil {
					t.Fatal(err)
				}
				var out []string
				if err := g.EndEpoch(ctx, func(b arrow.RecordBatch) error {
					for r := 0; r < int(b.NumRows()); r++ {
						var vals []string
						for c := 0; c < int(b.NumCols()); c++ {
							vals = append(vals, core.FormatValue(core.ValueAt(b.Column(c), r)))
						}
						out = append(out, strings.Join(vals, " "))
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				sort.Strings(out)
				return strings.Join(out, "\n")
			}
			live := mk()
			defer live.Close()
			state := mapState{}
			run(live, first)
			if err := live.Checkpoint(state); err != nil {
				t.Fatal(err)
			}
			if len(state) == 0 {
				t.Fatal("checkpoint wrote nothing")
			}
			restored := mk()
			defer restored.Close()
			if err := restored.Restore(state); err != nil {
				t.Fatal(err)
			}
			for _, rows := range [][][3]int64{second, third} {
				got, want := run(restored, rows), run(live, rows)
				if got != want {
					t.Fatalf("restored aggregate differs:\n got %s\nwant %s", got, want)
				}
				if want == "" {
					t.Fatal("the epoch changed nothing; the test is not testing")
				}
			}
			snap := mapState{}
			live.Checkpoint(snap)
			if len(keys) > 0 && len(snap) != 7 {
				t.Errorf("second checkpoint wrote %d groups, want the 7 the last epoch touched", len(snap))
			}
		})
	}
}

// TestBoundedStateMemory: with at most 5 groups kept in memory, an
// aggregate over 50 keys gives exactly the result of the unbounded one,
// also across a restart, and never holds more than the limit plus the
// groups one epoch touches.
func TestBoundedStateMemory(t *testing.T) {
	ctx := t.Context()
	rows := make([][2]int64, 600)
	for i := range rows {
		rows[i] = [2]int64{int64((i * 7) % 50), int64(i)}
	}
	run := func(dir string, a, b *memBackend, limit, upto int, check func(*GroupAgg)) {
		mem := testutil.Alloc(t)
		src := &memSource{mem: mem, rows: rows[:upto], chunk: 4}
		view := sumView(t, mem)
		opts := []Option{WithAllocator(mem), WithDataDir(dir), WithSource("src", src),
			WithBackend(a), WithBackend(b), WithView(view), WithMaxStateKeys(limit)}
		e, err := New(opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		agg := view.Flow.Operators()[0].(*GroupAgg)
		if err := e.Run(ctx, true); err != nil {
			t.Fatal(err)
		}
		if check != nil {
			check(agg)
		}
	}
	wantA, wantB := newMemBackend("a"), newMemBackend("b")
	run(t.TempDir(), wantA, wantB, 0, len(rows), nil)

	dir := t.TempDir()
	a, b := newMemBackend("a"), newMemBackend("b")
	bounded := func(g *GroupAgg) {
		// Each epoch reads 4 rows, so at most 4 groups are dirty at once.
		if n := g.Groups(); n > 5 {
			t.Errorf("%d groups in memory after the run, limit 5", n)
		}
	}
	run(dir, a, b, 5, 300, bounded)
	run(dir, a, b, 5, len(rows), bounded) // restart: groups come back from the store
	if got, want := a.dump("sums"), wantA.dump("sums"); got != want {
		t.Fatalf("bounded state differs from unbounded:\n got %s\nwant %s", got, want)
	}
}
