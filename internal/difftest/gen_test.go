package difftest

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestGenerate checks the generator's promises: deterministic by seed,
// tables hold at most one row per key at every point (updates are -old then
// +new, deletes retract the live row), streams only append, event times lag
// the newest one by at most MaxJitter, and Cut covers every change.
func TestGenerate(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		a, b := Generate(seed, 800), Generate(seed, 800)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: Generate is not deterministic", seed)
		}
		live := map[int64][]any{}
		newest := map[string]time.Time{}
		nulls := map[string]int{}
		for i, c := range a {
			rel := RelationNamed(c.Rel)
			for j, v := range c.Row {
				if v == nil {
					nulls[c.Rel+"."+rel.Columns[j].Name]++
				}
			}
			if !rel.IsTable() {
				if c.Weight != 1 {
					t.Fatalf("seed %d change %d: stream %s has weight %d", seed, i, c.Rel, c.Weight)
				}
				if ts, ok := c.Row[rel.EventTime].(time.Time); ok {
					if n, seen := newest[c.Rel]; seen && n.Sub(ts) > MaxJitter {
						t.Fatalf("seed %d change %d: event time %s lags %s by more than %s", seed, i, ts, n, MaxJitter)
					}
					if ts.After(newest[c.Rel]) {
						newest[c.Rel] = ts
					}
				}
				continue
			}
			k := c.Row[rel.Key].(int64)
			switch old, ok := live[k]; {
			case c.Weight == 1 && !ok:
				live[k] = c.Row
			case c.Weight == -1 && ok && reflect.DeepEqual(old, c.Row):
				delete(live, k)
			default:
				t.Fatalf("seed %d change %d: table change %v (weight %d) does not fit the live row %v", seed, i, c.Row, c.Weight, old)
			}
		}
		for _, col := range []string{"events.user_id", "events.amount", "events.price", "events.ok", "users.region", "payments.amount"} {
			if nulls[col] == 0 {
				t.Errorf("seed %d: no NULL in %s", seed, col)
			}
		}
		sum := 0
		for _, n := range Cut(rand.New(rand.NewPCG(seed, 0)), len(a)) {
			if n < 0 {
				t.Fatalf("negative epoch size %d", n)
			}
			sum += n
		}
		if sum != len(a) {
			t.Fatalf("seed %d: Cut covers %d of %d changes", seed, sum, len(a))
		}
	}
}
