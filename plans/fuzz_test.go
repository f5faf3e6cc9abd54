package plans

import (
	"errors"
	"testing"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// FuzzPlan feeds arbitrary SQL to the front end. Properties: Plan never
// panics; it either returns a plan whose operators build, or an *Error whose
// position lies inside the text (or is -1).
func FuzzPlan(f *testing.F) {
	for _, s := range []string{
		"SELECT auction, count(*) FROM bids GROUP BY auction",
		"SELECT * FROM bids WHERE price > 10 AND NOT bidder = 'x'",
		"SELECT sum(price * 2), count(bidder) FROM bids",
		"SELECT price / 0, -price, price IS NULL FROM bids",
		"SELECT 1",
		"SELECT auction FROM bids GROUP BY 1",
		"SELECT x FROM (SELECT 1 AS x) t",
	} {
		f.Add(s)
	}
	cat := Catalog{"bids": {{Name: "auction", Type: core.Bigint}, {Name: "price", Type: core.Bigint}, {Name: "bidder", Type: core.Varchar}, {Name: "ratio", Type: core.Double}}}
	f.Fuzz(func(t *testing.T, sql string) {
		p, err := Plan(sql, cat)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Plan(%q) returned %T, want *Error: %v", sql, err, err)
			}
			if pe.Pos < -1 || pe.Pos > len(sql) {
				t.Fatalf("Plan(%q): position %d outside the text", sql, pe.Pos)
			}
			return
		}
		mem := testutil.Alloc(t)
		ch, err := p.Build(mem)
		if err != nil {
			return
		}
		ch.Close()
	})
}
