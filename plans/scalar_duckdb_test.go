//go:build duckdb_arrow && cgo

package plans

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

var scalarSeed = flag.Uint64("scalar.seed", 0, "seed of TestScalarDuckDB's random table (0: a fixed set of seeds)")

// scalarExprs are evaluated by the engine and by DuckDB over the same
// random table. A second text, when present, is DuckDB's spelling (LIKE
// needs an explicit ESCAPE there: DuckDB has no default escape character).
var scalarExprs = [][]string{
	// conditionals
	{"CASE WHEN i > 10 THEN 'big' WHEN i > 0 THEN 'small' ELSE s END"},
	{"CASE i % 3 WHEN 0 THEN d WHEN 1 THEN n END"},
	{"CASE WHEN b THEN i * 1000000000000000 ELSE -1 END"},
	{"coalesce(s, 'none')"}, {"coalesce(i, n, 7)"}, {"coalesce(d, i)"},
	{"nullif(i, 3)"}, {"nullif(s, 'a')"},
	{"greatest(i, n, d)"}, {"least(i, n)"}, {"greatest(s, 'b')"}, {"least(ts, TIMESTAMP '2024-06-01')"},
	{"i IN (1, 2, 3, -5)"}, {"i NOT IN (1, 2, NULL)"}, {"s IN ('a', 'ab', '')"}, {"n IN (i, k)"}, {"d IN (1.5, 2)"},
	{"i BETWEEN -10 AND 10"}, {"i NOT BETWEEN n AND 20"}, {"ts BETWEEN '2024-01-01' AND '2024-06-30'"},
	{"i BETWEEN SYMMETRIC 10 AND -10", "i BETWEEN -10 AND 10"},
	{"i IS DISTINCT FROM n"}, {"s IS NOT DISTINCT FROM 'a'"},
	{"b IS TRUE"}, {"b IS NOT TRUE"}, {"b IS FALSE"}, {"b IS NOT FALSE"}, {"b IS UNKNOWN"},
	// LIKE
	{"s LIKE 'a%'", "s LIKE 'a%' ESCAPE '\\'"},
	{"s LIKE '%b_'", "s LIKE '%b_' ESCAPE '\\'"},
	{"s NOT LIKE '%a%b%'", "s NOT LIKE '%a%b%' ESCAPE '\\'"},
	{"s LIKE '_'", "s LIKE '_' ESCAPE '\\'"},
	{"s LIKE '%\\%%'", "s LIKE '%\\%%' ESCAPE '\\'"},
	{"s LIKE 'a#_%' ESCAPE '#'"},
	{"s ILIKE '%A%'"}, {"s NOT ILIKE 'é%'"},
	{"s LIKE s"},
	// strings
	{"lower(s)"}, {"upper(s)"}, {"length(s)"}, {"char_length(s)"},
	{"substr(s, 2)"}, {"substr(s, 2, 3)"}, {"substring(s, n % 4, i % 3)"}, {"substring(s from -2)"}, {"substring(s, 0, 2)"},
	{"trim(s)"}, {"ltrim(s, 'a')"}, {"rtrim(s, 'b ')"}, {"trim(both 'a' from s)"},
	{"s || 'x'"}, {"s || i"}, {"concat(s, i, NULL, '!')"}, {"concat(d, b)"},
	{"replace(s, 'a', 'zz')"}, {"replace(s, 'ab', '')"},
	{"position('a' in s)"}, {"strpos(s, 'b,')"},
	{"left(s, 2)"}, {"right(s, 2)"}, {"left(s, i % 4)"}, {"right(s, -1)"},
	{"starts_with(s, 'a')"},
	{"split_part(s, ',', 2)"}, {"split_part(s, ',', -1)"}, {"split_part(s, ' ', n % 3)"},
	{"lpad(s, 5, 'xy')"}, {"rpad(s, 4, '*')"}, {"lpad(s, 2)", "lpad(s, 2, ' ')"}, {"reverse(s)"}, {"repeat(s, 2)"},
	// numbers
	{"abs(i)"}, {"abs(n)"}, {"abs(d)"}, {"round(d)"}, {"round(d, 1)"}, {"round(d, -1)"}, {"round(i % 1000, -1)"}, {"round(n)"},
	{"floor(d)"}, {"ceil(d)"}, {"ceiling(i)"}, {"sqrt(abs(d))"}, {"power(d, 2)"}, {"pow(i, 3)"},
	{"mod(i, n)"}, {"mod(d, 3)"}, {"sign(d)"}, {"sign(i)"},
	// dates and times
	{"extract(year from ts)"}, {"extract(month from ts)"}, {"extract(day from ts)"}, {"extract(hour from ts)"},
	{"extract(minute from ts)"}, {"extract(second from ts)"}, {"extract(millisecond from ts)"}, {"extract(microsecond from ts)"},
	{"extract(epoch from ts)"}, {"extract(dow from ts)"}, {"extract(isodow from ts)"}, {"extract(doy from ts)"},
	{"extract(quarter from dt)"}, {"extract(week from ts)"}, {"extract(isoyear from dt)"}, {"extract(decade from ts)"}, {"extract(century from ts)"},
	{"date_part('hour', ts)"}, {"date_part('year', dt)"},
	{"date_trunc('second', ts)"}, {"date_trunc('minute', ts)"}, {"date_trunc('hour', ts)"}, {"date_trunc('day', ts)"},
	{"date_trunc('week', ts)"}, {"date_trunc('month', ts)"}, {"date_trunc('quarter', ts)"}, {"date_trunc('year', ts)"},
	{"date_trunc('month', dt)"}, {"date_trunc('decade', ts)"},
	{"ts + INTERVAL '10' MINUTE"}, {"ts - INTERVAL '1 day 2 hours'"}, {"ts + INTERVAL '1 month'"}, {"ts - INTERVAL '1 year 3 months'"},
	{"dt + INTERVAL '36 hours'"}, {"dt + n % 100"}, {"dt - 7"}, {"dt - DATE '2024-01-01'"},
	{"ts - TIMESTAMP '2024-01-01 12:00:00'"}, {"ts - dt"}, {"(ts - TIMESTAMP '2024-01-01') > INTERVAL '90 days'"},
	{"INTERVAL '90 minutes' * (n % 5)"}, {"ts + INTERVAL '1 hour' * (i % 10)"},
	{"extract(hour from ts - TIMESTAMP '2024-01-01')"}, {"extract(day from ts - TIMESTAMP '2024-01-01')"},
	{"to_timestamp(d * 1000000)"}, {"to_timestamp(i)"},
	// casts
	{"i::integer"}, {"d::bigint"}, {"d::integer"}, {"n::double"}, {"i::varchar"}, {"d::varchar"}, {"b::varchar"}, {"b::integer"},
	{"i::boolean"}, {"i::varchar::bigint"}, {"(i * 100000000)::integer"},
	{"ts::date"}, {"dt::timestamp"}, {"ts::varchar"}, {"dt::varchar"}, {"ts::timestamptz"}, {"(ts::varchar)::timestamp"},
	{"(dt::varchar)::date"}, {"(b::varchar)::boolean"}, {"(d::varchar)::double"},
	{"(i * INTERVAL '1 minute')::varchar", "(i * INTERVAL '1 minute')::varchar"},
	{"((i % 30)::varchar || ' days')::interval"},
	{"d::decimal(10,2)"}, {"(d::decimal(10,2))::double"}, {"i::decimal(8,1)"}, {"(d::decimal(9,3))::varchar"},
	{"CAST(s AS bigint)"},
	// in WHERE-like positions
	{"coalesce(i > n, false) AND s LIKE '%a%'", "coalesce(i > n, false) AND s LIKE '%a%' ESCAPE '\\'"},
}

// TestScalarDuckDB is a differential test: every expression above is
// evaluated over a random table by the engine (plan, build, push one
// batch) and by DuckDB, and the results must agree row by row, NULLs
// included; where one side fails (overflow, bad input) so must the other.
// The seed is logged; -scalar.seed=N reruns one.
func TestScalarDuckDB(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if *scalarSeed != 0 {
		seeds = []uint64{*scalarSeed}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { scalarDifferential(t, seed, 150) })
	}
}

var scalarCols = []core.Column{
	{Name: "k", Type: core.Bigint}, {Name: "i", Type: core.Bigint}, {Name: "n", Type: core.Integer}, {Name: "d", Type: core.Double},
	{Name: "s", Type: core.Varchar}, {Name: "b", Type: core.Boolean}, {Name: "ts", Type: core.Timestamp}, {Name: "dt", Type: core.Date},
}

func randomRows(r *rand.Rand, rows int) [][]any {
	alphabet := []string{"a", "b", "A", "B", "é", ",", " ", "%", "_", "ab", "x"}
	out := make([][]any, rows)
	base := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)
	for k := range out {
		row := []any{int64(k)}
		null := func() bool { return r.IntN(7) == 0 }
		if null() {
			row = append(row, nil)
		} else if r.IntN(40) == 0 {
			row = append(row, int64(math.MaxInt64-r.IntN(3)))
		} else {
			row = append(row, int64(r.IntN(61)-30))
		}
		if null() {
			row = append(row, nil)
		} else {
			row = append(row, int32(r.IntN(41)-20))
		}
		if null() {
			row = append(row, nil)
		} else {
			row = append(row, float64(r.IntN(40001)-20000)/100)
		}
		if null() {
			row = append(row, nil)
		} else {
			var sb strings.Builder
			for j := r.IntN(6); j > 0; j-- {
				sb.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			row = append(row, sb.String())
		}
		if null() {
			row = append(row, nil)
		} else {
			row = append(row, r.IntN(2) == 0)
		}
		if null() {
			row = append(row, nil)
		} else {
			us := r.Int64N(int64(600 * 24 * time.Hour / time.Microsecond))
			if r.IntN(2) == 0 {
				us -= us % 1_000_000
			}
			row = append(row, base.Add(time.Duration(us)*time.Microsecond))
		}
		if null() {
			row = append(row, nil)
		} else {
			row = append(row, base.AddDate(0, 0, r.IntN(900)-300))
		}
		out[k] = row
	}
	return out
}

func scalarDifferential(t *testing.T, seed uint64, rows int) {
	t.Logf("seed %d (rerun with -scalar.seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed))
	data := randomRows(r, rows)
	mem := testutil.Alloc(t)

	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Logf("TimeZone: %v", err)
	}
	if _, err := db.Exec("CREATE TABLE t (k BIGINT, i BIGINT, n INTEGER, d DOUBLE, s VARCHAR, b BOOLEAN, ts TIMESTAMP, dt DATE)"); err != nil {
		t.Fatal(err)
	}
	for _, row := range data {
		if _, err := db.Exec("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row...); err != nil {
			t.Fatal(err)
		}
	}

	// The engine's input: one changelog batch of the same rows.
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(scalarCols)))
	defer bld.Release()
	for _, row := range data {
		for c, v := range row {
			core.AppendValue(bld.Field(c), v)
		}
		bld.Field(len(row)).(*array.Int64Builder).Append(1)
	}
	batch := bld.NewRecordBatch()
	defer batch.Release()
	cat := Catalog{"t": scalarCols}

	for _, ex := range scalarExprs {
		engineSQL, duckSQL := ex[0], ex[0]
		if len(ex) > 1 {
			duckSQL = ex[1]
		}
		t.Run(engineSQL, func(t *testing.T) {
			got, gotErr := runEngine(t, cat, batch, "SELECT k, "+engineSQL+" AS v FROM t")
			want, wantErr := runDuck(db, "SELECT k, "+duckSQL+" AS v FROM t")
			switch {
			case gotErr != nil && wantErr != nil:
				return // both refuse (overflow, bad input)
			case gotErr != nil:
				t.Fatalf("engine failed, DuckDB did not: %v", gotErr)
			case wantErr != nil:
				t.Fatalf("DuckDB failed, engine did not: %v", wantErr)
			}
			bad := 0
			for k, w := range want {
				g, ok := got[k]
				if !ok {
					t.Fatalf("row k=%d missing from the engine's output", k)
				}
				if !sameValue(g, w) {
					bad++
					if bad <= 5 {
						t.Errorf("k=%d row %v: engine %#v, DuckDB %#v", k, data[k][1:], g, w)
					}
				}
			}
			if len(got) != len(want) {
				t.Errorf("engine %d rows, DuckDB %d", len(got), len(want))
			}
		})
	}
}

func runEngine(t *testing.T, cat Catalog, batch arrow.RecordBatch, q string) (map[int64]any, error) {
	p, err := Plan(q, cat)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	mem := testutil.Alloc(t)
	ch, err := p.Build(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	out := map[int64]any{}
	emit := func(b arrow.RecordBatch) error {
		for r := 0; r < int(b.NumRows()); r++ {
			out[core.ValueAt(b.Column(0), r).(int64)] = core.ValueAt(b.Column(1), r)
		}
		return nil
	}
	ctx := context.Background()
	if err := ch.Push(ctx, "t", batch, emit); err != nil {
		return nil, err
	}
	if err := ch.EndEpoch(ctx, emit); err != nil {
		return nil, err
	}
	return out, nil
}

func runDuck(db *sql.DB, q string) (map[int64]any, error) {
	rows, err := db.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]any{}
	for rows.Next() {
		var k int64
		var v any
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// sameValue compares an engine value (core.ValueAt) with a DuckDB one.
func sameValue(g, w any) bool {
	if g == nil || w == nil {
		return g == nil && w == nil
	}
	num := func(v any) (float64, bool) {
		switch x := v.(type) {
		case int8:
			return float64(x), true
		case int16:
			return float64(x), true
		case int32:
			return float64(x), true
		case int64:
			return float64(x), true
		case float64:
			return x, true
		case float32:
			return float64(x), true
		case duckdb.Decimal:
			return x.Float64(), true
		case string:
			return 0, false
		}
		return 0, false
	}
	if gi, ok := g.(int64); ok {
		if wi, ok := w.(int64); ok {
			return gi == wi
		}
	}
	if gs, ok := g.(string); ok {
		if wd, ok := w.(duckdb.Decimal); ok { // engine decimals read back as text
			var f float64
			_, err := fmt.Sscan(gs, &f)
			return err == nil && math.Abs(f-wd.Float64()) < 1e-9
		}
		ws, ok := w.(string)
		return ok && gs == ws
	}
	if gf, ok := num(g); ok {
		wf, ok := num(w)
		if !ok {
			return false
		}
		if math.IsNaN(gf) || math.IsNaN(wf) {
			return math.IsNaN(gf) && math.IsNaN(wf)
		}
		return gf == wf || math.Abs(gf-wf) <= 1e-9*math.Max(math.Abs(gf), math.Abs(wf))
	}
	switch x := g.(type) {
	case bool:
		y, ok := w.(bool)
		return ok && x == y
	case time.Time:
		y, ok := w.(time.Time)
		return ok && x.UnixMicro() == y.UnixMicro()
	case arrow.MonthDayNanoInterval:
		y, ok := w.(duckdb.Interval)
		return ok && x.Months == y.Months && x.Days == y.Days && x.Nanoseconds/1000 == y.Micros
	}
	return fmt.Sprint(g) == fmt.Sprint(w)
}
