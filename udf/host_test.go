package udf

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var (
	testModMu sync.Mutex
	testMods  = map[string]string{}
)

// testModule builds testdata/<name> (a Go project) once per test binary.
func testModule(t testing.TB, name string) string {
	t.Helper()
	testModMu.Lock()
	defer testModMu.Unlock()
	if p, ok := testMods[name]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "strata-udf-test-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name+".wasm")
	if err := Build(context.Background(), filepath.Join("testdata", name), out, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	testMods[name] = out
	return out
}

func int64s(mem memory.Allocator, vs ...int64) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vs, nil)
	return b.NewArray()
}

// TestSandbox breaks each rule of the sandbox and checks the call fails
// with an error naming the function, and that the next call is served.
func TestSandbox(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	deadline := 300 * time.Millisecond
	// spin runs into the short deadline; the other rules break on their
	// own, so their host's deadline is long enough for a loaded machine.
	hosts := map[bool]*Host{}
	for _, short := range []bool{true, false} {
		d := deadline
		if !short {
			d = 20 * time.Second
		}
		h, err := New(ctx, WithDeadline(d), WithMemoryLimit(32<<20))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(ctx)
		if _, err := h.LoadFile(ctx, "sandbox", testModule(t, "sandbox")); err != nil {
			t.Fatal(err)
		}
		hosts[short] = h
	}
	for _, tc := range []struct {
		fn   string
		kind error
		want string // in the message
	}{
		{"spin", ErrDeadline, "stopped after 300ms"},
		{"bomb", ErrTrap, "bomb"},
		{"trap", ErrTrap, "negative input"},
		{"wild", ErrBadResult, "outside guest memory"},
		{"liar", ErrBadResult, "want 3"},
		{"garble", ErrBadResult, "out of order"},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			h := hosts[tc.kind == ErrDeadline]
			bad := int64s(mem, 1, -1, 2)
			defer bad.Release()
			start := time.Now()
			out, err := h.Call(ctx, tc.fn, []arrow.Array{bad}, mem)
			took := time.Since(start)
			if out != nil {
				out.Release()
			}
			var ce *CallError
			if !errors.As(err, &ce) || !errors.Is(err, tc.kind) {
				t.Fatalf("%s: got %v (%T), want a *CallError of kind %v", tc.fn, err, err, tc.kind)
			}
			if ce.Func != tc.fn || !strings.Contains(err.Error(), "udf: "+tc.fn) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %q should name the function and say %q", tc.fn, err, tc.want)
			}
			t.Logf("%s: %v", tc.fn, err)
			// That it stops is checked here; how soon is a goal measured by
			// BenchmarkRunawayStop.
			if tc.kind == ErrDeadline && (took < deadline || took > deadline+5*time.Second) {
				t.Errorf("runaway call stopped after %s, deadline %s", took, deadline)
			}
			// The host keeps serving: a good batch succeeds (garble and
			// liar are wrong for every batch of several rows; use one row).
			good := int64s(mem, 7)
			defer good.Release()
			fn := tc.fn
			if fn == "wild" || fn == "liar" || fn == "garble" {
				fn = "trap"
			}
			res, err := h.Call(ctx, fn, []arrow.Array{good}, mem)
			if err != nil {
				t.Fatalf("after the failure, %s(7): %v", fn, err)
			}
			defer res.Release()
			if v := res.(*array.Int64).Value(0); v != 7 {
				t.Errorf("after the failure, %s(7) = %d", fn, v)
			}
		})
	}
}

// TestForbiddenImport: a module importing what the sandbox does not
// provide is refused at load, naming the import.
func TestForbiddenImport(t *testing.T) {
	ctx := context.Background()
	h, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	_, err = h.LoadFile(ctx, "forbidden", testModule(t, "forbidden"))
	if err == nil || !strings.Contains(err.Error(), "env.open_socket") || !strings.Contains(err.Error(), "sandbox does not provide") {
		t.Fatalf("load of a module importing env.open_socket: %v", err)
	}
	if _, ok := h.Lookup("f"); ok {
		t.Error("a refused module's function is registered")
	}
}

// TestGrants: the clock is frozen unless granted.
func TestGrants(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	for _, grant := range []bool{false, true} {
		h, err := New(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.LoadFile(ctx, "sandbox", testModule(t, "sandbox"), WithGrants(Grants{Clock: grant})); err != nil {
			t.Fatal(err)
		}
		in := int64s(mem, 0)
		out, err := h.Call(ctx, "clock", []arrow.Array{in}, mem)
		if err != nil {
			t.Fatal(err)
		}
		got := out.(*array.Int64).Value(0)
		real := time.Since(time.UnixMicro(got)) < time.Hour
		if real != grant {
			t.Errorf("clock granted=%v: the module read %s", grant, time.UnixMicro(got).UTC())
		}
		out.Release()
		in.Release()
		h.Close(ctx)
	}
}

// TestCompilationCache: a second host with the same cache directory loads
// the module without compiling it again.
func TestCompilationCache(t *testing.T) {
	ctx := context.Background()
	wasm, err := os.ReadFile(testModule(t, "sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	load := func() time.Duration {
		h, err := New(ctx, WithCacheDir(dir))
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(ctx)
		start := time.Now()
		if _, err := h.Load(ctx, "sandbox", "sandbox.wasm", wasm); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	cold := load()
	warm := load()
	entries, _ := os.ReadDir(dir)
	if len(entries) == 0 {
		t.Fatalf("nothing cached in %s", dir)
	}
	t.Logf("load: cold %s, cached %s", cold, warm)
}

// TestManifestErrors: a module without a manifest, and manifests with
// mistakes, are refused with every problem listed.
func TestManifestErrors(t *testing.T) {
	wasm, err := os.ReadFile(testModule(t, "sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	secs, _ := sections(wasm)
	var bare []byte
	bare = append(bare, wasm[:8]...)
	for _, s := range secs {
		if s.name != ManifestSection {
			bare = append(bare, wasm[s.start:s.end]...)
		}
	}
	if _, err := ReadManifest(bare); err == nil || !strings.Contains(err.Error(), "strata udf build") {
		t.Errorf("module without manifest: %v", err)
	}
	_, err = ParseManifest([]byte(`{"abi": 2, "functions": [{"name": "Bad-Name", "kind": "window", "args": ["decimal"], "returns": "double"}]}`))
	for _, want := range []string{"abi 2 is not supported", "lower-case identifier", `kind "window"`, `unknown type "decimal"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("manifest error %v lacks %q", err, want)
		}
	}
	if _, err := ReadManifest([]byte("not wasm")); err == nil {
		t.Error("garbage read as a module")
	}
}

// TestAggregateRowErrors: a row an aggregate rejects is skipped and
// reported by its input row, and never resets a group's state (row 9 with
// one group once cleared a bit past the state bitmap).
func TestAggregateRowErrors(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if _, err := h.LoadFile(ctx, "sandbox", testModule(t, "sandbox")); err != nil {
		t.Fatal(err)
	}
	f, _ := h.Lookup("pickysum")
	sb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	sb.AppendNull()
	init := sb.NewBinaryArray()
	sb.Release()
	defer init.Release()
	for _, bad := range []int{0, 9} {
		vals := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
		vals[bad] = -1
		want := int64(55 - (bad + 1))
		in := int64s(mem, vals...)
		st, err := f.Accumulate(ctx, init, make([]int32, len(vals)), []arrow.Array{in}, mem)
		in.Release()
		var be *BatchError
		if !errors.As(err, &be) || len(be.Rows) != 1 || be.Rows[0].Row != bad || be.Rows[0].Msg != "pickysum: negative value" {
			t.Fatalf("bad row %d: error %v", bad, err)
		}
		if st.IsNull(0) {
			t.Fatalf("bad row %d: the group's state was reset to NULL", bad)
		}
		out, err := f.Finish(ctx, st, mem)
		st.Release()
		if err != nil {
			t.Fatal(err)
		}
		if got := out.(*array.Int64).Value(0); got != want {
			t.Errorf("bad row %d: sum %d, want %d", bad, got, want)
		}
		out.Release()
	}
}

// TestTypesRoundTrip sends every ABI type through an identity function:
// random values with NULLs, batches of 0, 1, 7 and 5000 rows, and slices
// starting at odd offsets (bitmaps not byte-aligned, offsets not at 0).
func TestTypesRoundTrip(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h, err := New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	if _, err := h.LoadFile(ctx, "types", testModule(t, "types")); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		fn  string
		typ arrow.DataType
		gen func(b array.Builder)
	}{
		{"id_boolean", arrow.FixedWidthTypes.Boolean, func(b array.Builder) { b.(*array.BooleanBuilder).Append(rng.IntN(2) == 1) }},
		{"id_integer", arrow.PrimitiveTypes.Int32, func(b array.Builder) { b.(*array.Int32Builder).Append(rng.Int32() - 1<<30) }},
		{"id_bigint", arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.(*array.Int64Builder).Append(rng.Int64() - 1<<62) }},
		{"id_double", arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(rng.NormFloat64() * 1e6) }},
		{"id_varchar", arrow.BinaryTypes.String, func(b array.Builder) {
			b.(*array.StringBuilder).Append(strings.Repeat("é", rng.IntN(5)) + fmt.Sprint(rng.IntN(1000)))
		}},
		{"id_bytea", arrow.BinaryTypes.Binary, func(b array.Builder) {
			v := make([]byte, rng.IntN(9))
			for i := range v {
				v[i] = byte(rng.IntN(256))
			}
			b.(*array.BinaryBuilder).Append(v)
		}},
		{"id_timestamp", &arrow.TimestampType{Unit: arrow.Microsecond}, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64N(4e15)))
		}},
	} {
		for _, n := range []int{0, 1, 7, 5000} {
			for _, off := range []int{0, 3} {
				t.Run(fmt.Sprintf("%s/rows=%d/offset=%d", tc.fn, n, off), func(t *testing.T) {
					b := array.NewBuilder(mem, tc.typ)
					for i := 0; i < n+off; i++ {
						if rng.IntN(5) == 0 {
							b.AppendNull()
						} else {
							tc.gen(b)
						}
					}
					whole := b.NewArray()
					b.Release()
					in := array.NewSlice(whole, int64(min(off, whole.Len())), int64(whole.Len()))
					whole.Release()
					defer in.Release()
					out, err := h.Call(ctx, tc.fn, []arrow.Array{in}, mem)
					if err != nil {
						t.Fatal(err)
					}
					defer out.Release()
					if !array.Equal(in, out) {
						t.Errorf("%s changed its input:\n in %v\nout %v", tc.fn, in, out)
					}
				})
			}
		}
	}
}

// TestLateNulls: a NULL after many valid rows of a varchar result (the
// validity bitmap grows lazily in the SDKs) in every language.
func TestLateNulls(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, lang := range Langs {
		t.Run(lang, func(t *testing.T) {
			h, err := New(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			if _, err := h.LoadFile(ctx, "demo", buildDemo(t, lang)); err != nil {
				t.Fatal(err)
			}
			b := array.NewStringBuilder(mem)
			for i := 0; i < 100; i++ {
				if i == 50 || i == 99 {
					b.AppendNull()
				} else {
					b.Append("ab")
				}
			}
			in := b.NewArray()
			b.Release()
			defer in.Release()
			out, err := h.Call(ctx, "shout", []arrow.Array{in}, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			for i := 0; i < 100; i++ {
				if want := i == 50 || i == 99; out.IsNull(i) != want {
					t.Fatalf("row %d: null %v, want %v", i, out.IsNull(i), want)
				}
			}
		})
	}
}
