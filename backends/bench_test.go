package backends_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/duckdb"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

var benchView = core.ViewDef{
	Name: "bench",
	Columns: []core.Column{
		{Name: "k", Type: core.Bigint}, {Name: "name", Type: core.Varchar}, {Name: "price", Type: core.Double},
	},
	Key: []string{"k"},
}

// benchBatch returns a changelog batch for keys [from, from+n): with
// retract, each key's old row (value v-1) is retracted before the new one
// (value v) is inserted.
func benchBatch(mem memory.Allocator, from, n int, v int64, retract bool) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(benchView.Columns)))
	defer bld.Release()
	k := bld.Field(0).(*array.Int64Builder)
	name := bld.Field(1).(*array.StringBuilder)
	price := bld.Field(2).(*array.Float64Builder)
	w := bld.Field(3).(*array.Int64Builder)
	row := func(key int, v, weight int64) {
		k.Append(int64(key))
		name.Append(fmt.Sprintf("item-%08d", key))
		price.Append(float64(v) + 0.5)
		w.Append(weight)
	}
	for key := from; key < from+n; key++ {
		if retract {
			row(key, v-1, -1)
		}
		row(key, v, 1)
	}
	return bld.NewRecordBatch()
}

// BenchmarkApply measures Apply throughput in changelog rows per second:
// op=append inserts new keys every epoch, op=upsert updates every key of a
// table of the same size (a -old/+new pair per key, so twice the rows).
// Each epoch is one synced commit.
func BenchmarkApply(b *testing.B) {
	for _, name := range allBackends {
		for _, op := range []string{"append", "upsert"} {
			for _, rows := range []int{1024, 65536} {
				b.Run(fmt.Sprintf("backend=%s/op=%s/rows=%d", name, op, rows), func(b *testing.B) {
					benchApply(b, name, op, rows)
				})
			}
		}
	}
}

func benchApply(b *testing.B, name, op string, rows int) {
	mem := testutil.Alloc(b)
	ctx := context.Background()
	be, err := backends.Open(ctx, name, backends.Config{Dir: filepath.Join(b.TempDir(), name), Alloc: mem, Options: backendOptions(b, name)})
	if errors.Is(err, duckdb.ErrUnavailable) {
		testutil.SkipOrFail(b, err.Error())
	}
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	if err := be.EnsureView(ctx, benchView); err != nil {
		b.Fatal(err)
	}
	epoch := core.Epoch(0)
	applyOne := func(rb arrow.RecordBatch) {
		epoch++
		err := be.Apply(ctx, &core.EpochChanges{Epoch: epoch, Changes: map[string][]arrow.RecordBatch{benchView.Name: {rb}}})
		rb.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	if op == "upsert" {
		applyOne(benchBatch(mem, 0, rows, 1, false))
	}
	var total int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var rb arrow.RecordBatch
		if op == "append" {
			rb = benchBatch(mem, i*rows, rows, 1, false)
		} else {
			rb = benchBatch(mem, 0, rows, int64(i+2), true)
		}
		total += rb.NumRows()
		b.StartTimer()
		applyOne(rb)
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
}
