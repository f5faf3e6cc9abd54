package difftest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stratadb/strata/engine/core"
)

// Relation is one input of the harness: a stream (append-only, with an
// event-time column) or a table (keyed; inserts, updates as -old/+new pairs,
// deletes).
type Relation struct {
	Name    string
	Columns []core.Column
	// Key is the index of a table's key column; -1 for a stream.
	Key int
	// EventTime is the index of a stream's event-time column; -1 for none.
	EventTime int
	gen       func(g *gen, seq int64) []any
}

// IsTable reports whether r is a keyed table.
func (r *Relation) IsTable() bool { return r.Key >= 0 }

// Change is one row change of a relation: +1 inserts the row, -1 deletes it.
type Change struct {
	Rel    string
	Row    []any
	Weight int64
}

// Base is the event time every generated stream starts at.
var Base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxJitter bounds how far an event's time lags behind the newest event time
// of its stream: event times are mostly increasing, a row is at most
// MaxJitter older than the newest one before it.
const MaxJitter = 5 * time.Second

// Delay is the watermark delay the harness runs with: the watermark is the
// newest event time seen minus Delay. It exceeds MaxJitter, so no generated
// event is ever late (late data has its own tests).
const Delay = 10 * time.Second

// Relations is the catalog the queries read:
//
//	events   stream  id bigint (unique, increasing), user_id bigint (skewed: two hot
//	                 keys take half the rows), kind varchar (5 values), amount bigint
//	                 (-20..100), qty integer (0..5: division by zero), price double,
//	                 ok boolean, ts timestamp (event time)
//	payments stream  user_id bigint (skewed), amount bigint, ts timestamp (event time)
//	users    table   id bigint (key, 0..23), name varchar, region varchar (3 values),
//	                 tier integer (0..3), score double, vip boolean, since timestamp
//
// Every column but the keys and ids is NULL now and then.
var Relations = []*Relation{
	{
		Name: "events", Key: -1, EventTime: 7,
		Columns: []core.Column{
			{Name: "id", Type: core.Bigint}, {Name: "user_id", Type: core.Bigint}, {Name: "kind", Type: core.Varchar},
			{Name: "amount", Type: core.Bigint}, {Name: "qty", Type: core.Integer}, {Name: "price", Type: core.Double},
			{Name: "ok", Type: core.Boolean}, {Name: "ts", Type: core.Timestamp},
		},
		gen: func(g *gen, seq int64) []any {
			return []any{
				seq,
				g.null(0.04, g.userID()),
				g.null(0.05, g.pick("click", "view", "buy", "refund", "")),
				g.null(0.08, int64(g.rng.IntN(121)-20)),
				g.null(0.05, int32(g.rng.IntN(6))),
				g.null(0.08, g.price()),
				g.null(0.1, g.rng.IntN(2) == 0),
				g.null(0.01, g.eventTime("events")),
			}
		},
	},
	{
		Name: "payments", Key: -1, EventTime: 2,
		Columns: []core.Column{
			{Name: "user_id", Type: core.Bigint}, {Name: "amount", Type: core.Bigint}, {Name: "ts", Type: core.Timestamp},
		},
		gen: func(g *gen, seq int64) []any {
			return []any{
				g.null(0.04, g.userID()),
				g.null(0.05, int64(g.rng.IntN(100))),
				g.null(0.01, g.eventTime("payments")),
			}
		},
	},
	{
		Name: "users", Key: 0, EventTime: -1,
		Columns: []core.Column{
			{Name: "id", Type: core.Bigint}, {Name: "name", Type: core.Varchar}, {Name: "region", Type: core.Varchar},
			{Name: "tier", Type: core.Integer}, {Name: "score", Type: core.Double}, {Name: "vip", Type: core.Boolean},
			{Name: "since", Type: core.Timestamp},
		},
		gen: func(g *gen, seq int64) []any {
			return []any{
				int64(g.rng.IntN(24)),
				g.null(0.05, fmt.Sprintf("n%d", g.rng.IntN(8))),
				g.null(0.1, g.pick("eu", "us", "ap")),
				g.null(0.1, int32(g.rng.IntN(4))),
				g.null(0.1, g.price()),
				g.null(0.1, g.rng.IntN(3) == 0),
				g.null(0.05, Base.Add(time.Duration(g.rng.IntN(50))*time.Hour)),
			}
		},
	},
}

// RelationNamed returns the relation called name, or nil.
func RelationNamed(name string) *Relation {
	for _, r := range Relations {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Catalog returns the relations' columns by name, as plans.Catalog wants them.
func Catalog() map[string][]core.Column {
	cat := map[string][]core.Column{}
	for _, r := range Relations {
		cat[r.Name] = r.Columns
	}
	return cat
}

type gen struct {
	rng   *rand.Rand
	clock map[string]time.Duration // newest event time per stream
}

func (g *gen) null(p float64, v any) any {
	if g.rng.Float64() < p {
		return nil
	}
	return v
}

func (g *gen) pick(vs ...string) string { return vs[g.rng.IntN(len(vs))] }

// userID is skewed: keys 1 and 2 take half the rows, the rest spread over 0..29.
func (g *gen) userID() int64 {
	if g.rng.IntN(2) == 0 {
		return int64(1 + g.rng.IntN(2))
	}
	return int64(g.rng.IntN(30))
}

// price is a double: often an exact eighth (ties, equal sums), otherwise
// arbitrary (sums depend on the order of addition), sometimes negative.
func (g *gen) price() float64 {
	switch g.rng.IntN(4) {
	case 0:
		return g.rng.Float64()*200 - 20
	case 1:
		return -float64(g.rng.IntN(80)) / 8
	}
	return float64(g.rng.IntN(800)) / 8
}

// eventTime advances the stream's clock by 0..2 s and lags 0..MaxJitter
// behind it a third of the time.
func (g *gen) eventTime(stream string) time.Time {
	c := g.clock[stream] + time.Duration(g.rng.IntN(3))*time.Second + time.Duration(g.rng.IntN(4))*250*time.Millisecond
	g.clock[stream] = c
	t := c
	if g.rng.IntN(3) == 0 {
		t -= time.Duration(g.rng.Int64N(int64(MaxJitter) + 1)).Truncate(time.Millisecond)
	}
	return Base.Add(t)
}

// Generate returns n random changes over Relations, deterministic for a seed:
// stream rows are appended; table rows are inserted, updated (-old, +new) or
// deleted, so the table holds at most one row per key at every point.
func Generate(seed uint64, n int) []Change {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 0xd1ff)), clock: map[string]time.Duration{}}
	var out []Change
	seqs := map[string]int64{}
	live := map[int64][]any{} // the users table
	for len(out) < n {
		var r *Relation
		switch x := g.rng.IntN(10); {
		case x < 6:
			r = Relations[0]
		case x < 8:
			r = Relations[1]
		default:
			r = Relations[2]
		}
		seqs[r.Name]++
		row := r.gen(g, seqs[r.Name])
		if !r.IsTable() {
			out = append(out, Change{r.Name, row, 1})
			continue
		}
		k := row[r.Key].(int64)
		if old, ok := live[k]; ok {
			out = append(out, Change{r.Name, old, -1})
			delete(live, k)
			if g.rng.IntN(4) == 0 {
				continue // a delete
			}
		}
		live[k] = row
		out = append(out, Change{r.Name, row, 1})
	}
	return out
}

// Cut splits n changes into epochs of random sizes: sometimes empty, often a
// handful of rows, sometimes a few hundred. It returns the epochs' lengths.
func Cut(rng *rand.Rand, n int) []int {
	var sizes []int
	for n > 0 {
		var k int
		switch x := rng.IntN(20); {
		case x == 0:
			k = 0
		case x < 8:
			k = 1 + rng.IntN(5)
		case x < 16:
			k = 5 + rng.IntN(60)
		default:
			k = 60 + rng.IntN(240)
		}
		k = min(k, n)
		sizes = append(sizes, k)
		n -= k
	}
	return sizes
}
