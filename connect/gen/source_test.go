package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/connect"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

var allTypes = []core.Column{
	{Name: "flag", Type: core.Boolean},
	{Name: "small", Type: core.Integer},
	{Name: "big", Type: core.Bigint},
	{Name: "price", Type: core.Double},
	{Name: "name", Type: core.Varchar},
	{Name: "blob", Type: core.Bytea},
	{Name: "day", Type: core.Date},
	{Name: "ts", Type: core.Timestamp},
}

func open(t testing.TB, mem memory.Allocator, batchRows int, opts map[string]any) *Source {
	t.Helper()
	s, err := Open(context.Background(), connect.SourceConfig{
		Name: "gen", Options: opts, Columns: allTypes, Alloc: mem, BatchRows: batchRows,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// read renders every row of ranges as text.
func read(t testing.TB, s *Source, r core.Ranges) []string {
	t.Helper()
	var rows []string
	dead, err := s.Read(context.Background(), r, func(b arrow.RecordBatch) error {
		if err := core.CheckChangelog(b); err != nil {
			t.Fatal(err)
		}
		if b.NumRows() > int64(s.cfg.BatchRows) {
			t.Fatalf("batch of %d rows, BatchRows is %d", b.NumRows(), s.cfg.BatchRows)
		}
		for i := range int(b.NumRows()) {
			var f []string
			for c := range int(b.NumCols()) {
				f = append(f, core.FormatValue(core.ValueAt(b.Column(c), i)))
			}
			rows = append(rows, strings.Join(f, "|"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if dead != nil {
		t.Fatalf("dead letters %v", dead)
	}
	return rows
}

// drain runs Next/Read with random max sizes until the source is exhausted.
func drain(t *testing.T, s *Source, rng *rand.Rand) []string {
	t.Helper()
	var rows []string
	next := int64(0)
	for i := 0; !s.Exhausted(); i++ {
		if i > 10000 {
			t.Fatal("never exhausted")
		}
		max := rng.IntN(40) - 2
		r, err := s.Next(context.Background(), max)
		if err != nil {
			t.Fatal(err)
		}
		x := r[Partition]
		if !r.Empty() && (x.From != next || max > 0 && x.To-x.From > int64(max)) {
			t.Fatalf("Next(%d) = %v after position %d", max, x, next)
		}
		if !r.Empty() {
			next = x.To
		}
		rows = append(rows, read(t, s, r)...)
	}
	return rows
}

// TestDeterministic checks same seed == same rows, in any chunking.
func TestDeterministic(t *testing.T) {
	opts := map[string]any{"rows": 500, "seed": 7, "cardinality": 10}
	want := read(t, open(t, testutil.Alloc(t), 4096, opts), core.Ranges{Partition: {From: 0, To: 500}})
	if len(want) != 500 {
		t.Fatalf("%d rows", len(want))
	}
	for trial := range 10 {
		seed := uint64(time.Now().UnixNano()) + uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 1))
		batch := 1 + rng.IntN(64)
		t.Run(fmt.Sprintf("seed=%d/batch=%d", seed, batch), func(t *testing.T) {
			got := drain(t, open(t, testutil.Alloc(t), batch, opts), rng)
			if !slices.Equal(got, want) {
				t.Fatalf("rows differ from a single read")
			}
		})
	}
	// An arbitrary sub-range equals the same slice of the whole.
	s := open(t, testutil.Alloc(t), 7, opts)
	if got := read(t, s, core.Ranges{Partition: {From: 123, To: 321}}); !slices.Equal(got, want[123:321]) {
		t.Fatal("sub-range differs")
	}
}

func TestValues(t *testing.T) {
	s := open(t, testutil.Alloc(t), 4096, map[string]any{
		"rows": 2000, "seed": 3, "cardinality": 5, "start": "2024-03-01 23:59:59", "interval": "250ms",
	})
	distinct := make([]map[string]bool, 6)
	for i := range distinct {
		distinct[i] = map[string]bool{}
	}
	for r, row := range read(t, s, core.Ranges{Partition: {From: 0, To: 2000}}) {
		f := strings.Split(row, "|")
		for i := range 6 {
			distinct[i][f[i]] = true
		}
		if !strings.HasPrefix(f[4], "name_") {
			t.Fatalf("varchar %q", f[4])
		}
		want := time.Date(2024, 3, 1, 23, 59, 59, 0, time.UTC).Add(time.Duration(r) * 250 * time.Millisecond)
		if f[7] != core.FormatValue(want) || f[6] != want.Format("2006-01-02")+" 00:00:00" {
			t.Fatalf("row %d: day %s ts %s, want %s", r, f[6], f[7], want)
		}
		if f[8] != "1" {
			t.Fatalf("weight %s", f[8])
		}
	}
	for i, want := range []int{2, 5, 5, 0, 5, 5} {
		if want > 0 && len(distinct[i]) != want {
			t.Errorf("column %s: %d distinct values, want %d", allTypes[i].Name, len(distinct[i]), want)
		}
	}
	if len(distinct[3]) < 1000 {
		t.Errorf("double: only %d distinct values in 2000 rows", len(distinct[3]))
	}
}

func TestSeedsDiffer(t *testing.T) {
	r := core.Ranges{Partition: {From: 0, To: 100}}
	a := read(t, open(t, testutil.Alloc(t), 64, map[string]any{"seed": 1}), r)
	b := read(t, open(t, testutil.Alloc(t), 64, map[string]any{"seed": 2}), r)
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("%d of 100 rows identical across seeds", same)
	}
}

func TestRowsAndExhausted(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		rows  int
		maxes []int
		want  []core.Range
	}{
		{"limit", 10, []int{4, 4, 4, 4}, []core.Range{{From: 0, To: 4}, {From: 4, To: 8}, {From: 8, To: 10}, {}}},
		{"no max", 10, []int{0, 0}, []core.Range{{From: 0, To: 10}, {}}},
		{"unbounded", 0, []int{5, 0}, []core.Range{{From: 0, To: 5}, {From: 5, To: 5 + MaxProposal}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, testutil.Alloc(t), 16, map[string]any{"rows": tc.rows})
			for i, max := range tc.maxes {
				r, err := s.Next(ctx, max)
				if err != nil {
					t.Fatal(err)
				}
				if r[Partition] != tc.want[i] {
					t.Fatalf("Next %d (max %d): %v, want %v", i, max, r[Partition], tc.want[i])
				}
			}
			if got, want := s.Exhausted(), tc.rows > 0; got != want {
				t.Fatalf("Exhausted %v, want %v", got, want)
			}
			// Seek back: not exhausted, resumes there.
			if err := s.Seek(ctx, core.Positions{Partition: 3}); err != nil {
				t.Fatal(err)
			}
			if s.Exhausted() {
				t.Fatal("exhausted after Seek back")
			}
			if r, _ := s.Next(ctx, 2); r[Partition] != (core.Range{From: 3, To: 5}) {
				t.Fatalf("after Seek: %v", r)
			}
		})
	}
}

// fakeClock is a clock tests advance by hand; sleeping advances it.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRate(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := open(t, testutil.Alloc(t), 16, map[string]any{"rate": 100, "rows": 1000})
	s.now = clk.now
	total := int64(0)
	for step, adv := range []time.Duration{0, 5 * time.Millisecond, 100 * time.Millisecond, time.Second, 0, 3 * time.Second, 30 * time.Second} {
		clk.t = clk.t.Add(adv)
		r, err := s.Next(ctx, 50)
		if err != nil {
			t.Fatal(err)
		}
		x := r[Partition]
		total += x.To - x.From
		elapsed := clk.t.Sub(time.Unix(1000, 0))
		allowed := min(int64(elapsed.Seconds()*100), 1000)
		if total > allowed {
			t.Fatalf("step %d: %d rows proposed after %s at 100 rows/s", step, total, elapsed)
		}
		if x.To-x.From > 50 {
			t.Fatalf("step %d: %v exceeds max 50", step, x)
		}
	}
	// With nothing due, Next waits briefly (real time) and returns.
	start := time.Now()
	s2 := open(t, testutil.Alloc(t), 16, map[string]any{"rate": 1})
	r, err := s2.Next(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Empty() {
		t.Fatalf("rate 1: first Next proposed %v", r)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Next waited %s", d)
	}
	// Real pacing, loosely: over ~200ms at 500 rows/s never more than due.
	s3 := open(t, testutil.Alloc(t), 16, map[string]any{"rate": 500})
	first := time.Now()
	got := int64(0)
	for time.Since(first) < 200*time.Millisecond {
		r, err := s3.Next(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		got += r[Partition].To - r[Partition].From
		if limit := int64(time.Since(first).Seconds()*500) + 1; got > limit {
			t.Fatalf("%d rows after %s at 500 rows/s", got, time.Since(first))
		}
	}
	if got == 0 {
		t.Fatal("no rows in 200ms at 500 rows/s")
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		cols []core.Column
		want []string
	}{
		{"negative rows", map[string]any{"rows": -1}, nil, []string{"datagen: option rows must be >= 0"}},
		{"several problems", map[string]any{"cardinality": 0, "rate": -5, "interval": "-1s"}, nil,
			[]string{"option cardinality must be >= 1", "option rate must be >= 0", "option interval must not be negative"}},
		{"bad start", map[string]any{"start": "noon"}, nil, []string{"datagen: option start: want timestamp"}},
		{"bad kind", map[string]any{"seed": "one"}, nil, []string{"datagen: option seed: want an integer"}},
		{"no columns", nil, []core.Column{}, []string{"declares no columns"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cols := allTypes
			if tc.cols != nil {
				cols = tc.cols
			}
			_, err := Open(context.Background(), connect.SourceConfig{Name: "g", Options: tc.opts, Columns: cols, Alloc: testutil.Alloc(t)})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	src, err := connect.OpenSource(context.Background(), Name, connect.SourceConfig{
		Name: "g", Options: map[string]any{"rows": 3}, Columns: allTypes, Alloc: testutil.Alloc(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Schema().NumFields() != len(allTypes) {
		t.Fatalf("schema %s", src.Schema())
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(context.Background(), 0); err == nil {
		t.Fatal("Next after Close: no error")
	}
}

func BenchmarkRead(b *testing.B) {
	for _, batch := range []int{1024, 4096} {
		b.Run(fmt.Sprintf("cols=%d/batch=%d", len(allTypes), batch), func(b *testing.B) {
			s := open(b, memory.NewGoAllocator(), batch, nil)
			const rows = 100_000
			r := core.Ranges{Partition: {From: 0, To: rows}}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := s.Read(ctx, r, func(arrow.RecordBatch) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
