package engine

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

var funcCols = []core.Column{
	{Name: "i", Type: core.Bigint}, {Name: "n", Type: core.Integer}, {Name: "d", Type: core.Double},
	{Name: "s", Type: core.Varchar}, {Name: "b", Type: core.Boolean}, {Name: "ts", Type: core.Timestamp},
	{Name: "dt", Type: core.Date}, {Name: "iv", Type: core.Interval},
}

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

// funcRows: row 0 is a spacer (the sliced batch starts at row 1), the last
// row is all NULL.
var funcRows = [][]any{
	{int64(0), int32(0), 0.0, "", false, ts("2000-01-01 00:00:00"), ts("2000-01-01 00:00:00"), arrow.MonthDayNanoInterval{}},
	{int64(7), int32(-3), 2.5, "Hello", true, ts("2024-01-31 10:30:15"), ts("2024-02-29 00:00:00"), arrow.MonthDayNanoInterval{Months: 1, Days: 2, Nanoseconds: 3_600_000_000_000}},
	{int64(-12), int32(5), -0.5, "héllo, wörld", false, ts("1969-12-31 23:59:59"), ts("1970-01-01 00:00:00"), arrow.MonthDayNanoInterval{Days: -1}},
	{nil, nil, nil, nil, nil, nil, nil, nil},
}

func funcBatch(t testing.TB, mem memory.Allocator) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ArrowSchema(funcCols))
	defer bld.Release()
	for _, row := range funcRows {
		for c, v := range row {
			core.AppendValue(bld.Field(c), v)
		}
	}
	return bld.NewRecordBatch()
}

func fcol(name string) Expr {
	for i, c := range funcCols {
		if c.Name == name {
			return &ColRef{Index: i, Name: name, T: c.Type}
		}
	}
	panic(name)
}

func lit(v any, t core.Type) Expr { return &Const{Value: v, T: t} }

func call(fn string, t core.Type, args ...Expr) Expr { return &Call{Fn: fn, Args: args, T: t} }

// TestFuncKernels checks each kernel on rows 1..3 of a batch sliced from
// row 1 (so every array has an offset), the last row being NULL.
func TestFuncKernels(t *testing.T) {
	mem := testutil.Alloc(t)
	full := funcBatch(t, mem)
	defer full.Release()
	rec := full.NewSlice(1, full.NumRows())
	defer rec.Release()
	V, B, I, D, Bo := core.Varchar, core.Bigint, core.Integer, core.Double, core.Boolean
	s, i, n, d, b := fcol("s"), fcol("i"), fcol("n"), fcol("d"), fcol("b")
	tsC, dt, iv := fcol("ts"), fcol("dt"), fcol("iv")
	day := arrow.MonthDayNanoInterval{Days: 1}
	for _, tc := range []struct {
		name string
		e    Expr
		want []any
	}{
		{"lower", call("lower", V, s), []any{"hello", "héllo, wörld", nil}},
		{"upper", call("upper", V, s), []any{"HELLO", "HÉLLO, WÖRLD", nil}},
		{"length", call("length", B, s), []any{int64(5), int64(12), nil}},
		{"substr", call("substr", V, s, lit(int64(2), B), lit(int64(3), B)), []any{"ell", "éll", nil}},
		{"substr negative start", call("substr", V, s, lit(int64(-3), B)), []any{"llo", "rld", nil}},
		{"substr column args", call("substr", V, s, i, lit(int64(2), B)), []any{"", "hé", nil}},
		{"btrim", call("btrim", V, s, lit("Hd", V)), []any{"ello", "héllo, wörl", nil}},
		{"concat skips NULL", call("concat", V, s, lit(nil, V), lit("!", V)), []any{"Hello!", "héllo, wörld!", "!"}},
		{"concat_op strict", call("concat_op", V, s, lit("!", V)), []any{"Hello!", "héllo, wörld!", nil}},
		{"replace", call("replace", V, s, lit("l", V), lit("L", V)), []any{"HeLLo", "héLLo, wörLd", nil}},
		{"strpos", call("strpos", B, s, lit("l", V)), []any{int64(3), int64(3), nil}},
		{"left", call("left", V, s, lit(int64(-2), B)), []any{"Hel", "héllo, wör", nil}},
		{"right", call("right", V, s, lit(int64(3), B)), []any{"llo", "rld", nil}},
		{"starts_with", call("starts_with", Bo, s, lit("H", V)), []any{true, false, nil}},
		{"split_part", call("split_part", V, s, lit(",", V), lit(int64(2), B)), []any{"", " wörld", nil}},
		{"lpad", call("lpad", V, s, lit(int64(7), B), lit("ab", V)), []any{"abHello", "héllo, ", nil}},
		{"rpad", call("rpad", V, s, lit(int64(7), B), lit("é", V)), []any{"Helloéé", "héllo, ", nil}},
		{"reverse", call("reverse", V, s), []any{"olleH", "dlröw ,olléh", nil}},
		{"like prefix", &Like{X: s, Pattern: lit("He%", V), Escape: '\\'}, []any{true, false, nil}},
		{"like general", &Like{X: s, Pattern: lit("h_llo%w%d", V), Escape: '\\'}, []any{false, true, nil}},
		{"ilike", &Like{X: s, Pattern: lit("%LLO", V), Escape: '\\', Fold: true}, []any{true, false, nil}},
		{"not like", &Like{X: s, Pattern: lit("%,%", V), Escape: '\\', Not: true}, []any{true, false, nil}},
		{"like escape", &Like{X: lit("a%b", V), Pattern: lit("a\\%b", V), Escape: '\\'}, []any{true, true, true}},
		{"like NULL pattern", &Like{X: s, Pattern: lit(nil, V), Escape: '\\'}, []any{nil, nil, nil}},
		{"abs int", call("abs", B, i), []any{int64(7), int64(12), nil}},
		{"abs integer", call("abs", I, n), []any{int32(3), int32(5), nil}},
		{"round half away", call("round", D, d), []any{3.0, -1.0, nil}},
		{"round int digits", call("round", B, i, lit(int64(-1), B)), []any{int64(10), int64(-10), nil}},
		{"floor", call("floor", D, d), []any{2.0, -1.0, nil}},
		{"ceil", call("ceil", D, d), []any{3.0, math.Copysign(0, -1), nil}},
		{"sqrt", call("sqrt", D, lit(16.0, D)), []any{4.0, 4.0, 4.0}},
		{"power", call("power", D, d, lit(2.0, D)), []any{6.25, 0.25, nil}},
		{"sign", call("sign", I, d), []any{int32(1), int32(-1), nil}},
		{"coalesce", call("coalesce", B, i, lit(int64(99), B)), []any{int64(7), int64(-12), int64(99)}},
		{"nullif", call("nullif", B, i, lit(int64(7), B)), []any{nil, int64(-12), nil}},
		{"greatest skips NULL", call("greatest", B, i, lit(nil, B), lit(int64(0), B)), []any{int64(7), int64(0), int64(0)}},
		{"least strings", call("least", V, s, lit("Z", V)), []any{"Hello", "Z", "Z"}},
		{"is distinct", call("is_distinct", Bo, i, lit(nil, B)), []any{true, true, false}},
		{"is not distinct", call("is_not_distinct", Bo, i, lit(int64(7), B)), []any{true, false, false}},
		{"is true", call("is_true", Bo, b), []any{true, false, false}},
		{"is not false", call("is_not_false", Bo, b), []any{true, false, true}},
		{"case", &Case{Whens: []When{{Cond: b, Then: s}, {Cond: &Binary{Op: OpLt, L: i, R: lit(int64(0), B), T: Bo}, Then: lit("neg", V)}}, Else: lit("else", V), T: V}, []any{"Hello", "neg", "else"}},
		{"case no else", &Case{Whens: []When{{Cond: b, Then: d}}, T: D}, []any{2.5, nil, nil}},
		{"in consts", &In{X: i, List: []Expr{lit(int64(1), B), lit(int64(7), B)}}, []any{true, false, nil}},
		{"in with NULL", &In{X: i, List: []Expr{lit(int64(7), B), lit(nil, B)}}, []any{true, nil, nil}},
		{"not in", &In{X: s, List: []Expr{lit("Hello", V)}, Not: true}, []any{false, true, nil}},
		{"in columns", &In{X: lit(int64(7), B), List: []Expr{i, lit(int64(1), B)}}, []any{true, false, nil}},
		{"extract hour", call("extract", B, lit("hour", V), tsC), []any{int64(10), int64(23), nil}},
		{"extract dow", call("extract", B, lit("dow", V), tsC), []any{int64(3), int64(3), nil}},
		{"extract doy", call("extract", B, lit("doy", V), tsC), []any{int64(31), int64(365), nil}},
		{"extract epoch", call("extract", D, lit("epoch", V), tsC), []any{1706697015.0, -1.0, nil}},
		{"extract interval hour", call("extract", B, lit("hour", V), iv), []any{int64(1), int64(0), nil}},
		{"date_trunc month", call("date_trunc", core.Timestamp, lit("month", V), tsC), []any{ts("2024-01-01 00:00:00"), ts("1969-12-01 00:00:00"), nil}},
		{"date_trunc hour", call("date_trunc", core.Timestamp, lit("hour", V), tsC), []any{ts("2024-01-31 10:00:00"), ts("1969-12-31 23:00:00"), nil}},
		{"ts + interval", &Binary{Op: OpAdd, L: tsC, R: iv, T: core.Timestamp}, []any{ts("2024-03-02 11:30:15"), ts("1969-12-30 23:59:59"), nil}},
		{"date - int", &Binary{Op: OpSub, L: dt, R: lit(int64(1), B), T: core.Date}, []any{ts("2024-02-28 00:00:00"), ts("1969-12-31 00:00:00"), nil}},
		{"ts - ts", &Binary{Op: OpSub, L: tsC, R: lit(int64(0), core.Timestamp), T: core.Interval}, []any{arrow.MonthDayNanoInterval{Days: 19753, Nanoseconds: 37815 * 1e9}, arrow.MonthDayNanoInterval{Nanoseconds: -1e9}, nil}},
		{"interval compare", &Binary{Op: OpGt, L: iv, R: lit(day, core.Interval), T: Bo}, []any{true, false, nil}},
		{"neg interval", &Unary{Op: OpNeg, X: iv, T: core.Interval}, []any{arrow.MonthDayNanoInterval{Months: -1, Days: -2, Nanoseconds: -3_600_000_000_000}, arrow.MonthDayNanoInterval{Days: 1}, nil}},
		{"to_timestamp", call("to_timestamp", core.Timestamptz, d), []any{time.Unix(2, 5e8).UTC(), time.Unix(-1, 5e8).UTC(), nil}},
		{"cast double->bigint half even", &Cast{X: d, T: B}, []any{int64(2), int64(0), nil}},
		{"cast bigint->integer", &Cast{X: i, T: I}, []any{int32(7), int32(-12), nil}},
		{"cast double->varchar", &Cast{X: d, T: V}, []any{"2.5", "-0.5", nil}},
		{"cast ts->varchar", &Cast{X: tsC, T: V}, []any{"2024-01-31 10:30:15", "1969-12-31 23:59:59", nil}},
		{"cast ts->date", &Cast{X: tsC, T: core.Date}, []any{ts("2024-01-31 00:00:00"), ts("1969-12-31 00:00:00"), nil}},
		{"cast interval->varchar", &Cast{X: iv, T: V}, []any{"1 month 2 days 01:00:00", "-1 day", nil}},
		{"cast varchar->timestamptz", &Cast{X: lit("2024-01-02 10:00:00+02", V), T: core.Timestamptz}, []any{ts("2024-01-02 08:00:00"), ts("2024-01-02 08:00:00"), ts("2024-01-02 08:00:00")}},
		{"cast bool->integer", &Cast{X: b, T: I}, []any{int32(1), int32(0), nil}},
		{"cast decimal", &Cast{X: &Cast{X: d, T: core.Decimal(5, 1)}, T: V}, []any{"2.5", "-0.5", nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Eval(mem, tc.e, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			if got.Len() != len(tc.want) {
				t.Fatalf("got %d rows, want %d", got.Len(), len(tc.want))
			}
			for r, w := range tc.want {
				g := core.ValueAt(got, r)
				if tm, ok := g.(time.Time); ok {
					if wt, ok := w.(time.Time); ok && tm.Equal(wt) {
						continue
					}
				}
				if fmt.Sprint(g) != fmt.Sprint(w) || (g == nil) != (w == nil) {
					t.Errorf("row %d: got %#v, want %#v", r, g, w)
				}
			}
		})
	}
}

func TestFuncErrors(t *testing.T) {
	mem := testutil.Alloc(t)
	full := funcBatch(t, mem)
	defer full.Release()
	B, V, D := core.Bigint, core.Varchar, core.Double
	for _, tc := range []struct {
		name string
		e    Expr
		want error
	}{
		{"abs overflow", call("abs", B, lit(int64(math.MinInt64), B)), ErrOverflow},
		{"round overflow", call("round", B, lit(int64(math.MaxInt64), B), lit(int64(-1), B)), ErrOverflow},
		{"bigint->integer", &Cast{X: lit(int64(1)<<40, B), T: core.Integer}, ErrCast},
		{"double->bigint", &Cast{X: lit(math.Inf(1), D), T: B}, ErrCast},
		{"varchar->bigint", &Cast{X: fcol("s"), T: B}, ErrCast},
		{"varchar->date", &Cast{X: lit("2024-02-30", V), T: core.Date}, ErrCast},
		{"ts + interval overflow", &Binary{Op: OpAdd, L: lit(int64(math.MaxInt64-1), core.Timestamp), R: lit(arrow.MonthDayNanoInterval{Days: 1}, core.Interval), T: core.Timestamp}, ErrOverflow},
		{"sqrt negative", call("sqrt", D, lit(-1.0, D)), nil},
		{"like trailing escape", &Like{X: fcol("s"), Pattern: lit("a\\", V), Escape: '\\'}, nil},
		{"lpad without fill", call("lpad", V, fcol("s"), lit(int64(40), B), lit("", V)), nil},
		{"unknown function", call("nope", V), ErrUnknownFunc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Eval(mem, tc.e, full)
			if err == nil {
				got.Release()
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestCaseLazy: a CASE branch that would fail on rows it does not select
// is evaluated on its own rows only; COALESCE likewise.
func TestCaseLazy(t *testing.T) {
	mem := testutil.Alloc(t)
	full := funcBatch(t, mem)
	defer full.Release()
	i, B := fcol("i"), core.Bigint
	big := &Binary{Op: OpMul, L: i, R: lit(int64(1)<<60, B), T: B}
	e := &Case{Whens: []When{{Cond: &Binary{Op: OpEq, L: i, R: lit(int64(0), B), T: core.Boolean}, Then: big}}, Else: lit(int64(-1), B), T: B}
	got, err := Eval(mem, e, full)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if fmt.Sprint(core.ValueAt(got, 0), core.ValueAt(got, 1)) != "0 -1" {
		t.Fatalf("got %v %v", core.ValueAt(got, 0), core.ValueAt(got, 1))
	}
	co := call("coalesce", B, &Case{Whens: []When{{Cond: &Binary{Op: OpNe, L: i, R: lit(int64(0), B), T: core.Boolean}, Then: i}}, T: B}, big)
	got2, err := Eval(mem, co, full)
	if err != nil {
		t.Fatal(err)
	}
	got2.Release()
}

func TestParseInterval(t *testing.T) {
	for _, tc := range []struct {
		in, unit, want string
	}{
		{"5 minutes", "", "00:05:00"}, {"10", "", "00:00:10"}, {"10", "minute", "00:10:00"}, {"1 day 2 hours", "", "1 day 02:00:00"},
		{"1 year 2 months", "", "1 year 2 months"}, {"-90 minutes", "", "-01:30:00"}, {"00:01:30", "", "00:01:30"},
		{"2 weeks", "", "14 days"}, {"3.5 seconds", "", "00:00:03.5"}, {"1 day ago", "", "-1 day"}, {"36 hours", "", "36:00:00"},
		{"1.5 days", "", "1 day 12:00:00"}, {"250 ms", "", "00:00:00.25"},
	} {
		iv, err := ParseInterval(tc.in, tc.unit)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := core.FormatInterval(iv); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "5 lightyears", "1:2:3:4"} {
		if _, err := ParseInterval(bad, ""); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// BenchmarkKernel measures one kernel over a 4096-row batch (with NULLs).
func BenchmarkKernel(b *testing.B) {
	mem := testutil.Alloc(b)
	const n = 4096
	bld := array.NewRecordBuilder(mem, core.ArrowSchema(funcCols))
	defer bld.Release()
	words := []string{"hello world", "alpha", "béta gamma", "x", "strata streams", "lorem ipsum dolor"}
	for r := 0; r < n; r++ {
		if r%16 == 0 {
			for c := range funcCols {
				bld.Field(c).AppendNull()
			}
			continue
		}
		row := []any{int64(r - n/2), int32(r % 100), float64(r) / 7, words[r%len(words)], r%3 == 0,
			time.UnixMicro(1_700_000_000_000_000 + int64(r)*7_919_000_000).UTC(), time.Unix(int64(r)*86400, 0).UTC(), arrow.MonthDayNanoInterval{Days: int32(r % 9), Nanoseconds: int64(r) * 1e9}}
		for c, v := range row {
			core.AppendValue(bld.Field(c), v)
		}
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	V, B, D, Bo := core.Varchar, core.Bigint, core.Double, core.Boolean
	s, i, d, tsC := fcol("s"), fcol("i"), fcol("d"), fcol("ts")
	for _, bc := range []struct {
		name string
		e    Expr
	}{
		{"lower", call("lower", V, s)},
		{"length", call("length", B, s)},
		{"substr", call("substr", V, s, lit(int64(2), B), lit(int64(4), B))},
		{"concat_op", call("concat_op", V, s, lit("!", V))},
		{"replace", call("replace", V, s, lit("a", V), lit("AA", V))},
		{"like_prefix", &Like{X: s, Pattern: lit("al%", V), Escape: '\\'}},
		{"like_general", &Like{X: s, Pattern: lit("%e_%a%", V), Escape: '\\'}},
		{"ilike", &Like{X: s, Pattern: lit("%ALPHA%", V), Escape: '\\', Fold: true}},
		{"abs", call("abs", B, i)},
		{"round", call("round", D, d, lit(int64(2), B))},
		{"case", &Case{Whens: []When{{Cond: &Binary{Op: OpGt, L: i, R: lit(int64(0), B), T: Bo}, Then: i}}, Else: lit(int64(0), B), T: B}},
		{"coalesce", call("coalesce", B, i, lit(int64(0), B))},
		{"in_const", &In{X: i, List: []Expr{lit(int64(1), B), lit(int64(5), B), lit(int64(-7), B), lit(int64(100), B)}}},
		{"greatest", call("greatest", B, i, lit(int64(0), B))},
		{"extract_hour", call("extract", B, lit("hour", V), tsC)},
		{"date_trunc_day", call("date_trunc", core.Timestamp, lit("day", V), tsC)},
		{"ts_plus_interval", &Binary{Op: OpAdd, L: tsC, R: fcol("iv"), T: core.Timestamp}},
		{"cast_double_varchar", &Cast{X: d, T: V}},
		{"cast_ts_varchar", &Cast{X: tsC, T: V}},
		{"cast_varchar_ts", &Cast{X: &Cast{X: tsC, T: V}, T: core.Timestamp}},
	} {
		b.Run("fn="+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := Eval(mem, bc.e, rec)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
