package difftest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stratadb/strata/internal/testutil"
)

// TestMetamorphic needs no oracle: the same changes cut into different
// epochs (one epoch; random cuts; one change an epoch), batched, sliced and
// interleaved differently, must end, after the final epoch that closes every
// window, in the same view (doubles within RelTol: the order of addition
// differs). The same seed run twice must give exactly the same view. Every
// run checks the invariants after every epoch.
//
//	go test ./internal/difftest -run TestMetamorphic/q=session -seed=3
func TestMetamorphic(t *testing.T) {
	seeds := max(1, *flagSeeds/5)
	for _, p := range planAll(t, "TestMetamorphic", seeds) {
		t.Run("q="+p.Query.Name, func(t *testing.T) {
			t.Parallel()
			for _, seed := range seedList(seeds) {
				if err := metamorphicSeed(t, p, seed); err != nil {
					t.Fatalf("query %s, seed %d: %v\n  sql: %s\nrerun: go test ./internal/difftest -run 'TestMetamorphic/q=%s$' -seed=%d",
						p.Query.Name, seed, err, p.Query.SQL, p.Query.Name, seed)
				}
			}
		})
	}
}

func metamorphicSeed(t *testing.T, p *Planned, seed uint64) error {
	n, rng, _ := sizes(seed)
	n = min(n, 300) // one change an epoch is the slow cut
	changes := Generate(seed, n)
	cuts := Cut(rng, n) // over the shortened changes
	ones := make([]int, n)
	for i := range ones {
		ones[i] = 1
	}
	type variant struct {
		name  string
		cuts  []int
		batch uint64
	}
	variants := []variant{
		{"random cuts", cuts, 1},
		{"random cuts again", cuts, 1},
		{"one epoch", []int{n}, 2},
		{"other random cuts", Cut(rand.New(rand.NewPCG(seed, 7)), n), 3},
		{"one change an epoch", ones, 4},
	}
	var first *Multiset
	for i, v := range variants {
		mem := testutil.Alloc(t)
		r, err := NewRun(p, mem)
		if err != nil {
			return err
		}
		ctx := context.Background()
		err = r.RunAll(ctx, rand.New(rand.NewPCG(seed, v.batch)), changes, v.cuts, nil)
		if err == nil {
			err = r.RunFinal(ctx)
		}
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
		if mem.CurrentAlloc() != 0 {
			return fmt.Errorf("%s: %d bytes of Arrow memory still allocated after Close", v.name, mem.CurrentAlloc())
		}
		switch {
		case i == 0:
			first = r.View
		case i == 1:
			if d := Diff(r.View, first, "second run", "first run"); d != "" || !exactlyEqual(r.View, first) {
				return fmt.Errorf("the same seed twice gives different views\n%s", d)
			}
		default:
			if d := Diff(r.View, first, v.name, variants[0].name); d != "" {
				return fmt.Errorf("final views differ (%d changes, %d vs %d epochs)\n%s", n, len(v.cuts), len(cuts), d)
			}
		}
	}
	return nil
}

func exactlyEqual(a, b *Multiset) bool {
	if len(a.rows) != len(b.rows) {
		return false
	}
	for k, e := range a.rows {
		if f, ok := b.rows[k]; !ok || f.n != e.n {
			return false
		}
	}
	return true
}
