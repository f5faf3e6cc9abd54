package engine

import (
	"errors"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

func TestKernels(t *testing.T) {
	mem := testutil.Alloc(t)
	// Columns: a bigint, b bigint, p boolean, q boolean, with NULLs.
	cols := []core.Column{{Name: "a", Type: core.Bigint}, {Name: "b", Type: core.Bigint}, {Name: "p", Type: core.Boolean}, {Name: "q", Type: core.Boolean}}
	bld := array.NewRecordBuilder(mem, core.ArrowSchema(cols))
	defer bld.Release()
	a := []any{int64(7), int64(-7), nil, int64(math.MaxInt64), int64(0)}
	b := []any{int64(2), int64(0), int64(1), int64(0), nil}
	p := []any{true, false, nil, true, nil}
	q := []any{nil, nil, nil, false, false}
	for i := range a {
		core.AppendValue(bld.Field(0), a[i])
		core.AppendValue(bld.Field(1), b[i])
		core.AppendValue(bld.Field(2), p[i])
		core.AppendValue(bld.Field(3), q[i])
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	col := func(i int) Expr { return &ColRef{Index: i, Name: cols[i].Name, T: cols[i].Type} }
	for _, tc := range []struct {
		name string
		e    Expr
		want []any
		err  error
	}{
		{"div by zero is NULL", &Binary{Op: OpDiv, L: col(0), R: col(1), T: core.Bigint}, []any{int64(3), nil, nil, nil, nil}, nil},
		{"mod", &Binary{Op: OpMod, L: col(0), R: col(1), T: core.Bigint}, []any{int64(1), nil, nil, nil, nil}, nil},
		{"sub", &Binary{Op: OpSub, L: col(0), R: col(1), T: core.Bigint}, []any{int64(5), int64(-7), nil, int64(math.MaxInt64), nil}, nil},
		{"overflow", &Binary{Op: OpAdd, L: col(0), R: &Const{Value: int64(1), T: core.Bigint}, T: core.Bigint}, nil, ErrOverflow},
		{"compare", &Binary{Op: OpGt, L: col(0), R: col(1), T: core.Boolean}, []any{true, false, nil, true, nil}, nil},
		{"and 3VL", &Binary{Op: OpAnd, L: col(2), R: col(3), T: core.Boolean}, []any{nil, false, nil, false, false}, nil},
		{"or 3VL", &Binary{Op: OpOr, L: col(2), R: col(3), T: core.Boolean}, []any{true, nil, nil, true, nil}, nil},
		{"not", &Unary{Op: OpNot, X: col(2), T: core.Boolean}, []any{false, true, nil, false, nil}, nil},
		{"is null", &Unary{Op: OpIsNull, X: col(0), T: core.Boolean}, []any{false, false, true, false, false}, nil},
		{"cast to double", &Cast{X: col(1), T: core.Double}, []any{2.0, 0.0, 1.0, 0.0, nil}, nil},
		{"neg", &Unary{Op: OpNeg, X: col(1), T: core.Bigint}, []any{int64(-2), int64(0), int64(-1), int64(0), nil}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Eval(mem, tc.e, rec)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			for i, w := range tc.want {
				if g := core.ValueAt(got, i); g != w {
					t.Errorf("row %d: got %v, want %v", i, g, w)
				}
			}
		})
	}
}

// BenchmarkFilterProject measures the stateless path: WHERE a > 10 then a*2.
func BenchmarkFilterProject(b *testing.B) {
	mem := testutil.Alloc(b)
	const n = 4096
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kvCols)))
	defer bld.Release()
	for i := 0; i < n; i++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(i % 100))
		bld.Field(1).(*array.Int64Builder).Append(int64(i))
		bld.Field(2).(*array.Int64Builder).Append(1)
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	k := &ColRef{Index: 0, Name: "k", T: core.Bigint}
	f := NewFilter(mem, rec.Schema(), &Binary{Op: OpGt, L: k, R: &Const{Value: int64(10), T: core.Bigint}, T: core.Boolean})
	p := NewProject(mem, []Expr{&Binary{Op: OpMul, L: k, R: &Const{Value: int64(2), T: core.Bigint}, T: core.Bigint}}, []string{"k2"})
	ch, err := Chain("t", f, p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(n * 16)
	ctx := b.Context()
	for b.Loop() {
		if err := ch.Push(ctx, "t", rec, func(arrow.RecordBatch) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGroupAgg measures count(*)+sum grouped by a key of 100 values.
func BenchmarkGroupAgg(b *testing.B) {
	mem := testutil.Alloc(b)
	const n = 4096
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kvCols)))
	defer bld.Release()
	for i := 0; i < n; i++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(i % 100))
		bld.Field(1).(*array.Int64Builder).Append(int64(i))
		bld.Field(2).(*array.Int64Builder).Append(1)
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	agg, err := NewGroupAgg(mem, rec.Schema(), []int{0}, []string{"k"}, []AggSpec{
		{Kind: AggCountStar, Arg: -1, Name: "n", T: core.Bigint}, {Kind: AggSum, Arg: 1, Name: "s", T: core.Bigint}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if err := agg.Push(ctx, 0, rec, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	if err := agg.EndEpoch(ctx, func(arrow.RecordBatch) error { return nil }); err != nil {
		b.Fatal(err)
	}
}

// TestEmptyBatches: every operator accepts a batch without rows (a source
// may emit one) and emits nothing for it.
func TestEmptyBatches(t *testing.T) {
	mem := testutil.Alloc(t)
	ctx := t.Context()
	schema := core.ChangelogSchema(core.ArrowSchema(kvCols))
	bld := array.NewRecordBuilder(mem, schema)
	empty := bld.NewRecordBatch()
	bld.Release()
	defer empty.Release()
	k := &ColRef{Index: 0, Name: "k", T: core.Bigint}
	agg, _ := NewGroupAgg(mem, schema, []int{0}, []string{"k"}, []AggSpec{{Kind: AggSum, Arg: 1, Name: "s", T: core.Bigint}, {Kind: AggMin, Arg: 1, Name: "m", T: core.Bigint}})
	join, _ := NewJoin(mem, JoinFull, schema, schema, []int{0}, []int{0})
	top, _ := NewTopN(mem, schema, []int{0}, []SortKey{{Col: 1}}, 2, "rn")
	ops := []Operator{
		NewFilter(mem, schema, &Binary{Op: OpGt, L: k, R: &Const{Value: int64(1), T: core.Bigint}, T: core.Boolean}),
		NewProject(mem, []Expr{&Binary{Op: OpMul, L: k, R: &Const{Value: int64(2), T: core.Bigint}, T: core.Bigint}}, []string{"k2"}),
		agg, join, top, NewUnion(schema, 2),
	}
	for _, op := range ops {
		emitted := 0
		emit := func(b arrow.RecordBatch) error { emitted += int(b.NumRows()); return nil }
		for port := 0; port < 2; port++ {
			if err := op.Push(ctx, port%2, empty, emit); err != nil {
				t.Fatalf("%s: %v", op.Explain(), err)
			}
		}
		if err := op.EndEpoch(ctx, emit); err != nil {
			t.Fatalf("%s: %v", op.Explain(), err)
		}
		if emitted != 0 {
			t.Errorf("%s emitted %d rows for empty input", op.Explain(), emitted)
		}
		op.Close()
	}
}
