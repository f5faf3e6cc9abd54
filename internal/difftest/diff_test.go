//go:build duckdb_arrow

package difftest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/internal/testutil"
)

// TestDiff is the differential test: every query that plans runs
// incrementally over random changes cut into random epochs, and after every
// epoch its view must equal DuckDB evaluating the query over the input so
// far.
//
//	go test -tags duckdb_arrow ./internal/difftest                     (20 seeds a query)
//	go test -tags duckdb_arrow ./internal/difftest -run TestDiff -seeds=200
//	go test -tags duckdb_arrow ./internal/difftest -run TestDiff/q=topn -seed=7
func TestDiff(t *testing.T) {
	for _, p := range planAll(t, "TestDiff", *flagSeeds) {
		t.Run("q="+p.Query.Name, func(t *testing.T) {
			t.Parallel()
			o := openOracle(t)
			for _, seed := range seedList(*flagSeeds) {
				if err := diffSeed(t, o, p, seed); err != nil {
					t.Fatalf("query %s, seed %d: %v\n  sql:    %s\n  oracle: %s\nrerun: go test -tags duckdb_arrow ./internal/difftest -run 'TestDiff/q=%s$' -seed=%d",
						p.Query.Name, seed, err, p.Query.SQL, p.Query.OracleSQL(), p.Query.Name, seed)
				}
			}
		})
	}
}

func diffSeed(t *testing.T, o *oracle, p *Planned, seed uint64) error {
	ctx := context.Background()
	n, rng, cuts := sizes(seed)
	changes := Generate(seed, n)
	if err := o.reset(ctx, p); err != nil {
		return fmt.Errorf("oracle: %w", err)
	}
	mem := testutil.Alloc(t)
	r, err := NewRun(p, mem)
	if err != nil {
		return err
	}
	compare := func() error {
		want, err := o.view(ctx, p.Query.OracleSQL(), r.Watermark)
		if err != nil {
			return fmt.Errorf("epoch %d: oracle: %w", r.Epoch, err)
		}
		if d := Diff(r.View, want, "Strata", "DuckDB"); d != "" {
			return fmt.Errorf("epoch %d (of %d, %d changes, watermark %s): view differs from DuckDB (%d rows vs %d)\n%s",
				r.Epoch, len(cuts), n, fmtWM(r.Watermark), r.View.Len(), want.Len(), d)
		}
		return nil
	}
	err = r.RunAll(ctx, rng, changes, cuts, func(epoch []Change) error {
		if err := o.apply(ctx, p, epoch); err != nil {
			return fmt.Errorf("epoch %d: oracle: %w", r.Epoch, err)
		}
		return compare()
	})
	if err == nil {
		if err = r.RunFinal(ctx); err == nil {
			err = compare()
		}
	}
	r.Close()
	if err == nil && mem.CurrentAlloc() != 0 {
		err = fmt.Errorf("%d bytes of Arrow memory still allocated after Close", mem.CurrentAlloc())
	}
	return err
}

func fmtWM(wm int64) string {
	switch wm {
	case engine.NoWatermark:
		return "none"
	case math.MaxInt64:
		return "+infinity"
	}
	return time.UnixMicro(wm).UTC().Format("15:04:05.000000")
}

// oracle is one DuckDB connection holding the input prefix.
type oracle struct {
	db    *sql.DB
	conn  *sql.Conn
	table map[int64][]any // the users table
}

func openOracle(t *testing.T) *oracle {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.ExecContext(context.Background(), "SET threads TO 1"); err != nil {
		t.Fatal(err)
	}
	return &oracle{db: db, conn: conn}
}

// reset creates empty input tables and the query's upstream views.
func (o *oracle) reset(ctx context.Context, p *Planned) error {
	o.table = map[int64][]any{}
	var stmts []string
	for _, v := range p.Query.Views {
		stmts = append(stmts, "DROP VIEW IF EXISTS "+v.Name)
	}
	for _, rel := range Relations {
		cols := make([]string, len(rel.Columns))
		for i, c := range rel.Columns {
			cols[i] = c.Name + " " + c.Type.Name
		}
		stmts = append(stmts, fmt.Sprintf("CREATE OR REPLACE TABLE %s (%s)", rel.Name, strings.Join(cols, ", ")))
	}
	for _, v := range p.Query.Views {
		q := v.Oracle
		if q == "" {
			q = v.SQL
		}
		stmts = append(stmts, fmt.Sprintf("CREATE VIEW %s AS %s", v.Name, q))
	}
	for _, s := range stmts {
		if _, err := o.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// apply adds an epoch's changes to the DuckDB tables: stream rows are
// appended; a table's touched keys are deleted and their rows as of the end
// of the epoch appended.
func (o *oracle) apply(ctx context.Context, p *Planned, epoch []Change) error {
	touched := map[int64]bool{}
	appends := map[string][][]any{}
	reads := map[string]bool{}
	for _, s := range p.Sources {
		reads[s] = true
	}
	for _, c := range epoch {
		if !reads[c.Rel] {
			continue // the query does not read it
		}
		rel := RelationNamed(c.Rel)
		if !rel.IsTable() {
			appends[c.Rel] = append(appends[c.Rel], c.Row)
			continue
		}
		k := c.Row[rel.Key].(int64)
		touched[k] = true
		if c.Weight > 0 {
			o.table[k] = c.Row
		} else {
			delete(o.table, k)
		}
	}
	if len(touched) > 0 {
		var ks []string
		for k := range touched {
			ks = append(ks, fmt.Sprint(k))
			if row, ok := o.table[k]; ok {
				appends["users"] = append(appends["users"], row)
			}
		}
		if _, err := o.conn.ExecContext(ctx, "DELETE FROM users WHERE id IN ("+strings.Join(ks, ", ")+")"); err != nil {
			return err
		}
	}
	for rel, rows := range appends {
		err := o.conn.Raw(func(dc any) error {
			a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", rel)
			if err != nil {
				return err
			}
			for _, row := range rows {
				vals := make([]driver.Value, len(row))
				for i, v := range row {
					vals[i] = v
				}
				if err := a.AppendRow(vals...); err != nil {
					_ = a.Close()
					return err
				}
			}
			return a.Close()
		})
		if err != nil {
			return fmt.Errorf("append to %s: %w", rel, err)
		}
	}
	return nil
}

// view evaluates the oracle query; {{wm}} stands for the watermark.
func (o *oracle) view(ctx context.Context, q string, wm int64) (*Multiset, error) {
	lit := "TIMESTAMP '-infinity'"
	switch {
	case wm == math.MaxInt64:
		lit = "TIMESTAMP 'infinity'"
	case wm != engine.NoWatermark:
		lit = "TIMESTAMP '" + time.UnixMicro(wm).UTC().Format("2006-01-02 15:04:05.999999") + "'"
	}
	rows, err := o.conn.QueryContext(ctx, strings.ReplaceAll(q, "{{wm}}", lit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	m := NewMultiset()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make(Row, len(cols))
		for i, v := range vals {
			row[i] = Norm(v)
		}
		m.Add(row, 1)
	}
	return m, rows.Err()
}
