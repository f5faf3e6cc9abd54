package difftest

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	flagSeeds  = flag.Int("seeds", 20, "seeds per query in TestDiff (TestMetamorphic runs a fifth as many)")
	flagSeed   = flag.Int("seed", -1, "run only this seed")
	flagRows   = flag.Int("rows", 0, "changes per seed (0: 200..800, chosen by the seed)")
	flagStrict = flag.Bool("strict", true, "known bugs fail the tests (-strict=false only logs them)")
)

// seedList returns the seeds to run: 0..n-1, or only -seed.
func seedList(n int) []uint64 {
	if *flagSeed >= 0 {
		return []uint64{uint64(*flagSeed)}
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = uint64(i)
	}
	return out
}

// sizes returns the number of changes for a seed, the rng that drives the
// run (batching, interleaving, slicing) and the epoch cuts.
func sizes(seed uint64) (int, *rand.Rand, []int) {
	rng := rand.New(rand.NewPCG(seed, 0xe90c))
	n := 200 + rng.IntN(601)
	if *flagRows > 0 {
		n = *flagRows
	}
	return n, rng, Cut(rng, n)
}

// planAll plans every query. A query whose needs are all Supported must
// plan (an error otherwise); a query that plans runs, pending or not; the
// rest are pending and logged, so the count of queries run is visible.
func planAll(t *testing.T, test string, seeds int) []*Planned {
	var run []*Planned
	var pending []string
	for _, q := range Queries {
		p, err := Plan(q)
		switch {
		case err != nil && len(q.Pending()) == 0:
			t.Errorf("query %s needs only supported constructs but does not plan: %v\n  %s", q.Name, err, q.SQL)
		case err != nil:
			pending = append(pending, fmt.Sprintf("%s %v", q.Name, q.Pending()))
		default:
			if len(q.Pending()) > 0 {
				t.Logf("query %s plans although Supported lacks %v: it runs; flip them in queries.go", q.Name, q.Pending())
			}
			run = append(run, p)
		}
	}
	if *flagSeed >= 0 {
		seeds = 1
	}
	t.Logf("%s: %d queries run x %d seeds; %d pending: %s", test, len(run), seeds, len(pending), strings.Join(pending, ", "))
	return run
}
