//go:build duckdb_arrow && cgo

package duckdb_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/duckdb"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var kv = core.ViewDef{
	Name:    "kv",
	Columns: []core.Column{{Name: "k", Type: core.Bigint}, {Name: "v", Type: core.Bigint}},
	Key:     []string{"k"},
}

func open(t testing.TB, cfg backends.Config) *duckdb.Backend {
	t.Helper()
	b, err := duckdb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setAll returns the changelog batch that moves keys 0..n-1 from value
// old (0: absent) to value v.
func setAll(mem memory.Allocator, n int, old, v int64) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kv.Columns)))
	defer bld.Release()
	for k := range n {
		if old != 0 {
			bld.Field(0).(*array.Int64Builder).Append(int64(k))
			bld.Field(1).(*array.Int64Builder).Append(old)
			bld.Field(2).(*array.Int64Builder).Append(-1)
		}
		bld.Field(0).(*array.Int64Builder).Append(int64(k))
		bld.Field(1).(*array.Int64Builder).Append(v)
		bld.Field(2).(*array.Int64Builder).Append(1)
	}
	return bld.NewRecordBatch()
}

func apply(t testing.TB, b core.Backend, e core.Epoch, rb arrow.RecordBatch) {
	t.Helper()
	defer rb.Release()
	if err := b.Apply(context.Background(), &core.EpochChanges{Epoch: e, Changes: map[string][]arrow.RecordBatch{kv.Name: {rb}}}); err != nil {
		t.Fatal(err)
	}
}

// queryInts runs sql, which must return one row of BIGINTs.
func queryInts(t testing.TB, b *duckdb.Backend, sql string) ([]int64, core.Epoch) {
	t.Helper()
	rdr, e, err := b.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	var out []int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for c := range int(rec.NumCols()) {
			out = append(out, rec.Column(c).(*array.Int64).Value(0))
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	return out, e
}

func TestQuery(t *testing.T) {
	mem := testutil.Alloc(t)
	b := open(t, backends.Config{Dir: t.TempDir(), Alloc: mem})
	defer b.Close()
	ctx := context.Background()
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	apply(t, b, 1, setAll(mem, 10, 0, 1))
	got, e := queryInts(t, b, "SELECT count(*)::BIGINT, sum(v)::BIGINT FROM kv")
	if fmt.Sprint(got) != "[10 10]" || e != 1 {
		t.Fatalf("count, sum = %v at epoch %d, want [10 10] at 1", got, e)
	}
	for _, sql := range []string{
		"INSERT INTO kv VALUES (100, 1)",
		"DELETE FROM kv",
		"COMMIT; INSERT INTO kv VALUES (100, 1); SELECT 1",
		"SELECT 1; SELECT 2",
		"SET threads = 1",
		"CREATE TABLE x (i INTEGER)",
		"SELECT * FROM no_such_table",
	} {
		rdr, _, err := b.Query(ctx, sql)
		if err == nil {
			rdr.Release()
			t.Errorf("Query(%q) succeeded", sql)
			continue
		}
		t.Logf("Query(%q): %v", sql, err)
	}
	if got, _ := queryInts(t, b, "SELECT count(*)::BIGINT FROM kv"); got[0] != 10 {
		t.Fatalf("a refused query changed the table: %d rows", got[0])
	}
	if rdr, _, err := b.Query(ctx, "EXPLAIN SELECT * FROM kv"); err != nil {
		t.Errorf("EXPLAIN: %v", err)
	} else {
		rdr.Release()
	}
}

// TestQueryDoesNotBlockApply holds a query open across an Apply: the Apply
// commits, the open query keeps reading its own epoch, a new one sees the
// new epoch.
func TestQueryDoesNotBlockApply(t *testing.T) {
	mem := testutil.Alloc(t)
	b := open(t, backends.Config{Dir: t.TempDir(), Alloc: mem})
	defer b.Close()
	ctx := context.Background()
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	apply(t, b, 1, setAll(mem, 3000, 0, 1))
	old, e1, err := b.Query(ctx, "SELECT v FROM kv")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Release()
	if !old.Next() {
		t.Fatal("no rows")
	}
	apply(t, b, 2, setAll(mem, 3000, 1, 2))
	got, e2 := queryInts(t, b, "SELECT min(v), max(v) FROM kv")
	if e1 != 1 || e2 != 2 || fmt.Sprint(got) != "[2 2]" {
		t.Fatalf("epochs %d, %d and new min, max %v; want 1, 2 and [2 2]", e1, e2, got)
	}
	n := 0
	for {
		rec := old.RecordBatch()
		for i := range int(rec.NumRows()) {
			if v := rec.Column(0).(*array.Int64).Value(i); v != 1 {
				t.Fatalf("the open query saw v=%d, want 1 (its epoch)", v)
			}
			n++
		}
		if !old.Next() {
			break
		}
	}
	if n != 3000 || old.Err() != nil {
		t.Fatalf("the open query read %d rows (%v), want 3000", n, old.Err())
	}
}

// TestConsistentQueries hammers Query and Lookup while epochs commit; every
// epoch sets all values to the epoch number.
func TestConsistentQueries(t *testing.T) {
	mem := testutil.Alloc(t)
	b := open(t, backends.Config{Dir: t.TempDir(), Alloc: mem})
	defer b.Close()
	ctx := context.Background()
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	const keys, epochs = 100, 40
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				if g == 0 {
					row, found, e, err := b.Lookup(ctx, kv.Name, []any{int64(7)})
					if err != nil {
						errc <- err
						return
					}
					if found && row[1].(int64) != int64(e) || !found && e != 0 {
						errc <- fmt.Errorf("Lookup: %v found=%v at epoch %d", row, found, e)
						return
					}
					continue
				}
				rdr, e, err := b.Query(ctx, "SELECT count(*)::BIGINT, min(v), max(v) FROM kv")
				if err != nil {
					errc <- err
					return
				}
				for rdr.Next() {
					rec := rdr.RecordBatch()
					n := rec.Column(0).(*array.Int64).Value(0)
					lo, hi := rec.Column(1).(*array.Int64), rec.Column(2).(*array.Int64)
					if e > 0 && (n != keys || lo.Value(0) != int64(e) || hi.Value(0) != int64(e)) {
						errc <- fmt.Errorf("Query at epoch %d: count %d, min %d, max %d", e, n, lo.Value(0), hi.Value(0))
					}
				}
				rdr.Release()
			}
		}()
	}
	for e := 1; e <= epochs; e++ {
		apply(t, b, core.Epoch(e), setAll(mem, keys, int64(e-1), int64(e)))
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestReservedNames(t *testing.T) {
	b := open(t, backends.Config{Dir: t.TempDir()})
	defer b.Close()
	ctx := context.Background()
	for _, v := range []core.ViewDef{
		{Name: "_strata_epoch", Columns: kv.Columns},
		{Name: "x", Columns: []core.Column{{Name: "rowid", Type: core.Bigint}}},
	} {
		if err := b.EnsureView(ctx, v); err == nil {
			t.Errorf("EnsureView(%s) succeeded", v.Name)
		}
	}
	// Quoting: names that need it work.
	odd := core.ViewDef{Name: `my "view"`, Columns: []core.Column{{Name: "select", Type: core.Bigint}, {Name: "a b", Type: core.Varchar}}, Key: []string{"select"}}
	if err := b.EnsureView(ctx, odd); err != nil {
		t.Fatal(err)
	}
	rdr, _, err := b.Query(ctx, `SELECT "select", "a b" FROM "my ""view"""`)
	if err != nil {
		t.Fatal(err)
	}
	rdr.Release()
}

// TestCloseWithOpenReader: a reader outlives Close and stays readable.
func TestCloseWithOpenReader(t *testing.T) {
	mem := testutil.Alloc(t)
	b := open(t, backends.Config{Dir: t.TempDir(), Alloc: mem})
	ctx := context.Background()
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	apply(t, b, 1, setAll(mem, 5, 0, 1))
	rdr, _, err := b.Query(ctx, "SELECT * FROM kv")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	n := 0
	for rdr.Next() {
		n += int(rdr.RecordBatch().NumRows())
	}
	rdr.Release()
	if n != 5 {
		t.Errorf("read %d rows after Close, want 5", n)
	}
	if _, _, err := b.Query(ctx, "SELECT 1"); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("Query after Close: %v, want ErrClosed", err)
	}
	if err := b.Apply(ctx, &core.EpochChanges{Epoch: 2}); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("Apply after Close: %v, want ErrClosed", err)
	}
}
