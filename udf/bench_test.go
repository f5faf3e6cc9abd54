package udf

import (
	"context"
	"fmt"
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

// Benchmarks of the UDF ABI (see the note of the WASM UDF issue):
//
//	go test ./udf -run '^$' -bench . -benchtime 2000x
//
// ns/row is the cost per input row; native is the same function written
// in Go over the same Arrow arrays, measured in the same run.

var (
	benchMu   sync.Mutex
	benchMods = map[string][]byte{}
)

// benchModule builds lang's demo once per benchmark binary.
func benchModule(b *testing.B, lang string) []byte {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if w, ok := benchMods[lang]; ok {
		return w
	}
	dir, err := os.MkdirTemp("", "strata-udf-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "demo.wasm")
	if err := Build(context.Background(), filepath.Join("sdk", sdkDirs[lang], "examples", "demo"), out, demoOptions(b, lang)); err != nil {
		b.Fatal(err)
	}
	w, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	benchMods[lang] = w
	return w
}

func benchHost(b *testing.B, lang string, opts ...Option) *Host {
	b.Helper()
	ctx := context.Background()
	h, err := New(ctx, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(ctx) })
	if _, err := h.Load(ctx, "demo", lang+".wasm", benchModule(b, lang)); err != nil {
		b.Fatal(err)
	}
	return h
}

func benchDoubles(mem memory.Allocator, n int) arrow.Array {
	bld := array.NewFloat64Builder(mem)
	defer bld.Release()
	for i := 0; i < n; i++ {
		if i%10 == 9 {
			bld.AppendNull()
		} else {
			bld.Append(float64(i) * 0.5)
		}
	}
	return bld.NewArray()
}

func benchStrings(mem memory.Allocator, n int) arrow.Array {
	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	for i := 0; i < n; i++ {
		bld.Append(fmt.Sprintf("hello world %d", i))
	}
	return bld.NewArray()
}

// nativeDouble is double_it in Go: the validity bitmap shared, the values
// computed into a new buffer.
func nativeDouble(mem memory.Allocator, a *array.Float64) arrow.Array {
	n := a.Len()
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(8 * n)
	out := arrow.Float64Traits.CastFromBytes(buf.Bytes())
	for i, x := range a.Float64Values() {
		out[i] = x * 2
	}
	var valid *memory.Buffer
	if vb := a.Data().Buffers()[0]; vb != nil && a.NullN() > 0 {
		valid = vb
		valid.Retain()
	}
	d := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{valid, buf}, nil, a.NullN(), 0)
	defer d.Release()
	if valid != nil {
		valid.Release()
	}
	buf.Release()
	return array.NewFloat64Data(d)
}

// nativeShout is shout in Go: ASCII upper case plus "!".
func nativeShout(mem memory.Allocator, a *array.String) arrow.Array {
	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	bld.Reserve(a.Len())
	bld.ReserveData(len(a.ValueBytes()) + a.Len())
	var tmp []byte
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			bld.AppendNull()
			continue
		}
		tmp = append(tmp[:0], a.Value(i)...)
		for j, c := range tmp {
			if 'a' <= c && c <= 'z' {
				tmp[j] = c - 'a' + 'A'
			}
		}
		bld.BinaryBuilder.Append(append(tmp, '!'))
	}
	return bld.NewArray()
}

var batchSizes = []int{1, 64, 1024, 4096}

// BenchmarkScalar compares each language's double_it and shout with
// native Go at several batch sizes.
func BenchmarkScalar(b *testing.B) {
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	for _, fn := range []string{"double_it", "shout"} {
		for _, n := range batchSizes {
			var in arrow.Array
			if fn == "double_it" {
				in = benchDoubles(mem, n)
			} else {
				in = benchStrings(mem, n)
			}
			b.Run(fmt.Sprintf("fn=%s/batch=%d/impl=native", fn, n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					var out arrow.Array
					if fn == "double_it" {
						out = nativeDouble(mem, in.(*array.Float64))
					} else {
						out = nativeShout(mem, in.(*array.String))
					}
					out.Release()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
			})
			for _, lang := range Langs {
				b.Run(fmt.Sprintf("fn=%s/batch=%d/impl=%s", fn, n, lang), func(b *testing.B) {
					h := benchHost(b, lang)
					f, _ := h.Lookup(fn)
					args := []arrow.Array{in}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						out, err := f.Call(ctx, args, mem)
						if err != nil {
							b.Fatal(err)
						}
						out.Release()
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
				})
			}
			in.Release()
		}
	}
}

// BenchmarkInterruptChecks measures what enforceable deadlines cost:
// wazero's close-on-context-done check in every loop, on and off.
func BenchmarkInterruptChecks(b *testing.B) {
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	in := benchDoubles(mem, 4096)
	defer in.Release()
	for _, lang := range Langs {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("lang=%s/checks=%v", lang, on), func(b *testing.B) {
				h := benchHost(b, lang, WithInterruptChecks(on))
				f, _ := h.Lookup("double_it")
				args := []arrow.Array{in}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					out, err := f.Call(ctx, args, mem)
					if err != nil {
						b.Fatal(err)
					}
					out.Release()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/row")
			})
		}
	}
}

// BenchmarkAggregate folds 4096 rows into 64 groups with the retractable
// mean: accumulate then retract, per row.
func BenchmarkAggregate(b *testing.B) {
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	const n, g = 4096, 64
	in := benchDoubles(mem, n)
	defer in.Release()
	groups := make([]int32, n)
	for i := range groups {
		groups[i] = int32(i % g)
	}
	sb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	for i := 0; i < g; i++ {
		sb.AppendNull()
	}
	init := sb.NewBinaryArray()
	sb.Release()
	defer init.Release()
	for _, lang := range Langs {
		b.Run("lang="+lang, func(b *testing.B) {
			h := benchHost(b, lang)
			f, _ := h.Lookup("mean")
			args := []arrow.Array{in}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := f.Accumulate(ctx, init, groups, args, mem)
				if err != nil {
					b.Fatal(err)
				}
				st.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}

// BenchmarkLoad measures getting a module ready: compiling it, loading it
// from the on-disk cache, and a new pooled instance.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	for _, lang := range Langs {
		wasm := benchModule(b, lang)
		b.Run("lang="+lang+"/compile", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h, err := New(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.Load(ctx, "demo", "demo.wasm", wasm); err != nil {
					b.Fatal(err)
				}
				h.Close(ctx)
			}
		})
		b.Run("lang="+lang+"/cached", func(b *testing.B) {
			dir := b.TempDir()
			warm, _ := New(ctx, WithCacheDir(dir))
			if _, err := warm.Load(ctx, "demo", "demo.wasm", wasm); err != nil {
				b.Fatal(err)
			}
			warm.Close(ctx)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h, err := New(ctx, WithCacheDir(dir))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.Load(ctx, "demo", "demo.wasm", wasm); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				h.Close(ctx)
				b.StartTimer()
			}
		})
		b.Run("lang="+lang+"/instance", func(b *testing.B) {
			h := benchHost(b, lang)
			f, _ := h.Lookup("double_it")
			m := f.Module
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				inst, err := m.newInstance(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = inst.mod.Close(ctx)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRunawayStop measures how long after its deadline a runaway
// call stops (the goal: within 100ms), as ms/op of overshoot.
func BenchmarkRunawayStop(b *testing.B) {
	ctx := context.Background()
	mem := memory.NewGoAllocator()
	for _, d := range []time.Duration{50 * time.Millisecond, 200 * time.Millisecond} {
		b.Run("deadline="+d.String(), func(b *testing.B) {
			h, err := New(ctx, WithDeadline(d))
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close(ctx)
			if _, err := h.LoadFile(ctx, "sandbox", testModule(b, "sandbox")); err != nil {
				b.Fatal(err)
			}
			in := int64s(mem, -1)
			defer in.Release()
			var over time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				_, err := h.Call(ctx, "spin", []arrow.Array{in}, mem)
				over += time.Since(start) - d
				if err == nil || !strings.Contains(err.Error(), "deadline") {
					b.Fatalf("spin: %v", err)
				}
			}
			b.ReportMetric(float64(over.Microseconds())/1000/float64(b.N), "ms-over-deadline")
		})
	}
}
