//go:build duckdb_arrow && cgo

package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver for the direct query

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/duckdb"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// Backend benchmarks of issue #5, on real Pebble and DuckDB files in
// b.TempDir(), through the core.Backend contract:
//
//	go test -tags duckdb_arrow ./benchmarks -run '^$' -bench 'Backend' -count 5
//	STRATA_BENCH_ROWS=10000000 go test -tags duckdb_arrow ./benchmarks -run '^$' -bench AdhocAggregate -benchtime 5x -timeout 30m
//
// Each reports rows/s and cpu-ns/row: the process's user+system CPU time
// (getrusage, so DuckDB's own threads count) spent inside Apply, per row.
// Results and the machine they were measured on are in docs/benchmarks.md.

var kvCols = []core.Column{{Name: "k", Type: core.Bigint}, {Name: "v", Type: core.Bigint}}

// kvBatch returns a changelog batch of keys [from, from+n) with value v and
// weight w; with retract each key's old row (v-1) is retracted first.
func kvBatch(mem memory.Allocator, from, n int, v, w int64, retract bool) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kvCols)))
	defer bld.Release()
	k := bld.Field(0).(*array.Int64Builder)
	val := bld.Field(1).(*array.Int64Builder)
	wt := bld.Field(2).(*array.Int64Builder)
	size := n
	if retract {
		size *= 2
	}
	k.Reserve(size)
	val.Reserve(size)
	wt.Reserve(size)
	for key := from; key < from+n; key++ {
		if retract {
			k.UnsafeAppend(int64(key))
			val.UnsafeAppend(v - 1)
			wt.UnsafeAppend(-1)
		}
		k.UnsafeAppend(int64(key))
		val.UnsafeAppend(v + int64(key)%1000)
		wt.UnsafeAppend(w)
	}
	return bld.NewRecordBatch()
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// applier applies epochs to one backend and accounts the rows, wall time
// and CPU time spent inside Apply.
type applier struct {
	b     *testing.B
	be    core.Backend
	view  string
	epoch core.Epoch
	rows  int64
	wall  time.Duration
	cpu   time.Duration
}

func openBackend(b *testing.B, name, dir string, mem memory.Allocator, v core.ViewDef) *applier {
	ctx := context.Background()
	be, err := backends.Open(ctx, name, backends.Config{Dir: dir, Alloc: mem})
	if err != nil {
		if name == duckdb.Name {
			testutil.SkipOrFail(b, err.Error())
		}
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = be.Close() })
	if err := be.EnsureView(ctx, v); err != nil {
		b.Fatal(err)
	}
	ep, _, err := be.Committed(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return &applier{b: b, be: be, view: v.Name, epoch: ep}
}

// apply applies rb (released here) as one epoch.
func (a *applier) apply(rb arrow.RecordBatch) {
	a.epoch++
	c0, t0 := cpuTime(a.b), time.Now()
	err := a.be.Apply(context.Background(), &core.EpochChanges{Epoch: a.epoch, Changes: map[string][]arrow.RecordBatch{a.view: {rb}}})
	a.wall += time.Since(t0)
	a.cpu += cpuTime(a.b) - c0
	a.rows += rb.NumRows()
	rb.Release()
	if err != nil {
		a.b.Fatal(err)
	}
}

func (a *applier) report() {
	a.b.ReportMetric(float64(a.rows)/a.wall.Seconds(), "rows/s")
	a.b.ReportMetric(float64(a.cpu.Nanoseconds())/float64(a.rows), "cpu-ns/row")
}

// BenchmarkBackendApply measures Apply in changelog rows per second:
// op=append inserts new rows into a keyless (multiset) view, op=upsert
// replaces every existing key of a keyed view (a -old/+new pair per key),
// op=delete retracts existing keys. The timer covers Apply only; batches
// are built outside it.
func BenchmarkBackendApply(b *testing.B) {
	for _, tc := range []struct {
		backend, op string
		rows        int
	}{
		{"pebble", "upsert", 65536},
		{"pebble", "delete", 65536},
		{"duckdb", "append", 1 << 20},
		{"duckdb", "upsert", 65536},
	} {
		b.Run(fmt.Sprintf("backend=%s/op=%s/rows=%d", tc.backend, tc.op, tc.rows), func(b *testing.B) {
			mem := testutil.Alloc(b)
			v := core.ViewDef{Name: "kv", Columns: kvCols, Key: []string{"k"}}
			if tc.op == "append" {
				v.Key = nil
			}
			a := openBackend(b, tc.backend, filepath.Join(b.TempDir(), tc.backend), mem, v)
			if tc.op == "upsert" {
				a.apply(kvBatch(mem, 0, tc.rows, 1, 1, false))
			}
			a.rows, a.wall, a.cpu = 0, 0, 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var rb arrow.RecordBatch
				switch tc.op {
				case "append":
					rb = kvBatch(mem, i*tc.rows, tc.rows, 1, 1, false)
				case "upsert":
					rb = kvBatch(mem, 0, tc.rows, int64(i+2), 1, true)
				case "delete":
					// Insert the keys untimed, then time their deletion.
					rows, wall, cpu := a.rows, a.wall, a.cpu
					a.apply(kvBatch(mem, i*tc.rows, tc.rows, 1, 1, false))
					a.rows, a.wall, a.cpu = rows, wall, cpu
					rb = kvBatch(mem, i*tc.rows, tc.rows, 1, -1, false)
				}
				b.StartTimer()
				a.apply(rb)
			}
			b.StopTimer()
			a.report()
		})
	}
}

// adhocRows is the view size of BenchmarkAdhocAggregate: 1M by default,
// STRATA_BENCH_ROWS=10000000 for the 10M.
func adhocRows(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("STRATA_BENCH_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("STRATA_BENCH_ROWS=%q: want a row count", s)
		}
	}
	return n
}

const adhocQuery = "SELECT k %% 100 AS g, count(*) AS n, sum(v) AS s FROM %s GROUP BY 1"

// BenchmarkAdhocAggregate runs one aggregate over a keyless view of
// STRATA_BENCH_ROWS rows (default 1M) two ways on the same DuckDB file:
// path=view through the backend's Query (read connection, read-only
// transaction, epoch read, Arrow result) on the view's table, and
// path=table as a direct database/sql query on a plain table holding the
// same rows (CREATE TABLE .. AS SELECT). The view is filled through Apply
// in epochs of 1M rows. The goal is view/table <= 1.1.
func BenchmarkAdhocAggregate(b *testing.B) {
	rows := adhocRows(b)
	dir := filepath.Join(b.TempDir(), "duckdb")
	ctx := context.Background()
	// Build once: the view through Apply, then the plain copy.
	func() {
		mem := memory.NewGoAllocator()
		a := openBackend(b, duckdb.Name, dir, mem, core.ViewDef{Name: "kv", Columns: kvCols})
		const epochRows = 1 << 20
		for from := 0; from < rows; from += epochRows {
			a.apply(kvBatch(mem, from, min(epochRows, rows-from), 0, 1, false))
		}
		b.Logf("built %d rows through Apply: %.0f rows/s, %.0f cpu-ns/row", a.rows, float64(a.rows)/a.wall.Seconds(), float64(a.cpu.Nanoseconds())/float64(a.rows))
		if err := a.be.Close(); err != nil {
			b.Fatal(err)
		}
		db, err := sql.Open("duckdb", filepath.Join(dir, duckdb.FileName))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "CREATE TABLE plain AS SELECT * FROM kv"); err != nil {
			b.Fatal(err)
		}
	}()
	b.Run(fmt.Sprintf("rows=%d/path=view", rows), func(b *testing.B) {
		be, err := backends.Open(ctx, duckdb.Name, backends.Config{Dir: dir, Alloc: memory.NewGoAllocator()})
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		q := be.(core.Querier)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rd, _, err := q.Query(ctx, fmt.Sprintf(adhocQuery, "kv"))
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			for rd.Next() {
				n += rd.RecordBatch().NumRows()
			}
			err = rd.Err()
			rd.Release()
			if err != nil || n != min(100, int64(rows)) {
				b.Fatalf("%d groups, err %v", n, err)
			}
		}
	})
	b.Run(fmt.Sprintf("rows=%d/path=table", rows), func(b *testing.B) {
		db, err := sql.Open("duckdb", filepath.Join(dir, duckdb.FileName))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if err := db.PingContext(ctx); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			rs, err := db.QueryContext(ctx, fmt.Sprintf(adhocQuery, "plain"))
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			for rs.Next() {
				var g, c, s int64
				if err := rs.Scan(&g, &c, &s); err != nil {
					b.Fatal(err)
				}
				n++
			}
			err = rs.Err()
			rs.Close()
			if err != nil || n != min(100, int64(rows)) {
				b.Fatalf("%d groups, err %v", n, err)
			}
		}
	})
}
