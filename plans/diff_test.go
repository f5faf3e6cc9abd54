//go:build duckdb_arrow

package plans

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// The differential test: random changes to two relations, cut into random
// epochs, run through each view incrementally; after every epoch the view
// must equal DuckDB evaluating the same query over everything so far.
//
//	go test -tags duckdb_arrow ./plans -run TestDifferential            (20 seeds)
//	go test -tags duckdb_arrow ./plans -run TestDifferential -diff.seeds=200
//	go test -tags duckdb_arrow ./plans -run 'TestDifferential/q=join_left' -diff.seed=7
var (
	diffSeeds = flag.Int("diff.seeds", 20, "seeds per query in TestDifferential")
	diffSeed  = flag.Int("diff.seed", -1, "run only this seed")
)

var diffCatalog = Catalog{
	"bids": {{Name: "auction", Type: core.Bigint}, {Name: "bidder", Type: core.Varchar}, {Name: "price", Type: core.Bigint},
		{Name: "ts", Type: core.Timestamp}, {Name: "qty", Type: core.Integer}, {Name: "rate", Type: core.Double}},
	"auctions": {{Name: "id", Type: core.Bigint}, {Name: "category", Type: core.Varchar}, {Name: "seller", Type: core.Bigint}},
}

// diffQuery is one view; oracle is the DuckDB query when it must be
// spelled differently (window functions in FROM, Postgres integer division).
type diffQuery struct {
	name, sql, oracle string
}

var diffQueries = []diffQuery{
	{name: "project", sql: "SELECT auction, price * 2 AS p2, price + qty AS pq FROM bids"},
	{name: "filter_and_or", sql: "SELECT auction, bidder FROM bids WHERE (price > 50 AND qty < 5) OR bidder = 'b1'"},
	{name: "filter_nulls", sql: "SELECT auction, price FROM bids WHERE price IS NULL OR NOT (qty > 3)"},
	{name: "division", sql: "SELECT auction, price / qty AS d, price % 7 AS m FROM bids WHERE qty <> 0", oracle: "SELECT auction, price // qty AS d, price % 7 AS m FROM bids WHERE qty <> 0"},
	{name: "double_math", sql: "SELECT bidder, rate * 2.5 AS r, rate - price AS rp FROM bids"},
	{name: "case", sql: "SELECT auction, CASE WHEN price > 70 THEN 'high' WHEN price > 30 THEN 'mid' ELSE 'low' END AS band FROM bids"},
	{name: "coalesce_nullif", sql: "SELECT COALESCE(price, qty, -1) AS c, NULLIF(bidder, 'b0') AS n FROM bids"},
	{name: "in_between_like", sql: "SELECT auction FROM bids WHERE auction IN (1, 3, 5) AND price BETWEEN 10 AND 80 AND bidder LIKE 'b%'"},
	{name: "string_funcs", sql: "SELECT upper(bidder) AS u, length(bidder) AS l, bidder || '-' || category AS c FROM bids JOIN auctions ON auction = id"},
	{name: "count_star", sql: "SELECT auction, count(*) AS n FROM bids GROUP BY auction"},
	{name: "count_sum", sql: "SELECT auction, count(price) AS n, sum(price) AS s, sum(qty) AS q FROM bids GROUP BY auction"},
	{name: "avg_min_max", sql: "SELECT auction, avg(price) AS a, min(price) AS lo, max(price) AS hi FROM bids GROUP BY auction"},
	{name: "min_max_strings", sql: "SELECT auction, min(bidder) AS lo, max(bidder) AS hi FROM bids GROUP BY auction"},
	{name: "min_max_ts", sql: "SELECT bidder, min(ts) AS first, max(ts) AS last FROM bids GROUP BY bidder"},
	{name: "count_distinct", sql: "SELECT auction, count(DISTINCT bidder) AS bidders FROM bids GROUP BY auction"},
	{name: "sum_double", sql: "SELECT bidder, sum(rate) AS r, avg(rate) AS a FROM bids GROUP BY bidder"},
	{name: "having", sql: "SELECT auction, count(*) AS n FROM bids GROUP BY auction HAVING count(*) > 2 AND max(price) > 40"},
	{name: "global_agg", sql: "SELECT count(*) AS n, sum(price) AS s, max(price) AS hi, count(DISTINCT auction) AS a FROM bids"},
	{name: "group_expr", sql: "SELECT price % 10 AS bucket, count(*) AS n FROM bids GROUP BY price % 10"},
	{name: "group_two_keys", sql: "SELECT auction, bidder, sum(qty) AS q FROM bids GROUP BY auction, bidder"},
	{name: "distinct", sql: "SELECT DISTINCT bidder, auction FROM bids"},
	{name: "union_all", sql: "SELECT auction AS x FROM bids UNION ALL SELECT seller FROM auctions"},
	{name: "union", sql: "SELECT auction AS x FROM bids UNION SELECT id FROM auctions"},
	{name: "join_inner", sql: "SELECT b.auction, a.category, b.price FROM bids b JOIN auctions a ON b.auction = a.id"},
	{name: "join_left", sql: "SELECT a.id, a.category, b.price FROM auctions a LEFT JOIN bids b ON b.auction = a.id"},
	{name: "join_right", sql: "SELECT a.id, b.bidder FROM auctions a RIGHT JOIN bids b ON b.auction = a.id"},
	{name: "join_full", sql: "SELECT a.id, a.seller, b.auction, b.price FROM auctions a FULL JOIN bids b ON b.auction = a.id"},
	{name: "join_residual", sql: "SELECT b.auction, a.seller FROM bids b JOIN auctions a ON b.auction = a.id AND b.price > a.seller"},
	{name: "join_where_pushdown", sql: "SELECT b.bidder, a.category FROM bids b, auctions a WHERE b.auction = a.id AND a.category <> 'c0' AND b.price > 20"},
	{name: "join_using", sql: "SELECT auction, category FROM bids JOIN (SELECT id AS auction, category FROM auctions) x USING (auction)"},
	{name: "join_agg", sql: "SELECT a.category, count(*) AS n, sum(b.price) AS s FROM bids b JOIN auctions a ON b.auction = a.id GROUP BY a.category"},
	{name: "agg_then_join", sql: "SELECT a.category, p.n FROM (SELECT auction, count(*) AS n FROM bids GROUP BY auction) p JOIN auctions a ON p.auction = a.id"},
	{name: "three_way", sql: "SELECT b.bidder, a.category, s.n FROM bids b JOIN auctions a ON b.auction = a.id JOIN (SELECT seller, count(*) AS n FROM auctions GROUP BY seller) s ON a.seller = s.seller"},
	{name: "left_join_agg", sql: "SELECT a.id, count(b.price) AS n, sum(b.price) AS s FROM auctions a LEFT JOIN bids b ON b.auction = a.id GROUP BY a.id"},
	{name: "cte", sql: "WITH big AS (SELECT auction, price FROM bids WHERE price > 50) SELECT auction, count(*) AS n FROM big GROUP BY auction"},
	{name: "subquery", sql: "SELECT x.b, max(x.p) AS top FROM (SELECT bidder AS b, price AS p FROM bids WHERE qty > 1) x GROUP BY x.b"},
	{name: "distinct_agg_input", sql: "SELECT count(*) AS n FROM (SELECT DISTINCT auction, bidder FROM bids) d"},
	{name: "topn", sql: "SELECT auction, bidder, price, rn FROM (SELECT auction, bidder, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, bidder, ts) AS rn FROM bids WHERE price IS NOT NULL AND ts IS NOT NULL) t WHERE rn <= 2"},
	{name: "dedup", sql: "SELECT bidder, auction FROM (SELECT bidder, auction, ROW_NUMBER() OVER (PARTITION BY bidder ORDER BY auction, price, ts) AS rn FROM bids WHERE price IS NOT NULL AND ts IS NOT NULL) t WHERE rn = 1"},
	{name: "tumble", sql: "SELECT auction, window_start, count(*) AS n, sum(price) AS s FROM TUMBLE(bids, ts, INTERVAL '10' SECOND) GROUP BY auction, window_start",
		oracle: "SELECT auction, time_bucket(INTERVAL '10 seconds', ts) AS window_start, count(*) AS n, sum(price) AS s FROM bids WHERE ts IS NOT NULL GROUP BY ALL"},
	{name: "tumble_end", sql: "SELECT window_start, window_end, max(price) AS hi FROM TUMBLE(bids, ts, INTERVAL '30' SECOND) GROUP BY window_start, window_end",
		oracle: "SELECT time_bucket(INTERVAL '30 seconds', ts) AS window_start, time_bucket(INTERVAL '30 seconds', ts) + INTERVAL '30 seconds' AS window_end, max(price) AS hi FROM bids WHERE ts IS NOT NULL GROUP BY ALL"},
	{name: "hop", sql: "SELECT window_start, count(*) AS n FROM HOP(bids, ts, INTERVAL '10' SECOND, INTERVAL '30' SECOND) GROUP BY window_start",
		oracle: "SELECT w AS window_start, count(*) AS n FROM (SELECT time_bucket(INTERVAL '10 seconds', ts) - INTERVAL (k * 10) SECOND AS w FROM bids, range(3) t(k) WHERE ts IS NOT NULL) GROUP BY w"},
	{name: "session", sql: "SELECT bidder, window_start, window_end, count(*) AS n FROM SESSION(bids, ts, INTERVAL '20' SECOND) GROUP BY bidder, window_start, window_end",
		// Sessions are defined over distinct event times (ties share a session).
		oracle: `WITH t AS (SELECT bidder, ts, count(*) AS c FROM bids WHERE ts IS NOT NULL GROUP BY bidder, ts),
		o AS (SELECT bidder, ts, c, CASE WHEN lag(ts) OVER w IS NULL OR ts - lag(ts) OVER w >= INTERVAL '20 seconds' THEN 1 ELSE 0 END AS brk FROM t WINDOW w AS (PARTITION BY bidder ORDER BY ts)),
		s AS (SELECT bidder, ts, c, sum(brk) OVER (PARTITION BY bidder ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM o)
		SELECT bidder, min(ts) AS window_start, max(ts) + INTERVAL '20 seconds' AS window_end, sum(c) AS n FROM s GROUP BY bidder, sid`},
	{name: "cast_round", sql: "SELECT CAST(rate AS bigint) AS r, round(rate, 1) AS r1, abs(price - 50) AS a, CAST(price AS varchar) AS s FROM bids"},
	{name: "substr_replace", sql: "SELECT substr(bidder, 1, 1) AS f, replace(bidder, 'b', 'B') AS r, lower(upper(bidder)) AS l FROM bids"},
	{name: "extract_trunc", sql: "SELECT extract(second FROM ts) AS s, date_trunc('minute', ts) AS m, count(*) AS n FROM bids GROUP BY 1, 2"},
	{name: "ts_arith", sql: "SELECT auction, ts + INTERVAL '1' HOUR AS later FROM bids WHERE ts < TIMESTAMP '2026-01-01 00:05:00'"},
	{name: "is_distinct", sql: "SELECT auction, price FROM bids WHERE price IS DISTINCT FROM 42 AND bidder IS NOT DISTINCT FROM 'b2'"},
	{name: "not_in_not_like", sql: "SELECT bidder, qty FROM bids WHERE qty NOT IN (1, 2) AND bidder NOT LIKE '%3'"},
	{name: "case_in_agg", sql: "SELECT auction, sum(CASE WHEN price > 50 THEN 1 ELSE 0 END) AS hi, count(*) AS n FROM bids GROUP BY auction"},
	{name: "having_avg", sql: "SELECT bidder, avg(price) AS a FROM bids GROUP BY bidder HAVING avg(price) > 45"},
	{name: "agg_in_coalesce", sql: "SELECT coalesce(max(price), 0) AS hi, CASE WHEN count(*) > 5 THEN 'many' ELSE 'few' END AS c FROM bids"},
	{name: "agg_of_agg", sql: "SELECT max(n) AS most, min(n) AS least, count(*) AS groups FROM (SELECT auction, count(*) AS n FROM bids GROUP BY auction) g"},
	{name: "distinct_expr", sql: "SELECT DISTINCT price % 5 AS m FROM bids"},
	{name: "union_all_aggs", sql: "SELECT 'b' AS k, count(*) AS n FROM bids UNION ALL SELECT 'a', count(*) FROM auctions"},
	{name: "left_join_filter", sql: "SELECT a.id, b.price FROM auctions a LEFT JOIN bids b ON b.auction = a.id WHERE a.seller > 10"},
	{name: "full_join_agg", sql: "SELECT coalesce(a.id, b.auction) AS k, count(*) AS n FROM auctions a FULL JOIN bids b ON b.auction = a.id GROUP BY 1"},
	{name: "self_join", sql: "SELECT x.bidder, y.bidder AS other, count(*) AS n FROM bids x JOIN bids y ON x.auction = y.auction WHERE x.bidder < y.bidder GROUP BY 1, 2"},
	{name: "topn_global", sql: "SELECT bidder, price FROM (SELECT bidder, price, ROW_NUMBER() OVER (ORDER BY price DESC, bidder, ts) AS rn FROM bids WHERE price IS NOT NULL AND ts IS NOT NULL) t WHERE rn <= 3"},
	{name: "topn_of_agg", sql: "SELECT auction, n FROM (SELECT auction, n, ROW_NUMBER() OVER (ORDER BY n DESC, auction) AS rn FROM (SELECT auction, count(*) AS n FROM bids WHERE auction IS NOT NULL GROUP BY auction) g) t WHERE rn <= 2"},
	{name: "tumble_having", sql: "SELECT window_start, count(*) AS n FROM TUMBLE(bids, ts, INTERVAL '20' SECOND) GROUP BY window_start HAVING count(*) > 1",
		oracle: "SELECT time_bucket(INTERVAL '20 seconds', ts) AS window_start, count(*) AS n FROM bids WHERE ts IS NOT NULL GROUP BY 1 HAVING count(*) > 1"},
	{name: "tumble_join", sql: "SELECT w.window_start, a.category, w.n FROM (SELECT auction, window_start, count(*) AS n FROM TUMBLE(bids, ts, INTERVAL '30' SECOND) GROUP BY auction, window_start) w JOIN auctions a ON w.auction = a.id",
		oracle: "SELECT w.window_start, a.category, w.n FROM (SELECT auction, time_bucket(INTERVAL '30 seconds', ts) AS window_start, count(*) AS n FROM bids WHERE ts IS NOT NULL GROUP BY ALL) w JOIN auctions a ON w.auction = a.id"},
	{name: "session_sum", sql: "SELECT auction, window_start, sum(price) AS s, max(qty) AS q FROM SESSION(bids, ts, INTERVAL '15' SECOND) GROUP BY auction, window_start",
		oracle: `WITH t AS (SELECT auction, ts, sum(price) AS s, max(qty) AS q FROM bids WHERE ts IS NOT NULL GROUP BY auction, ts),
		o AS (SELECT *, CASE WHEN lag(ts) OVER w IS NULL OR ts - lag(ts) OVER w >= INTERVAL '15 seconds' THEN 1 ELSE 0 END AS brk FROM t WINDOW w AS (PARTITION BY auction ORDER BY ts)),
		x AS (SELECT *, sum(brk) OVER (PARTITION BY auction ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM o)
		SELECT auction, min(ts) AS window_start, sum(s) AS s, max(q) AS q FROM x GROUP BY auction, sid`},
}

// change is one row change of a relation.
type change struct {
	rel string
	row []any
	w   int64
}

// genChanges makes a random change stream: bids are appended (and a few
// retracted), auctions are a table (inserted, updated as -old/+new, deleted).
func genChanges(rng *rand.Rand, n int) []change {
	var out []change
	var liveBids [][]any
	auctions := map[int64][]any{}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := 0
	null := func(p float64, v any) any {
		if rng.Float64() < p {
			return nil
		}
		return v
	}
	for i := 0; i < n; i++ {
		switch r := rng.Float64(); {
		case r < 0.6:
			clock += rng.IntN(4)
			row := []any{
				null(0.05, int64(rng.IntN(8))),
				null(0.05, fmt.Sprintf("b%d", rng.IntN(6))),
				null(0.1, int64(rng.IntN(100))),
				// Out of order: up to 6 s behind the newest event.
				null(0.03, base.Add(time.Duration(clock-rng.IntN(7))*time.Second)),
				null(0.05, int32(rng.IntN(8))),
				null(0.1, float64(rng.IntN(1000))/8),
			}
			liveBids = append(liveBids, row)
			out = append(out, change{"bids", row, 1})
		case r < 0.7 && len(liveBids) > 0:
			k := rng.IntN(len(liveBids))
			out = append(out, change{"bids", liveBids[k], -1})
			liveBids = append(liveBids[:k], liveBids[k+1:]...)
		default:
			id := int64(rng.IntN(10))
			if old, ok := auctions[id]; ok {
				out = append(out, change{"auctions", old, -1})
				delete(auctions, id)
				if rng.Float64() < 0.5 {
					continue // a delete
				}
			}
			row := []any{id, null(0.1, fmt.Sprintf("c%d", rng.IntN(4))), null(0.1, int64(rng.IntN(60)))}
			auctions[id] = row
			out = append(out, change{"auctions", row, 1})
		}
	}
	return out
}

func TestDifferential(t *testing.T) {
	ctx := context.Background()
	t.Logf("%d queries x %d seeds", len(diffQueries), *diffSeeds)
	for _, q := range diffQueries {
		t.Run("q="+q.name, func(t *testing.T) {
			t.Parallel()
			db, err := sql.Open("duckdb", "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			p, err := Plan(q.sql, diffCatalog)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			oracle := q.oracle
			if oracle == "" {
				oracle = q.sql
			}
			for seed := 0; seed < *diffSeeds; seed++ {
				if *diffSeed >= 0 && seed != *diffSeed {
					continue
				}
				if err := runDiff(ctx, t, db, p, oracle, uint64(seed)); err != nil {
					t.Fatalf("seed %d: %v\nrerun: go test -tags duckdb_arrow ./plans -run 'TestDifferential/q=%s' -diff.seed=%d", seed, err, q.name, seed)
				}
			}
		})
	}
}

func runDiff(ctx context.Context, t *testing.T, db *sql.DB, p *ViewPlan, oracle string, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	mem := testutil.Alloc(t)
	flow, err := p.Build(mem)
	if err != nil {
		return err
	}
	defer flow.Close()
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS bids", "DROP TABLE IF EXISTS auctions",
		"CREATE TABLE bids (auction BIGINT, bidder VARCHAR, price BIGINT, ts TIMESTAMP, qty INTEGER, rate DOUBLE)",
		"CREATE TABLE auctions (id BIGINT, category VARCHAR, seller BIGINT)",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	changes := genChanges(rng, 40+rng.IntN(140))
	view := map[string]int64{}
	emit := func(b arrow.RecordBatch) error {
		w := core.Weights(b)
		for r := 0; r < int(b.NumRows()); r++ {
			vals := make([]string, b.NumCols()-1)
			for c := range vals {
				vals[c] = diffText(core.ValueAt(b.Column(c), r))
			}
			k := strings.Join(vals, " | ")
			view[k] += w.Value(r)
			if view[k] == 0 {
				delete(view, k)
			}
			if view[k] < 0 {
				return fmt.Errorf("row %q has multiplicity %d", k, view[k])
			}
		}
		return nil
	}
	for epoch := 1; len(changes) > 0; epoch++ {
		n := min(len(changes), rng.IntN(40))
		cur := changes[:n]
		changes = changes[n:]
		// Push the epoch's changes in random-size batches per relation.
		for _, rel := range []string{"bids", "auctions"} {
			var rows []change
			for _, c := range cur {
				if c.rel == rel {
					rows = append(rows, c)
				}
			}
			for len(rows) > 0 {
				k := 1 + rng.IntN(len(rows))
				b := diffBatch(mem, diffCatalog[rel], rows[:k])
				err := flow.Push(ctx, rel, b, emit)
				b.Release()
				if err != nil {
					return fmt.Errorf("epoch %d: %w", epoch, err)
				}
				rows = rows[k:]
			}
		}
		if err := flow.EndEpoch(ctx, emit); err != nil {
			return fmt.Errorf("epoch %d: %w", epoch, err)
		}
		if err := applyOracle(ctx, db, cur); err != nil {
			return err
		}
		want, err := oracleRows(ctx, db, oracle)
		if err != nil {
			return fmt.Errorf("oracle: %w", err)
		}
		if got := renderView(view); got != want {
			return fmt.Errorf("epoch %d: view differs from DuckDB\n%s", epoch, diffLines(got, want))
		}
	}
	return nil
}

func diffBatch(mem memory.Allocator, cols []core.Column, rows []change) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(cols)))
	defer bld.Release()
	for _, r := range rows {
		for c, v := range r.row {
			core.AppendValue(bld.Field(c), v)
		}
		bld.Field(len(cols)).(*array.Int64Builder).Append(r.w)
	}
	return bld.NewRecordBatch()
}

// applyOracle applies an epoch's changes to the DuckDB tables, in order:
// runs of insertions as one multi-row INSERT, each deletion on its own.
func applyOracle(ctx context.Context, db *sql.DB, cs []change) error {
	for len(cs) > 0 {
		c := cs[0]
		cols := diffCatalog[c.rel]
		if c.w < 0 {
			var conds []string
			var args []any
			for i, col := range cols {
				conds = append(conds, col.Name+" IS NOT DISTINCT FROM ?")
				args = append(args, c.row[i])
			}
			if _, err := db.ExecContext(ctx, fmt.Sprintf("DELETE FROM %s WHERE rowid = (SELECT min(rowid) FROM %s WHERE %s)", c.rel, c.rel, strings.Join(conds, " AND ")), args...); err != nil {
				return err
			}
			cs = cs[1:]
			continue
		}
		n := 0
		var args []any
		var tuples []string
		tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
		for n < len(cs) && cs[n].rel == c.rel && cs[n].w > 0 {
			args = append(args, cs[n].row...)
			tuples = append(tuples, tuple)
			n++
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES %s", c.rel, strings.Join(tuples, ", ")), args...); err != nil {
			return err
		}
		cs = cs[n:]
	}
	return nil
}

func oracleRows(ctx context.Context, db *sql.DB, q string) (string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	view := map[string]int64{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		txt := make([]string, len(vals))
		for i, v := range vals {
			txt[i] = diffText(v)
		}
		view[strings.Join(txt, " | ")]++
	}
	return renderView(view), rows.Err()
}

// diffText renders a value the same way from Arrow and from DuckDB: numbers
// by value (floats to 9 significant digits), times in UTC.
func diffText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int32:
		return fmt.Sprint(int64(x))
	case int8, int16, int64, uint8, uint16, uint32, uint64, int:
		return fmt.Sprint(x)
	case *big.Int:
		return x.String()
	case float32:
		return diffText(float64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return fmt.Sprintf("%.1f", x)
		}
		return fmt.Sprintf("%.9g", x)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999")
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func renderView(view map[string]int64) string {
	var rows []string
	for k, n := range view {
		for i := int64(0); i < n; i++ {
			rows = append(rows, k)
		}
	}
	sort.Strings(rows)
	return strings.Join(rows, "\n")
}

func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	gs, ws := map[string]int{}, map[string]int{}
	for _, l := range g {
		gs[l]++
	}
	for _, l := range w {
		ws[l]++
	}
	var b strings.Builder
	for l, n := range gs {
		if ws[l] < n {
			fmt.Fprintf(&b, "  only in Strata (x%d): %s\n", n-ws[l], l)
		}
	}
	for l, n := range ws {
		if gs[l] < n {
			fmt.Fprintf(&b, "  only in DuckDB (x%d): %s\n", n-gs[l], l)
		}
	}
	return b.String()
}

var _ = engine.NoWatermark
