package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// kvBatch builds a changelog batch of n rows (k = i % card, v = i + base).
func kvBatch(mem memory.Allocator, n, card, base int) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kvCols)))
	defer bld.Release()
	for i := 0; i < n; i++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(i % card))
		bld.Field(1).(*array.Int64Builder).Append(int64(i + base))
		bld.Field(2).(*array.Int64Builder).Append(1)
	}
	return bld.NewRecordBatch()
}

// BenchmarkJoin: an inner equi-join fed alternately from both sides; each
// key ends up with a handful of rows per side.
func BenchmarkJoin(b *testing.B) {
	for _, card := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("keys=%d", card), func(b *testing.B) {
			mem := testutil.Alloc(b)
			const n = 4096
			schema := core.ChangelogSchema(core.ArrowSchema(kvCols))
			j, err := NewJoin(mem, JoinInner, schema, schema, []int{0}, []int{0})
			if err != nil {
				b.Fatal(err)
			}
			defer j.Close()
			ctx := b.Context()
			out := 0
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				rec := kvBatch(mem, n, card, i*n)
				if err := j.Push(ctx, i%2, rec, func(o arrow.RecordBatch) error { out += int(o.NumRows()); return nil }); err != nil {
					b.Fatal(err)
				}
				rec.Release()
				i++
				if i%64 == 0 { // bound the state so the benchmark measures steady work
					j.Close()
					j, _ = NewJoin(mem, JoinInner, schema, schema, []int{0}, []int{0})
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(out)/b.Elapsed().Seconds(), "out_rows/s")
		})
	}
}

// BenchmarkTumble: window assignment plus a windowed count per key.
func BenchmarkTumble(b *testing.B) {
	mem := testutil.Alloc(b)
	const n = 4096
	cols := []core.Column{{Name: "k", Type: core.Bigint}, {Name: "ts", Type: core.Timestamp}}
	schema := core.ChangelogSchema(core.ArrowSchema(cols))
	bld := array.NewRecordBuilder(mem, schema)
	for i := 0; i < n; i++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(i % 100))
		bld.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1000))
		bld.Field(2).(*array.Int64Builder).Append(1)
	}
	rec := bld.NewRecordBatch()
	bld.Release()
	defer rec.Release()
	wa, err := NewWindowAssign(mem, schema, Tumble, 1, time.Second, time.Second, 0, "t")
	if err != nil {
		b.Fatal(err)
	}
	agg, err := NewGroupAgg(mem, wa.Schema(), []int{0, 2}, []string{"k", "window_start"}, []AggSpec{{Kind: AggCountStar, Arg: -1, Name: "n", T: core.Bigint}})
	if err != nil {
		b.Fatal(err)
	}
	agg.SetWindow(&WindowClose{Key: 1, Offset: time.Second.Microseconds()})
	flow, err := Chain("t", wa, agg)
	if err != nil {
		b.Fatal(err)
	}
	defer flow.Close()
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := flow.Push(ctx, "t", rec, func(arrow.RecordBatch) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	if err := flow.EndEpoch(ctx, func(arrow.RecordBatch) error { return nil }); err != nil {
		b.Fatal(err)
	}
}
