package nexmark

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

func open(t testing.TB, mem memory.Allocator, batchRows int, cols []core.Column, opts map[string]any) *Source {
	t.Helper()
	s, err := Open(context.Background(), connect.SourceConfig{
		Name: "nx", Options: opts, Columns: cols, Alloc: mem, BatchRows: batchRows,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// read renders every row of ranges, without the weight column.
func read(t testing.TB, s *Source, r core.Ranges) []string {
	t.Helper()
	var out []string
	dead, err := s.Read(context.Background(), r, func(b arrow.RecordBatch) error {
		if err := core.CheckChangelog(b); err != nil {
			t.Fatal(err)
		}
		if !b.Schema().Equal(core.ChangelogSchema(s.Schema())) {
			t.Fatalf("batch schema %s, source schema %s", b.Schema(), s.Schema())
		}
		if b.NumRows() == 0 || b.NumRows() > int64(s.batchRows) {
			t.Fatalf("batch of %d rows, BatchRows is %d", b.NumRows(), s.batchRows)
		}
		for _, row := range render(t, b) {
			w, ok := strings.CutSuffix(row, "|1")
			if !ok {
				t.Fatalf("row %q: weight is not 1", row)
			}
			out = append(out, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if dead != nil {
		t.Fatalf("dead letters %v", dead)
	}
	return out
}

// drain runs Next/Read with random max sizes until the source is
// exhausted, checking that each proposal continues the last and holds at
// most max rows.
func drain(t *testing.T, s *Source, rng *rand.Rand) []string {
	t.Helper()
	var out []string
	next := int64(0)
	for i := 0; !s.Exhausted(); i++ {
		if i > 100_000 {
			t.Fatal("never exhausted")
		}
		max := rng.IntN(300) - 2
		r, err := s.Next(context.Background(), max)
		if err != nil {
			t.Fatal(err)
		}
		x := r[Partition]
		if r.Empty() {
			continue
		}
		rows := s.gen.Count(s.table, x.From, x.To)
		if x.From != next || max > 0 && rows > int64(max) {
			t.Fatalf("Next(%d) = %v (%d rows) after position %d", max, x, rows, next)
		}
		next = x.To
		out = append(out, read(t, s, r)...)
	}
	return out
}

// TestSourceDeterministic checks that the source, drained in random
// epochs and batch sizes, yields exactly the generator's rows, and that
// replaying a range after a re-open yields them again.
func TestSourceDeterministic(t *testing.T) {
	const events = 20_000
	mem := testutil.Alloc(t)
	g := newGen(t, WithSeed(9))
	for _, tab := range Tables {
		want := rows(t, g, mem, tab, 0, events)
		seed := uint64(time.Now().UnixNano())
		t.Run(fmt.Sprintf("table=%s/seed=%d", tab, seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 3))
			opts := map[string]any{"table": tab.String(), "events": events, "seed": 9}
			s := open(t, mem, 1+rng.IntN(500), nil, opts)
			if got := drain(t, s, rng); !slices.Equal(got, want) {
				t.Fatalf("drained %d rows, differing from the generator's %d", len(got), len(want))
			}
			// Replay after a restart: a new source reads an old range.
			s2 := open(t, mem, 1+rng.IntN(500), nil, opts)
			from, to := rng.Int64N(events), rng.Int64N(events)
			got := read(t, s2, core.Ranges{Partition: {From: from, To: to}})
			lo := g.Count(tab, 0, from)
			if !slices.Equal(got, want[lo:lo+g.Count(tab, from, to)]) {
				t.Fatalf("replayed [%d, %d) differs", from, to)
			}
		})
	}
}

// TestOneStream checks that three sources with the same options split one
// stream: in the same epochs, their rows together are every event, once.
func TestOneStream(t *testing.T) {
	const events = 10_000
	mem := testutil.Alloc(t)
	ctx := context.Background()
	srcs := make([]*Source, 3)
	for i, tab := range Tables {
		srcs[i] = open(t, mem, 128, nil, map[string]any{"table": tab.String(), "events": events, "seed": 5})
	}
	total := 0
	var maxAuction, maxPerson int64 = FirstAuctionID - 1, FirstPersonID - 1
	for !srcs[0].Exhausted() {
		var rs [3]core.Ranges
		for i, s := range srcs {
			r, err := s.Next(ctx, 50)
			if err != nil {
				t.Fatal(err)
			}
			rs[i] = r
		}
		// 50 rows of each table span different events; read every source
		// to the shortest end, as one epoch.
		end := min(rs[0][Partition].To, rs[1][Partition].To, rs[2][Partition].To)
		from := rs[0][Partition].From
		for i, s := range srcs {
			if rs[i][Partition].From != from {
				t.Fatalf("sources at %d and %d", from, rs[i][Partition].From)
			}
			if err := s.Seek(ctx, core.Positions{Partition: end}); err != nil {
				t.Fatal(err)
			}
		}
		// Persons and auctions first: bids refer to them.
		for i, tab := range Tables {
			for _, row := range read(t, srcs[i], core.Ranges{Partition: {From: from, To: end}}) {
				total++
				var id int64
				fmt.Sscan(row[:strings.IndexByte(row, '|')], &id)
				switch tab {
				case Person:
					if id != maxPerson+1 {
						t.Fatalf("person %d after %d", id, maxPerson)
					}
					maxPerson = id
				case Auction:
					if id != maxAuction+1 {
						t.Fatalf("auction %d after %d", id, maxAuction)
					}
					maxAuction = id
				case Bid:
					if id > maxAuction+idLead {
						t.Fatalf("bid on auction %d, the last is %d", id, maxAuction)
					}
				}
			}
		}
	}
	if total != events {
		t.Fatalf("%d rows in the three tables, want %d", total, events)
	}
}

func TestNextAndExhausted(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		table  string
		events int
		maxes  []int
		want   []core.Range
	}{
		// Bids are events 4..49 of each block of 50.
		{"bid rows", "bid", 200, []int{46, 1, 100, 100, 100}, []core.Range{{From: 0, To: 54}, {From: 54, To: 55}, {From: 55, To: 163}, {From: 163, To: 200}, {}}},
		{"person rows", "person", 200, []int{1, 2, 5}, []core.Range{{From: 0, To: 50}, {From: 50, To: 150}, {From: 150, To: 200}}},
		{"no max", "auction", 1000, []int{0, 0}, []core.Range{{From: 0, To: 1000}, {}}},
		{"unbounded", "person", 0, []int{1, 0}, []core.Range{{From: 0, To: 50}, {From: 50, To: 50 + 50*MaxProposal}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, testutil.Alloc(t), 16, nil, map[string]any{"table": tc.table, "events": tc.events})
			for i, max := range tc.maxes {
				r, err := s.Next(ctx, max)
				if err != nil {
					t.Fatal(err)
				}
				if r[Partition] != tc.want[i] {
					t.Fatalf("Next %d (max %d): %v, want %v", i, max, r[Partition], tc.want[i])
				}
			}
			if got, want := s.Exhausted(), tc.events > 0; got != want {
				t.Fatalf("Exhausted %v, want %v", got, want)
			}
			if err := s.Seek(ctx, core.Positions{Partition: 3}); err != nil {
				t.Fatal(err)
			}
			if s.Exhausted() {
				t.Fatal("exhausted after Seek back")
			}
			if r, _ := s.Next(ctx, 0); r[Partition].From != 3 {
				t.Fatalf("after Seek: %v", r)
			}
		})
	}
	s := open(t, testutil.Alloc(t), 16, nil, map[string]any{"table": "bid"})
	for _, pos := range []core.Positions{{"1": 0}, {Partition: -1}} {
		if err := s.Seek(ctx, pos); err == nil {
			t.Errorf("Seek(%v): no error", pos)
		}
	}
	for _, r := range []core.Ranges{{"1": {From: 0, To: 1}}, {Partition: {From: -5, To: 1}}} {
		if _, err := s.Read(ctx, r, func(arrow.RecordBatch) error { return nil }); err == nil {
			t.Errorf("Read(%v): no error", r)
		}
	}
}

// fakeClock is a clock tests advance by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRate(t *testing.T) {
	ctx := context.Background()
	t0 := time.Unix(1000, 0)
	clk := &fakeClock{t: t0}
	s := open(t, testutil.Alloc(t), 16, nil, map[string]any{"table": "bid", "rate": 1000, "events": 10_000})
	s.now = clk.now
	total := int64(0)
	for step, adv := range []time.Duration{0, 5 * time.Millisecond, 100 * time.Millisecond, time.Second, 0, 3 * time.Second, 30 * time.Second} {
		clk.t = clk.t.Add(adv)
		r, err := s.Next(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		x := r[Partition]
		if !r.Empty() && x.From != total {
			t.Fatalf("step %d: %v after %d", step, x, total)
		}
		total += x.To - x.From
		allowed := min(int64(clk.t.Sub(t0).Seconds()*1000), 10_000)
		if total > allowed {
			t.Fatalf("step %d: %d events proposed after %s at 1000 events/s", step, total, clk.t.Sub(t0))
		}
	}
	if total != 10_000 || !s.Exhausted() {
		t.Fatalf("%d events proposed; exhausted %v", total, s.Exhausted())
	}
	// With nothing due, Next waits briefly (real time) and returns.
	s2 := open(t, testutil.Alloc(t), 16, nil, map[string]any{"table": "person", "rate": 1})
	start := time.Now()
	if r, err := s2.Next(ctx, 0); err != nil || !r.Empty() {
		t.Fatalf("rate 1: first Next proposed %v, %v", r, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Next waited %s", d)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s2.Next(cctx, 0); err == nil {
		t.Fatal("Next with a canceled context: no error")
	}
}

// TestOpenErrors checks that each bad option is reported with its name and
// the fix, all at once.
func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		cols []core.Column
		want []string
	}{
		{"no table", map[string]any{}, nil, []string{"option table is required: set table: person, auction or bid"}},
		{"bad table", map[string]any{"table": "bidz"}, nil, []string{`option table must be person, auction or bid, got "bidz"`}},
		{"negative rate", map[string]any{"table": "bid", "rate": -5}, nil, []string{"option rate must be >= 0 events per second (0 generates as fast as the engine reads), got -5"}},
		{"negative events", map[string]any{"table": "bid", "events": -1}, nil, []string{"option events must be >= 0 (0 is unbounded), got -1"}},
		{"first_event_rate", map[string]any{"table": "bid", "first_event_rate": 0}, nil, []string{"option first_event_rate must be > 0 events per second of event time, got 0"}},
		{"negative proportion", map[string]any{"table": "bid", "bid_proportion": -46}, nil, []string{"option bid_proportion must be >= 0, got -46"}},
		{"zero proportions", map[string]any{"table": "bid", "person_proportion": 0, "auction_proportion": 0, "bid_proportion": 0}, nil,
			[]string{"are all 0; set at least one > 0"}},
		{"hot ratio", map[string]any{"table": "bid", "hot_bidders_ratio": 0}, nil, []string{"option hot_bidders_ratio must be >= 1"}},
		{"base_time", map[string]any{"table": "bid", "base_time": "noon"}, nil, []string{`option base_time: want timestamp like "2006-01-02 15:04:05"`}},
		{"option kind", map[string]any{"table": "bid", "seed": "one"}, nil, []string{"nexmark: option seed: want an integer"}},
		{"several", map[string]any{"table": "bids!", "rate": -1, "events": -1}, nil,
			[]string{"option table must be", "option rate must be >= 0", "option events must be >= 0"}},
		{"unknown column", map[string]any{"table": "bid"}, []core.Column{{Name: "prize", Type: core.Bigint}}, []string{
			`column "prize" is not a column of table bid; declare a subset of its columns: auction, bidder, price, channel, url, date_time, extra`}},
		{"wrong type", map[string]any{"table": "bid"}, []core.Column{{Name: "price", Type: core.Double}}, []string{
			"column price of table bid is bigint, declared double; declare {name: price, type: bigint}"}},
		{"wrong time type", map[string]any{"table": "person"}, []core.Column{{Name: "date_time", Type: core.Timestamptz}}, []string{
			"column date_time of table person is timestamp, declared timestamptz"}},
		{"twice", map[string]any{"table": "bid"}, []core.Column{{Name: "price", Type: core.Bigint}, {Name: "Price", Type: core.Bigint}}, []string{
			`column "Price" is declared twice`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(context.Background(), connect.SourceConfig{Name: "nx", Options: tc.opts, Columns: tc.cols, Alloc: memory.NewGoAllocator()})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "nexmark: ") {
				t.Errorf("error %q does not start with nexmark:", err)
			}
		})
	}
}

// TestDeclaredSchema checks that a declared subset of the columns, in any
// order and case, yields the same values as the full table.
func TestDeclaredSchema(t *testing.T) {
	mem := testutil.Alloc(t)
	opts := map[string]any{"table": "auction", "events": 5000, "seed": 3}
	full := read(t, open(t, mem, 100, nil, opts), core.Ranges{Partition: {From: 0, To: 5000}})
	cols := []core.Column{{Name: "Seller", Type: core.Bigint}, {Name: "id", Type: core.Bigint}, {Name: "date_time", Type: core.Timestamp}}
	s := open(t, mem, 100, cols, opts)
	if got := s.Schema().Field(0).Name; got != "Seller" {
		t.Fatalf("the schema renames the declared column to %q", got)
	}
	got := read(t, s, core.Ranges{Partition: {From: 0, To: 5000}})
	if len(got) != len(full) {
		t.Fatalf("%d rows, want %d", len(got), len(full))
	}
	for i, row := range got {
		f := strings.Split(full[i], "|")
		if want := f[7] + "|" + f[0] + "|" + f[5]; row != want {
			t.Fatalf("row %d: %s, want %s", i, row, want)
		}
	}
}

// TestRegistry opens the connector by name, as a deployment does, and
// reads the three tables of the default stream.
func TestRegistry(t *testing.T) {
	ctx := context.Background()
	if !slices.Contains(connect.SourceNames(), Name) {
		t.Fatalf("%s is not registered: %v", Name, connect.SourceNames())
	}
	mem := testutil.Alloc(t)
	counts := map[string]int64{}
	for _, tab := range []string{"person", "auction", "bid"} {
		src, err := connect.OpenSource(ctx, Name, connect.SourceConfig{
			Name: tab, Options: map[string]any{"table": tab, "events": 1000}, Alloc: mem,
		})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ParseTable(tab)
		if !src.Schema().Equal(Schema(want)) {
			t.Fatalf("%s schema %s", tab, src.Schema())
		}
		for !src.Exhausted() {
			r, err := src.Next(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := src.Read(ctx, r, func(b arrow.RecordBatch) error {
				counts[tab] += b.NumRows()
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		if err := src.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := src.Next(ctx, 0); err == nil {
			t.Fatal("Next after Close: no error")
		}
	}
	if counts["person"] != 20 || counts["auction"] != 60 || counts["bid"] != 920 {
		t.Fatalf("rows %v, want 20 persons, 60 auctions, 920 bids", counts)
	}
	_, err := connect.OpenSource(ctx, Name, connect.SourceConfig{Name: "b", Options: map[string]any{"table": "bod"}, Alloc: mem})
	if err == nil || !strings.Contains(err.Error(), `connect: source "b" (nexmark): nexmark: option table must be person, auction or bid, got "bod"`) {
		t.Fatalf("bad table through the registry: %v", err)
	}
}

// TestRegisteredSchema: the connector reports each table's columns from its
// options, so a deployment need not declare them.
func TestRegisteredSchema(t *testing.T) {
	for _, tab := range Tables {
		cols, ok, err := connect.SourceSchema(Name, map[string]any{"table": tab.String(), "events": 10})
		if err != nil || !ok || !slices.Equal(cols, Columns(tab)) {
			t.Errorf("%s: SourceSchema = %v, %v, %v; want its columns", tab, cols, ok, err)
		}
	}
	if cols, ok, err := connect.SourceSchema(Name, map[string]any{}); cols != nil || !ok || err != nil {
		t.Errorf("no table: SourceSchema = %v, %v, %v; want nothing yet (config reports the missing option)", cols, ok, err)
	}
	if _, _, err := connect.SourceSchema(Name, map[string]any{"table": "bids!"}); err == nil || !strings.Contains(err.Error(), `got "bids!"`) {
		t.Errorf("bad table: err = %v", err)
	}
	if _, ok, _ := connect.SourceSchema("no-such-connector", nil); ok {
		t.Error("an unknown connector has no fixed schema")
	}
}
