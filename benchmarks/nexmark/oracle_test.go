//go:build duckdb_arrow && cgo

package nexmark

import (
	"context"
	"testing"

	gen "github.com/stratadb/strata/connect/nexmark"
	"github.com/stratadb/strata/internal/testutil"
)

// TestOracleLoadsTheGeneratedEvents: DuckDB holds exactly the generator's
// rows, in chunks that do not line up with the tables' rows.
func TestOracleLoadsTheGeneratedEvents(t *testing.T) {
	ctx := context.Background()
	mem := testutil.Alloc(t)
	g, err := gen.NewGenerator(gen.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	const events = oracleChunk + 1234
	o, err := NewOracle(ctx, mem, g, events, []string{"person", "auction", "bid", SideInput})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	for _, tc := range []struct {
		sql  string
		want float64
	}{
		{"SELECT count(*) FROM person", float64(g.Count(gen.Person, 0, events))},
		{"SELECT count(*) FROM auction", float64(g.Count(gen.Auction, 0, events))},
		{"SELECT count(*) FROM bid", float64(g.Count(gen.Bid, 0, events))},
		{"SELECT count(DISTINCT date_time) FROM bid", float64(g.Count(gen.Bid, 0, events))},
		{"SELECT min(id) FROM person", 1000},
		{"SELECT count(*) FROM side_input WHERE value = CAST(key AS varchar)", SideInputRows},
	} {
		got, err := o.Query(ctx, tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0][0].Num != tc.want {
			t.Errorf("%s = %v, want %v", tc.sql, got, tc.want)
		}
	}
	// The last bid is the generator's.
	b, err := g.NewRecordBatch(mem, gen.Bid, events-50, events)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	last := b.NumRows() - 1
	got, err := o.Query(ctx, "SELECT auction, price FROM bid ORDER BY date_time DESC LIMIT 1")
	if err != nil {
		t.Fatal(err)
	}
	wantAuction := b.Column(0).(interface{ Value(int) int64 }).Value(int(last))
	wantPrice := b.Column(2).(interface{ Value(int) int64 }).Value(int(last))
	if got[0][0].Num != float64(wantAuction) || got[0][1].Num != float64(wantPrice) {
		t.Errorf("last bid (auction, price) = %v, want (%d, %d)", got[0], wantAuction, wantPrice)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
