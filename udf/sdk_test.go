package udf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/internal/testutil"
)

// TestSDKDemo builds the worked example of every SDK (udf/sdk/<lang>/
// examples/demo) with its real toolchain and checks that all of them
// implement double_it, shout, words and mean identically: the same
// assertions run against each module. A missing toolchain skips its
// language (fails under STRATA_CI=1); scripts/asc.sh installs AssemblyScript.
func TestSDKDemo(t *testing.T) {
	for _, lang := range Langs {
		t.Run("lang="+lang, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			wasm := buildDemo(t, lang)
			h, err := New(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := h.Close(ctx); err != nil {
					t.Error(err)
				}
			})
			if _, err := h.LoadFile(ctx, "demo-"+lang, wasm); err != nil {
				t.Fatal(err)
			}
			t.Run("func=double_it", func(t *testing.T) { testDemoDoubleIt(t, h) })
			t.Run("func=shout", func(t *testing.T) { testDemoShout(t, h) })
			t.Run("func=words", func(t *testing.T) { testDemoWords(t, h) })
			t.Run("func=mean", func(t *testing.T) { testDemoMean(t, h) })
		})
	}
}

// buildDemo builds lang's demo once per test into a temporary directory
// and returns the module's path.
func buildDemo(t testing.TB, lang string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "demo.wasm")
	if err := Build(context.Background(), filepath.Join("sdk", sdkDirs[lang], "examples", "demo"), out, demoOptions(t, lang)); err != nil {
		t.Fatal(err)
	}
	return out
}

// demoOptions finds lang's toolchain (skipping, or failing under CI, when
// it is missing).
func demoOptions(t testing.TB, lang string) BuildOptions {
	t.Helper()
	var opts BuildOptions
	switch lang {
	case "go":
		p, err := exec.LookPath("go")
		if err != nil {
			testutil.SkipOrFail(t, "go is not on PATH")
		}
		opts.Go = p
	case "c":
		p, err := exec.LookPath("clang")
		if err != nil {
			testutil.SkipOrFail(t, "clang is not on PATH (apt-get install clang lld wasi-libc libclang-rt-dev-wasm32)")
		}
		opts.Clang = p
	case "rust":
		p, err := RustcForWasm()
		if err != nil {
			testutil.SkipOrFail(t, err.Error())
		}
		opts.Rustc = p
	case "as":
		out, err := exec.Command("bash", filepath.Join("..", "scripts", "asc.sh")).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("%w: %s", err, ee.Stderr)
			}
			testutil.SkipOrFail(t, fmt.Sprintf("no AssemblyScript compiler: scripts/asc.sh: %v", err))
		}
		opts.ASC = strings.TrimSpace(string(out))
	default:
		t.Fatalf("no toolchain known for %q", lang)
	}
	return opts
}

func demoLookup(t *testing.T, h *Host, name string) *Function {
	t.Helper()
	f, ok := h.Lookup(name)
	if !ok {
		t.Fatalf("function %s is not loaded", name)
	}
	return f
}

func testDemoDoubleIt(t *testing.T, h *Host) {
	big := make([]any, 50000)
	want := make([]any, len(big))
	for i := range big {
		if i%7 == 3 {
			continue
		}
		big[i], want[i] = float64(i)-0.25, 2*(float64(i)-0.25)
	}
	for _, tc := range []struct {
		name     string
		in, want []any
		slice    [2]int // when set, the input is this slice of in
	}{
		{name: "nulls", in: []any{1.5, nil, -2.0, 0.0, nil, math.Inf(1)}, want: []any{3.0, nil, -4.0, 0.0, nil, math.Inf(1)}},
		{name: "no-nulls", in: []any{1.0, 2.0, 3.0}, want: []any{2.0, 4.0, 6.0}},
		{name: "all-null", in: []any{nil, nil}, want: []any{nil, nil}},
		{name: "empty", in: []any{}, want: []any{}},
		{name: "slice", in: []any{9.0, nil, 1.0, nil, 2.0, 3.0, nil, 4.0, 5.0, 6.0, 7.0}, slice: [2]int{3, 11}, want: []any{nil, 4.0, 6.0, nil, 8.0, 10.0, 12.0, 14.0}},
		{name: "rows=50000", in: big, want: want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := testutil.Alloc(t)
			in := demoArray(mem, arrow.PrimitiveTypes.Float64, tc.in)
			defer in.Release()
			if tc.slice != [2]int{} {
				s := array.NewSlice(in, int64(tc.slice[0]), int64(tc.slice[1]))
				defer s.Release()
				in = s
			}
			out, err := demoLookup(t, h, "double_it").Call(context.Background(), []arrow.Array{in}, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			demoCheck(t, out, tc.want)
		})
	}
}

func testDemoShout(t *testing.T, h *Host) {
	huge := strings.Repeat("a-Z~", 1<<18) // 1 MiB
	many := make([]any, 5000)
	manyWant := make([]any, len(many))
	for i := range many {
		many[i] = fmt.Sprintf("row %d", i)
		manyWant[i] = fmt.Sprintf("ROW %d!", i)
	}
	for _, tc := range []struct {
		name     string
		in, want []any
		errs     []RowError
	}{
		{name: "ascii", in: []any{"hello", nil, "MiXeD 123", "a"}, want: []any{"HELLO!", nil, "MIXED 123!", "A!"}},
		{name: "empty-string", in: []any{"", "x", nil, ""}, want: []any{nil, "X!", nil, nil},
			errs: []RowError{{Row: 0, Msg: "shout: empty string"}, {Row: 3, Msg: "shout: empty string"}}},
		{name: "non-ascii-uncased", in: []any{"日本語 ✓ ok"}, want: []any{"日本語 ✓ OK!"}},
		{name: "non-ascii-letters", in: []any{"héllo wörld ß"}, want: []any{"HéLLO WöRLD ß!"}},
		{name: "empty", in: []any{}, want: []any{}},
		{name: "all-null", in: []any{nil, nil, nil}, want: []any{nil, nil, nil}},
		{name: "1MiB", in: []any{huge, "after"}, want: []any{strings.ToUpper(huge) + "!", "AFTER!"}},
		{name: "rows=5000", in: many, want: manyWant},
		{name: "small-after-huge", in: []any{"b"}, want: []any{"B!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := testutil.Alloc(t)
			in := demoArray(mem, arrow.BinaryTypes.String, tc.in)
			defer in.Release()
			out, err := demoLookup(t, h, "shout").Call(context.Background(), []arrow.Array{in}, mem)
			if out != nil {
				defer out.Release()
			}
			if tc.errs == nil && err != nil {
				t.Fatal(err)
			}
			if tc.errs != nil {
				var be *BatchError
				if !errors.As(err, &be) {
					t.Fatalf("got error %v, want a *BatchError", err)
				}
				if be.Func != "shout" || !reflect.DeepEqual(be.Rows, tc.errs) {
					t.Fatalf("got %s %+v, want shout %+v", be.Func, be.Rows, tc.errs)
				}
			}
			demoCheck(t, out, tc.want)
		})
	}
}

func testDemoWords(t *testing.T, h *Host) {
	var long strings.Builder
	var longWant, longParents []any
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&long, " w%d\t", i)
		longWant = append(longWant, fmt.Sprintf("w%d", i))
		longParents = append(longParents, int32(1))
	}
	for _, tc := range []struct {
		name          string
		in            []any
		want, parents []any
	}{
		{name: "words",
			in:      []any{"hello big  world", nil, "", "  one\ttwo\nthree \r\n", "solo", "   "},
			want:    []any{"hello", "big", "world", "one", "two", "three", "solo"},
			parents: []any{int32(0), int32(0), int32(0), int32(3), int32(3), int32(3), int32(4)}},
		{name: "non-ascii", in: []any{"día de ✓"}, want: []any{"día", "de", "✓"}, parents: []any{int32(0), int32(0), int32(0)}},
		{name: "ascii-space", in: []any{"a\vb\fc\rd"}, want: []any{"a", "b", "c", "d"}, parents: []any{int32(0), int32(0), int32(0), int32(0)}},
		{name: "no-output", in: []any{nil, "", " \t "}, want: []any{}, parents: []any{}},
		{name: "empty", in: []any{}, want: []any{}, parents: []any{}},
		{name: "words=20000", in: []any{nil, long.String()}, want: longWant, parents: longParents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := testutil.Alloc(t)
			in := demoArray(mem, arrow.BinaryTypes.String, tc.in)
			defer in.Release()
			out, parents, err := demoLookup(t, h, "words").CallTable(context.Background(), []arrow.Array{in}, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			defer parents.Release()
			demoCheck(t, out, tc.want)
			demoCheck(t, parents, tc.parents)
		})
	}
}

// demoMeanState is the demo's aggregate state: {sum f64, count i64}, 16 bytes
// little-endian on the wire.
type demoMeanState struct {
	Sum   float64
	Count int64
}

func testDemoMean(t *testing.T, h *Host) {
	ctx := context.Background()
	f := demoLookup(t, h, "mean")
	mem := testutil.Alloc(t)

	// fold runs accumulate (or retract) of xs into states by groups.
	fold := func(t *testing.T, retract bool, states []*demoMeanState, groups []int32, xs []any) []*demoMeanState {
		t.Helper()
		st := demoEncodeStates(mem, states)
		defer st.Release()
		x := demoArray(mem, arrow.PrimitiveTypes.Float64, xs)
		defer x.Release()
		call := f.Accumulate
		if retract {
			call = f.Retract
		}
		out, err := call(ctx, st, groups, []arrow.Array{x}, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		return demoDecodeStates(t, out)
	}
	merge := func(t *testing.T, a, b []*demoMeanState) []*demoMeanState {
		t.Helper()
		sa, sb := demoEncodeStates(mem, a), demoEncodeStates(mem, b)
		defer sa.Release()
		defer sb.Release()
		out, err := f.Merge(ctx, sa, sb, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		return demoDecodeStates(t, out)
	}
	finish := func(t *testing.T, states []*demoMeanState, want []any) {
		t.Helper()
		st := demoEncodeStates(mem, states)
		defer st.Release()
		out, err := f.Finish(ctx, st, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		demoCheck(t, out, want)
	}
	check := func(t *testing.T, got, want []*demoMeanState) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("states:\n got %s\nwant %s", demoFmtStates(got), demoFmtStates(want))
		}
	}
	s := func(sum float64, count int64) *demoMeanState { return &demoMeanState{sum, count} }
	nulls := func(n int) []*demoMeanState { return make([]*demoMeanState, n) }

	// Three groups, all starting from the NULL (initial) state.
	s1 := []*demoMeanState{s(14, 3), s(6, 2), s(0, 0)}
	batch1 := []any{1.0, 2.0, 3.0, 4.0, nil, 10.0}
	groups1 := []int32{0, 1, 0, 1, 2, 0}

	t.Run("accumulate", func(t *testing.T) {
		check(t, fold(t, false, nulls(3), groups1, batch1), s1)
		finish(t, s1, []any{14.0 / 3, 3.0, nil})
	})
	t.Run("retract", func(t *testing.T) {
		got := fold(t, true, s1, []int32{0, 1}, []any{10.0, 2.0})
		check(t, got, []*demoMeanState{s(4, 2), s(4, 1), s(0, 0)})
		finish(t, got, []any{2.0, 4.0, nil})
	})
	t.Run("retract-undoes-accumulate", func(t *testing.T) {
		groups := []int32{2, 0, 1, 2, 0}
		batch := []any{0.5, 7.0, nil, -3.0, 0.25}
		s2 := fold(t, false, s1, groups, batch)
		check(t, s2, []*demoMeanState{s(21.25, 5), s(6, 2), s(-2.5, 2)})
		check(t, fold(t, true, s2, groups, batch), s1)
		// Retracting everything from the initial state gives it back.
		check(t, fold(t, true, s1, groups1, batch1), []*demoMeanState{s(0, 0), s(0, 0), s(0, 0)})
	})
	t.Run("merge", func(t *testing.T) {
		batch2, groups2 := []any{5.0, nil, 1.0}, []int32{2, 2, 0}
		s2 := fold(t, false, nulls(3), groups2, batch2)
		check(t, s2, []*demoMeanState{s(1, 1), s(0, 0), s(5, 1)})
		want := fold(t, false, nulls(3), append(append([]int32{}, groups1...), groups2...), append(append([]any{}, batch1...), batch2...))
		check(t, merge(t, s1, s2), want)
		check(t, merge(t, s2, s1), want)
		// NULL on either side is the initial state.
		check(t, merge(t, []*demoMeanState{nil, s(1, 1), nil}, []*demoMeanState{s(2, 1), nil, nil}), []*demoMeanState{s(2, 1), s(1, 1), s(0, 0)})
		finish(t, want, []any{15.0 / 4, 3.0, 5.0})
	})
	t.Run("empty", func(t *testing.T) {
		check(t, fold(t, false, nulls(2), nil, []any{}), []*demoMeanState{s(0, 0), s(0, 0)})
		check(t, fold(t, false, nulls(0), nil, []any{}), []*demoMeanState{})
		check(t, merge(t, nulls(0), nulls(0)), []*demoMeanState{})
		finish(t, nulls(0), []any{})
		finish(t, nulls(2), []any{nil, nil})
	})
	t.Run("rows=30000", func(t *testing.T) {
		const rows, ngroups = 30000, 97
		groups := make([]int32, rows)
		xs := make([]any, rows)
		want := make([]*demoMeanState, ngroups)
		for i := range want {
			want[i] = s(0, 0)
		}
		for i := range groups {
			g := int32(i*31) % ngroups
			groups[i] = g
			if i%11 == 0 {
				continue
			}
			xs[i] = float64(i % 1000)
			want[g].Sum += float64(i % 1000)
			want[g].Count++
		}
		got := fold(t, false, nulls(ngroups), groups, xs)
		check(t, got, want)
		zeros := make([]*demoMeanState, ngroups)
		for i := range zeros {
			zeros[i] = s(0, 0)
		}
		check(t, fold(t, true, got, groups, xs), zeros)
	})
}

func demoEncodeStates(mem memory.Allocator, states []*demoMeanState) *array.Binary {
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	for _, s := range states {
		if s == nil {
			b.AppendNull()
			continue
		}
		var blob [16]byte
		binary.LittleEndian.PutUint64(blob[:], math.Float64bits(s.Sum))
		binary.LittleEndian.PutUint64(blob[8:], uint64(s.Count))
		b.Append(blob[:])
	}
	return b.NewBinaryArray()
}

func demoDecodeStates(t *testing.T, a *array.Binary) []*demoMeanState {
	t.Helper()
	out := make([]*demoMeanState, a.Len())
	for i := range out {
		if a.IsNull(i) {
			continue
		}
		blob := a.Value(i)
		if len(blob) != 16 {
			t.Fatalf("state %d is %d bytes, want 16", i, len(blob))
		}
		out[i] = &demoMeanState{math.Float64frombits(binary.LittleEndian.Uint64(blob)), int64(binary.LittleEndian.Uint64(blob[8:]))}
	}
	return out
}

func demoFmtStates(states []*demoMeanState) string {
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = "NULL"
		if s != nil {
			parts[i] = fmt.Sprintf("{%g %d}", s.Sum, s.Count)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// demoArray builds an array of dt from vals (nil: NULL). The caller must
// Release it.
func demoArray(mem memory.Allocator, dt arrow.DataType, vals []any) arrow.Array {
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, v := range vals {
		switch v := v.(type) {
		case nil:
			b.AppendNull()
		case float64:
			b.(*array.Float64Builder).Append(v)
		case string:
			b.(*array.StringBuilder).Append(v)
		default:
			panic(fmt.Sprintf("demoArray: unsupported %T", v))
		}
	}
	return b.NewArray()
}

// demoCheck compares a with want (nil: NULL), and checks that the null
// count agrees with the validity bitmap.
func demoCheck(t *testing.T, a arrow.Array, want []any) {
	t.Helper()
	got := make([]any, a.Len())
	nulls := 0
	for i := range got {
		if a.IsNull(i) {
			nulls++
			continue
		}
		switch a := a.(type) {
		case *array.Float64:
			got[i] = a.Value(i)
		case *array.String:
			got[i] = a.Value(i)
		case *array.Int32:
			got[i] = a.Value(i)
		default:
			t.Fatalf("demoCheck: unsupported %s", a.DataType())
		}
	}
	if nulls != a.NullN() {
		t.Errorf("NullN() = %d, but %d rows are NULL", a.NullN(), nulls)
	}
	if !reflect.DeepEqual(got, want) {
		if len(got) != len(want) {
			t.Fatalf("got %d rows, want %d", len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("row %d: got %s, want %s", i, demoShort(got[i]), demoShort(want[i]))
			}
		}
	}
}

func demoShort(v any) string {
	s := fmt.Sprintf("%#v", v)
	if len(s) > 80 {
		s = s[:80] + fmt.Sprintf("... (%d chars)", len(s))
	}
	return s
}
