package engine

import (
	"context"
	"errors"
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

// memSource is a deterministic in-memory stream of (k, v) rows in one
// partition; chunk bounds what Next proposes.
type memSource struct {
	mem   memory.Allocator
	rows  [][2]int64
	pos   int64
	chunk int
	reads int // Read calls, to see what recovery re-reads
}

var kvCols = []core.Column{{Name: "k", Type: core.Bigint}, {Name: "v", Type: core.Bigint}}

func (s *memSource) Schema() *arrow.Schema { return core.ArrowSchema(kvCols) }
func (s *memSource) Seek(_ context.Context, p core.Positions) error {
	s.pos = p["0"]
	return nil
}
func (s *memSource) Next(_ context.Context, max int) (core.Ranges, error) {
	n := int64(min(s.chunk, max))
	to := min(s.pos+n, int64(len(s.rows)))
	r := core.Ranges{"0": {From: s.pos, To: to}}
	s.pos = to
	return r, nil
}
func (s *memSource) Read(_ context.Context, rs core.Ranges, emit func(arrow.RecordBatch) error) ([]core.DeadLetter, error) {
	s.reads++
	r := rs["0"]
	b := array.NewRecordBuilder(s.mem, core.ChangelogSchema(s.Schema()))
	defer b.Release()
	var dead []core.DeadLetter
	for i := r.From; i < r.To; i++ {
		if s.rows[i][0] < 0 {
			dead = append(dead, core.DeadLetter{Source: "src", Partition: "0", Offset: i, Reason: "negative key", Raw: []byte(fmt.Sprint(s.rows[i]))})
			continue
		}
		b.Field(0).(*array.Int64Builder).Append(s.rows[i][0])
		b.Field(1).(*array.Int64Builder).Append(s.rows[i][1])
		b.Field(2).(*array.Int64Builder).Append(1)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return dead, emit(rec)
}
func (s *memSource) Exhausted() bool { return s.pos >= int64(len(s.rows)) }
func (s *memSource) Close() error    { return nil }

// memBackend stores views as multisets of rendered rows and can fail the
// Apply of one epoch, which models a crash between epochs.
type memBackend struct {
	name      string
	views     map[string]map[string]int64
	committed core.Epoch
	failAt    core.Epoch
	applied   []core.Epoch
}

var errCrash = errors.New("injected crash")

func newMemBackend(name string) *memBackend {
	return &memBackend{name: name, views: map[string]map[string]int64{}}
}
func (b *memBackend) Name() string { return b.name }
func (b *memBackend) EnsureView(_ context.Context, v core.ViewDef) error {
	if b.views[v.Name] == nil {
		b.views[v.Name] = map[string]int64{}
	}
	return nil
}
func (b *memBackend) Committed(context.Context) (core.Epoch, core.Offsets, error) {
	return b.committed, nil, nil
}
func (b *memBackend) Apply(_ context.Context, ch *core.EpochChanges) error {
	if ch.Epoch <= b.committed {
		return nil
	}
	if ch.Epoch == b.failAt {
		b.failAt = 0
		return errCrash
	}
	for view, bs := range ch.Changes {
		for _, rec := range bs {
			w := core.Weights(rec)
			for r := 0; r < int(rec.NumRows()); r++ {
				vals := make([]string, rec.NumCols()-1)
				for c := range vals {
					vals[c] = core.FormatValue(core.ValueAt(rec.Column(c), r))
				}
				k := strings.Join(vals, ",")
				b.views[view][k] += w.Value(r)
				if b.views[view][k] == 0 {
					delete(b.views[view], k)
				}
			}
		}
	}
	b.committed = ch.Epoch
	b.applied = append(b.applied, ch.Epoch)
	return nil
}
func (b *memBackend) Capabilities() core.Capabilities { return core.Capabilities{} }
func (b *memBackend) Close() error                    { return nil }

func (b *memBackend) dump(view string) string {
	var rows []string
	for k, n := range b.views[view] {
		rows = append(rows, fmt.Sprintf("%s x%d", k, n))
	}
	sort.Strings(rows)
	return strings.Join(rows, "; ")
}

// sumView is SELECT k, count(*), sum(v) FROM src GROUP BY k.
func sumView(t *testing.T, mem memory.Allocator) ViewSpec {
	in := core.ChangelogSchema(core.ArrowSchema(kvCols))
	agg, err := NewGroupAgg(mem, in, []int{0}, []string{"k"}, []AggSpec{
		{Kind: AggCountStar, Arg: -1, Name: "n", T: core.Bigint},
		{Kind: AggSum, Arg: 1, Name: "s", T: core.Bigint},
	})
	if err != nil {
		t.Fatal(err)
	}
	flow, err := Chain("src", agg)
	if err != nil {
		t.Fatal(err)
	}
	return ViewSpec{
		Def:     core.ViewDef{Name: "sums", Columns: []core.Column{{Name: "k", Type: core.Bigint}, {Name: "n", Type: core.Bigint}, {Name: "s", Type: core.Bigint}}, Key: []string{"k"}},
		Flow:    flow,
		Storage: []string{"a", "b"},
	}
}

func rowsFor(n int) [][2]int64 {
	rows := make([][2]int64, n)
	for i := range rows {
		rows[i] = [2]int64{int64(i % 7), int64(i)}
		if i%50 == 13 {
			rows[i][0] = -1 // a dead letter
		}
	}
	return rows
}

// TestRecoveryExactlyOnce crashes the engine in the middle of an epoch's
// apply (backend a committed it, b did not), restarts it, and checks both
// backends equal an uninterrupted run, with every epoch applied once.
func TestRecoveryExactlyOnce(t *testing.T) {
	ctx := context.Background()
	rows := rowsFor(500)
	run := func(dir string, a, b *memBackend, chunk int) error {
		mem := testutil.Alloc(t)
		e, err := New(WithAllocator(mem), WithDataDir(dir), WithMaxEpochRows(1000),
			WithSource("src", &memSource{mem: mem, rows: rows, chunk: chunk}),
			WithBackend(a), WithBackend(b), WithView(sumView(t, mem)))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		return e.Run(ctx, true)
	}
	wantA, wantB := newMemBackend("a"), newMemBackend("b")
	if err := run(t.TempDir(), wantA, wantB, 60); err != nil {
		t.Fatal(err)
	}
	for _, failAt := range []core.Epoch{1, 3, 9} {
		t.Run(fmt.Sprintf("crash=%d", failAt), func(t *testing.T) {
			dir := t.TempDir()
			a, b := newMemBackend("a"), newMemBackend("b")
			b.failAt = failAt
			if err := run(dir, a, b, 60); !errors.Is(err, errCrash) {
				t.Fatalf("first run: got %v, want the injected crash", err)
			}
			// Restart with a different chunk size: logged epochs must be
			// replayed with their logged offsets, not re-planned.
			if err := run(dir, a, b, 17); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"sums", core.DeadLetterView} {
				if got, want := a.dump(v), b.dump(v); got != want {
					t.Errorf("view %s: backends differ:\na: %s\nb: %s", v, got, want)
				}
			}
			if got, want := b.dump("sums"), wantB.dump("sums"); got != want {
				t.Errorf("after recovery:\n got %s\nwant %s", got, want)
			}
			// Dead letters carry the epoch they arrived in, which differs
			// after a restart with another chunk size; their number may not.
			if got, want := len(b.views[core.DeadLetterView]), len(wantB.views[core.DeadLetterView]); got != want || got == 0 {
				t.Errorf("dead letters: got %d, want %d (> 0)", got, want)
			}
			seen := map[core.Epoch]bool{}
			for _, ep := range append(a.applied, b.applied...) {
				seen[ep] = true
			}
			for _, bk := range []*memBackend{a, b} {
				for i, ep := range bk.applied {
					if i > 0 && ep != bk.applied[i-1]+1 {
						t.Errorf("backend %s applied epochs %v: not each exactly once in order", bk.name, bk.applied)
						break
					}
				}
			}
		})
	}
}

// TestRerunAddsNothing: running again over the same data directory and
// exhausted sources commits no new epoch and changes nothing.
func TestRerunAddsNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a, b := newMemBackend("a"), newMemBackend("b")
	for i := 0; i < 2; i++ {
		mem := testutil.Alloc(t)
		src := &memSource{mem: mem, rows: rowsFor(200), chunk: 50}
		e, err := New(WithAllocator(mem), WithDataDir(dir),
			WithSource("src", src),
			WithBackend(a), WithBackend(b), WithView(sumView(t, mem)))
		if err != nil {
			t.Fatal(err)
		}
		before := a.dump("sums")
		if err := e.Run(ctx, true); err != nil {
			t.Fatal(err)
		}
		if i == 1 && a.dump("sums") != before {
			t.Fatalf("second run changed the view:\nbefore %s\nafter  %s", before, a.dump("sums"))
		}
		// The aggregate's state comes from the checkpoint: nothing is re-read.
		if i == 1 && src.reads != 0 {
			t.Fatalf("second run re-read %d epochs; the checkpoint should cover them", src.reads)
		}
		e.Close()
	}
	if a.committed != 4 {
		t.Fatalf("committed epoch %d, want 4 (200 rows in chunks of 50)", a.committed)
	}
}
