package udf

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/stratadb/strata/internal/testutil"
)

var (
	instrumentMu   sync.Mutex
	instrumentMods = map[string][]byte{}
)

// instrumentInput returns the bytes of testdata/sandbox (name "sandbox") or
// of a language's demo, built once per test binary. A missing toolchain
// skips t (fails under STRATA_CI=1).
func instrumentInput(t testing.TB, name string) []byte {
	t.Helper()
	instrumentMu.Lock()
	defer instrumentMu.Unlock()
	if w, ok := instrumentMods[name]; ok {
		return w
	}
	var path string
	if name == "sandbox" {
		path = testModule(t, "sandbox")
	} else {
		path = buildDemo(t, name)
	}
	w, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	instrumentMods[name] = w
	return w
}

// allFeatures is every feature wazero v1.12 decodes, experimental ones
// included, so that hand-made modules using them compile.
const allFeatures = api.CoreFeaturesV2 | experimental.CoreFeaturesThreads | experimental.CoreFeaturesTailCall |
	experimental.CoreFeaturesExtendedConst | experimental.CoreFeaturesExceptionHandling |
	experimental.CoreFeaturesTypedFunctionReferences

// TestInstrumentModules instruments the module of each SDK's demo and the
// sandbox module, checks the rewrite byte for byte (checkInstrumented),
// that wazero compiles the result, and that the demo functions give the
// same results as uninstrumented (the assertions of TestSDKDemo).
func TestInstrumentModules(t *testing.T) {
	for _, name := range append([]string{"sandbox"}, Langs...) {
		t.Run("module="+name, func(t *testing.T) {
			ctx := context.Background()
			in := instrumentInput(t, name)
			orig := bytes.Clone(in)
			out, export, err := instrumentInterrupts(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatal("instrumentInterrupts modified its input")
			}
			if export != interruptExport {
				t.Errorf("export %q, want %q", export, interruptExport)
			}
			loops := checkInstrumented(t, in, out)
			t.Logf("%d loops instrumented; %d -> %d bytes", loops, len(in), len(out))
			if loops == 0 {
				t.Error("no loops: the module cannot exercise the rewriter")
			}

			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
			defer rt.Close(ctx)
			if _, err := rt.CompileModule(ctx, out); err != nil {
				t.Fatalf("wazero refuses the instrumented module: %v", err)
			}

			h, err := New(ctx, WithInterruptChecks(false))
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(ctx)
			m, err := h.Load(ctx, name, name+".wasm", out)
			if err != nil {
				t.Fatal(err)
			}
			if g := idleInterrupt(t, m); g.Type() != api.ValueTypeI32 || g.Get() != 0 {
				t.Fatalf("export %s: %v, want an i32 holding 0", interruptExport, g)
			}
			if name == "sandbox" {
				mem := testutil.Alloc(t)
				in := int64s(mem, 7, 0, 42)
				defer in.Release()
				for _, fn := range []string{"spin", "trap"} {
					res, err := h.Call(ctx, fn, []arrow.Array{in}, mem)
					if err != nil {
						t.Fatalf("%s: %v", fn, err)
					}
					if got := res.(*array.Int64).Int64Values(); !slicesEqual(got, []int64{7, 0, 42}) {
						t.Errorf("%s(7, 0, 42) = %v", fn, got)
					}
					res.Release()
				}
				return
			}
			t.Run("func=double_it", func(t *testing.T) { testDemoDoubleIt(t, h) })
			t.Run("func=shout", func(t *testing.T) { testDemoShout(t, h) })
			t.Run("func=words", func(t *testing.T) { testDemoWords(t, h) })
			t.Run("func=mean", func(t *testing.T) { testDemoMean(t, h) })
		})
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// idleInterrupt returns the interrupt flag of the one idle instance Load
// leaves in m's pool: the instance the next call borrows.
func idleInterrupt(t *testing.T, m *Module) api.MutableGlobal {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.idle) != 1 {
		t.Fatalf("%d idle instances after Load, want 1", len(m.idle))
	}
	g, ok := m.idle[0].mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if !ok {
		t.Fatalf("the instance does not export the mutable global %s", interruptExport)
	}
	return g
}

// TestInstrumentInterrupt: setting the global stops a runaway loop. The
// host runs without wazero's own checks, so nothing else could stop it.
// Before it sets the global, the setter collects garbage: that stops the
// world, which the spinning guest allows only because the checks call into
// Go now and then. With a bare flag check this test hangs (until go test's
// -timeout) every time.
func TestInstrumentInterrupt(t *testing.T) {
	ctx := context.Background()
	mem := testutil.Alloc(t)
	wasm, export, err := instrumentInterrupts(instrumentInput(t, "sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(ctx, WithInterruptChecks(false))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	m, err := h.Load(ctx, "sandbox", "sandbox.wasm", wasm)
	if err != nil {
		t.Fatal(err)
	}
	if export != interruptExport {
		t.Fatalf("export %q", export)
	}
	flag := idleInterrupt(t, m)

	const after = 100 * time.Millisecond
	set := make(chan time.Time, 1)
	go func() {
		time.Sleep(after)
		start := time.Now()
		runtime.GC()
		t.Logf("a garbage collection took %s while the guest spun", time.Since(start))
		set <- time.Now()
		flag.Set(1)
	}()
	in := int64s(mem, 3, -1)
	defer in.Release()
	type outcome struct {
		res arrow.Array
		err error
		at  time.Time
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := h.Call(ctx, "spin", []arrow.Array{in}, mem)
		done <- outcome{res, err, time.Now()}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(10 * time.Second):
		// The guest spins on; the test binary ends it.
		t.Fatal("spin(-1) still runs 10s after the interrupt was set")
	}
	if o.res != nil {
		o.res.Release()
		t.Fatal("spin(-1) returned a result")
	}
	setAt := <-set
	var ce *CallError
	if !errors.As(o.err, &ce) || !errors.Is(o.err, ErrTrap) || !strings.Contains(o.err.Error(), "unreachable") {
		t.Fatalf("spin(-1): %v, want a trap at unreachable", o.err)
	}
	lag := o.at.Sub(setAt)
	t.Logf("interrupted %s after the global was set: %v", lag, o.err)
	if lag > 100*time.Millisecond {
		t.Errorf("the call ended %s after the interrupt, want under 100ms", lag)
	}

	// The trapped instance was discarded; a new one starts clear.
	good := int64s(mem, 5)
	defer good.Release()
	res, err := h.Call(ctx, "spin", []arrow.Array{good}, mem)
	if err != nil {
		t.Fatalf("after the interrupt, spin(5): %v", err)
	}
	defer res.Release()
	if v := res.(*array.Int64).Value(0); v != 5 {
		t.Errorf("after the interrupt, spin(5) = %d", v)
	}
}

// checkInstrumented checks that out is in with exactly the rewrite
// promised, and returns the number of loops:
//   - every section but global, export and code is unchanged and in the
//     same order, custom sections included;
//   - two mutable i32 globals, $interrupt = 0 and $fuel = 65536, are
//     defined last, and $interrupt is exported last as strata_interrupt;
//   - each function body of out, once the check is removed after every
//     loop head, is the body of in; every loop head of out is followed by
//     the check, and there are as many loops as in in.
func checkInstrumented(t testing.TB, in, out []byte) int {
	t.Helper()
	a, err := scanModule(in)
	if err != nil {
		t.Fatalf("input: %v", err)
	}
	b, err := scanModule(out)
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	kept := func(wasm []byte, m *wasmLayout) (ids []byte, secs [][]byte) {
		for _, s := range m.sections {
			ids = append(ids, s.id)
			if s.id != secGlobal && s.id != secExport && s.id != secCode {
				secs = append(secs, wasm[s.start:s.end])
			}
		}
		return ids, secs
	}
	ida, sa := kept(in, a)
	idb, sb := kept(out, b)
	if len(sa) != len(sb) {
		t.Fatalf("sections %v became %v", ida, idb)
	}
	for i := range sa {
		if !bytes.Equal(sa[i], sb[i]) {
			t.Fatalf("section %d of %v changed", i, ida)
		}
	}

	g := a.importedGlobals + a.definedGlobals
	if b.importedGlobals != a.importedGlobals || b.definedGlobals != a.definedGlobals+2 {
		t.Fatalf("globals: %d imported + %d defined became %d + %d", a.importedGlobals, a.definedGlobals, b.importedGlobals, b.definedGlobals)
	}
	sec := func(m *wasmLayout, id byte) section {
		for _, s := range m.sections {
			if s.id == id {
				return s
			}
		}
		t.Fatalf("no section %d", id)
		return section{}
	}
	newGlobals := []byte{
		0x7f, 0x01, 0x41, 0x00, 0x0b, // (global $interrupt (mut i32) (i32.const 0))
		0x7f, 0x01, 0x41, 0x80, 0x80, 0x04, 0x0b, // (global $fuel (mut i32) (i32.const 65536))
	}
	if gs := sec(b, secGlobal); !bytes.HasSuffix(out[gs.start:gs.end], newGlobals) {
		t.Fatalf("the global section does not end with $interrupt and $fuel: % x", out[gs.start:gs.end])
	}
	wantExport := binary.AppendUvarint(append(binary.AppendUvarint(nil, uint64(len(interruptExport))), interruptExport...), externGlobal)
	wantExport = binary.AppendUvarint(wantExport, uint64(g))
	if es := sec(b, secExport); b.exports != a.exports+1 || !bytes.HasSuffix(out[es.start:es.end], wantExport) {
		t.Fatalf("the export section does not end with strata_interrupt -> global %d", g)
	}

	check := interruptCheck(g, g+1) // its bytes: TestInstrumentCheck
	if len(a.bodies) != len(b.bodies) || a.loops != b.loops {
		t.Fatalf("%d bodies with %d loops became %d with %d", len(a.bodies), a.loops, len(b.bodies), b.loops)
	}
	for i, fb := range b.bodies {
		var stripped []byte
		p := fb.start
		for _, at := range fb.loops {
			if !bytes.HasPrefix(out[at:fb.end], check) {
				t.Fatalf("function %d: the loop head at byte 0x%x is not followed by the check % x", fb.index, at, check)
			}
			stripped = append(stripped, out[p:at]...)
			p = at + len(check)
		}
		stripped = append(stripped, out[p:fb.end]...)
		if want := in[a.bodies[i].start:a.bodies[i].end]; !bytes.Equal(stripped, want) {
			t.Fatalf("function %d: without its checks the body differs from the input's", fb.index)
		}
	}
	return a.loops
}

// TestInstrumentCheck: the code put at the head of each loop, byte for
// byte (see the top of instrument.go).
func TestInstrumentCheck(t *testing.T) {
	want := []byte{
		0x23, 0x02, // global.get $fuel
		0x41, 0x01, // i32.const 1
		0x6b,       // i32.sub
		0x24, 0x02, // global.set $fuel
		0x23, 0x02, // global.get $fuel
		0x45,       // i32.eqz
		0x04, 0x40, // if
		0x41, 0x00, //   i32.const 0
		0x40, 0x00, //   memory.grow 0
		0x1a,       //   drop
		0x23, 0x01, //   global.get $interrupt
		0x04, 0x40, //   if
		0x00,                   //     unreachable
		0x0b,                   //   end
		0x41, 0x80, 0x80, 0x04, // i32.const 65536
		0x24, 0x02, //   global.set $fuel
		0x0b, // end
	}
	if got := interruptCheck(1, 2); !bytes.Equal(got, want) {
		t.Fatalf("interruptCheck(1, 2) = % x, want % x", got, want)
	}
	if got := interruptCheck(200, 201)[:3]; !bytes.Equal(got, []byte{0x23, 0xc9, 0x01}) {
		t.Fatalf("global.get 201 = % x", got)
	}
}

// Helpers that assemble modules by hand.

func wmod(secs ...[]byte) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Join(secs, nil)...)
}

// wsec is a section: id, payload size, payload.
func wsec(id byte, payload ...[]byte) []byte {
	p := bytes.Join(payload, nil)
	return append(binary.AppendUvarint([]byte{id}, uint64(len(p))), p...)
}

// wvec is a vector: count, items.
func wvec(items ...[]byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(items))), bytes.Join(items, nil)...)
}

func wstr(s string) []byte { return append(binary.AppendUvarint(nil, uint64(len(s))), s...) }

// wbody is a function body: size, locals, code.
func wbody(locals []byte, code ...[]byte) []byte {
	b := append(bytes.Clone(locals), bytes.Join(code, nil)...)
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

func wcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Value types.
const (
	tI32, tI64, tV128, tFuncref = 0x7f, 0x7e, 0x7b, 0x70
)

// handModule is a hand-assembled module and the number of loops it has.
type handModule struct {
	name  string
	wasm  []byte
	loops int
}

// handModules exercise every kind of immediate. Immediates are full of the
// byte 0x03 (loop), and loops sit before and after them, so a decoding slip
// shows as a wrong loop count, a check inside an immediate or an invalid
// module.
func handModules() []handModule {
	three16 := bytes.Repeat([]byte{0x03}, 16)
	t0 := []byte{0x60, 0, 0}             // [] -> []
	t1 := []byte{0x60, 1, tI32, 1, tI32} // [i32] -> [i32]
	immediates := wbody(
		[]byte{2, 1, tI64, 2, tV128}, // locals 1 (i64), 2 and 3 (v128)
		[]byte{0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x0e, 0x03, 0x00, 0x01, 0x00, 0x01, 0x0b, 0x0b}, // block loop br_table 0 1 0 1 end end
		[]byte{0x41, 0x03, 0x1a},                                                       // i32.const 3
		[]byte{0x41, 0x83, 0x80, 0x80, 0x80, 0x00, 0x1a},                               // i32.const 3 in 5 bytes
		[]byte{0x42, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a}, // i64.const 3 in 10 bytes
		[]byte{0x43, 3, 3, 3, 3, 0x1a},                                                 // f32.const
		[]byte{0x44, 3, 3, 3, 3, 3, 3, 3, 3, 0x1a},                                     // f64.const
		[]byte{0x41, 0, 0x28, 0x02, 0x03, 0x1a},                                        // i32.load align=4 offset=3
		[]byte{0x41, 0, 0x42, 3, 0x37, 0x03, 0x83, 0x03},                               // i64.store align=8 offset=387
		[]byte{0x3f, 0, 0x1a, 0x41, 3, 0x40, 0, 0x1a},                                  // memory.size, memory.grow
		[]byte{0x20, 0, 0x04, tI32, 0x41, 3, 0x05, 0x41, 4, 0x0b, 0x1a},                // if (result i32) else end
		[]byte{0x02, 0x00, 0x0b},                                                       // block (type 0)
		[]byte{0x41, 3, 0x03, 0x01, 0x0b, 0x1a},                                        // loop (type 1)
		[]byte{0x41, 0, 0x11, 0x00, 0x80, 0x00},                                        // call_indirect (type 0), table 0 in 2 bytes
		[]byte{0x10, 0x00},                                                             // call 0
		[]byte{0xd0, tFuncref, 0xd1, 0x1a},                                             // ref.null func, ref.is_null
		[]byte{0xd2, 0x03, 0x1a},                                                       // ref.func 3
		[]byte{0x41, 3, 0x25, 0, 0x1a},                                                 // table.get 0
		[]byte{0x41, 3, 0xd0, tFuncref, 0x26, 0},                                       // table.set 0
		[]byte{0x41, 1, 0x41, 3, 0x41, 0, 0x1c, 1, tI32, 0x1a},                         // select (result i32)
		[]byte{0x41, 1, 0x41, 3, 0x41, 0, 0x1b, 0x1a},                                  // select
		[]byte{0x23, 0, 0x24, 1},                                                       // global.get 0, global.set 1
		[]byte{0x43, 0, 0, 0x80, 0x3f, 0xfc, 0x00, 0x1a},                               // i32.trunc_sat_f32_s
		[]byte{0x41, 0, 0x41, 3, 0x41, 0, 0xfc, 0x0b, 0},                               // memory.fill
		[]byte{0x41, 0, 0x41, 3, 0x41, 0, 0xfc, 0x0a, 0, 0},                            // memory.copy
		[]byte{0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x08, 0, 0},                            // memory.init 0
		[]byte{0xfc, 0x09, 0},                                                          // data.drop 0
		[]byte{0xfc, 0x10, 0, 0x1a},                                                    // table.size
		[]byte{0xd0, tFuncref, 0x41, 3, 0xfc, 0x0f, 0, 0x1a},                           // table.grow
		[]byte{0x41, 0, 0xd0, tFuncref, 0x41, 0, 0xfc, 0x11, 0},                        // table.fill
		[]byte{0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0e, 0, 0},                            // table.copy
		[]byte{0x41, 0, 0x41, 0, 0x41, 0, 0xfc, 0x0c, 1, 0},                            // table.init 1 0
		[]byte{0xfc, 0x0d, 1},                                                          // elem.drop 1
		wcat([]byte{0xfd, 0x0c}, three16, []byte{0x21, 2}),                             // v128.const
		[]byte{0x20, 2, 0x20, 2, 0xfd, 0x0d, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 31, 0x21, 3}, // i8x16.shuffle
		[]byte{0x20, 3, 0xfd, 0x15, 3, 0x1a},                   // i8x16.extract_lane_s 3
		[]byte{0x20, 3, 0x41, 3, 0xfd, 0x17, 3, 0x21, 3},       // i8x16.replace_lane 3
		[]byte{0x41, 0, 0xfd, 0x00, 4, 3, 0x21, 2},             // v128.load offset=3
		[]byte{0x41, 0, 0x20, 2, 0xfd, 0x54, 0, 3, 3, 0x21, 2}, // v128.load8_lane offset=3 lane 3
		[]byte{0x41, 0, 0x20, 2, 0xfd, 0x0b, 4, 3},             // v128.store offset=3
		[]byte{0x41, 0, 0xfd, 0x5c, 2, 3, 0x21, 2},             // v128.load32_zero offset=3
		[]byte{0x20, 2, 0xfd, 0x60, 0x21, 2},                   // i8x16.abs
		[]byte{0x20, 2, 0xfd, 0xff, 0x01, 0x21, 2},             // f64x2.convert_low_i32x4_u (0xff: 2 bytes)
		[]byte{0x20, 2, 0x20, 3, 0xfd, 0x6e, 0x21, 2},          // i8x16.add
		[]byte{0x42, 3, 0x21, 1},                               // i64.const 3
		[]byte{0x03, 0x40, 0x0b},                               // loop
		[]byte{0x20, 0, 0x0b},                                  // local.get 0, end
	)
	nested := wbody([]byte{0}, // loop loop loop (result v128) v128.const end drop end end
		wcat([]byte{0x03, 0x40, 0x03, 0x40, 0x03, tV128, 0xfd, 0x0c}, three16, []byte{0x0b, 0x1a, 0x0b, 0x0b, 0x0b}))
	v2 := wmod(
		wsec(1, wvec(t0, t1)),
		wsec(0, wstr("before imports"), []byte{0x03, 0x40, 0x0b}),
		wsec(2, wvec(
			wcat(wstr("env"), wstr("f"), []byte{0x00, 0}),       // func 0
			wcat(wstr("env"), wstr("g"), []byte{0x03, tI32, 0}), // global 0
		)),
		wsec(3, wvec([]byte{1}, []byte{0}, []byte{0})), // funcs 1, 2, 3
		wsec(4, wvec([]byte{tFuncref, 0, 2})),
		wsec(5, wvec([]byte{0, 1})),
		wsec(6, wvec([]byte{tI32, 1, 0x41, 0, 0x0b})), // global 1
		wsec(7, wvec(wcat(wstr("immediates"), []byte{0, 1}), wcat(wstr("memory"), []byte{2, 0}))),
		wsec(9, wvec(
			[]byte{3, 0, 1, 3}, // declarative: func 3 (for ref.func)
			[]byte{1, 0, 1, 3}, // passive: func 3 (for table.init)
		)),
		wsec(12, []byte{1}),
		wsec(10, wvec(immediates, nested, wbody([]byte{0}, []byte{0x0b}))),
		wsec(11, wvec(wcat([]byte{1}, wstr("x")))),
		wsec(0, wstr("after data"), three16),
	)

	// No global or export section: both are created, before the code.
	tailCalls := wmod(
		wsec(1, wvec(t0)),
		wsec(3, wvec([]byte{0}, []byte{0})),
		wsec(4, wvec([]byte{tFuncref, 0, 1})),
		wsec(5, wvec([]byte{0, 0})),
		wsec(10, wvec(
			wbody([]byte{0}, []byte{0x03, 0x40, 0x0b, 0x12, 0x00, 0x0b}), // loop end return_call 0
			wbody([]byte{0}, []byte{0x41, 0x03, 0x13, 0x00, 0x00, 0x0b}), // return_call_indirect
		)),
	)
	// A tag section (between memory and global) and a custom section after
	// it: the new global section goes after both. The memory is imported.
	exceptions := wmod(
		wsec(1, wvec(t0)),
		wsec(2, wvec(wcat(wstr("env"), wstr("memory"), []byte{0x02, 0, 0}))),
		wsec(3, wvec([]byte{0})),
		wsec(13, wvec([]byte{0, 0})),
		wsec(0, wstr("after tags"), []byte{0x03}),
		wsec(10, wvec(wbody([]byte{0},
			// block try_table (catch 0 0) loop throw 0 end end end
			[]byte{0x02, 0x40, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x40, 0x08, 0x00, 0x0b, 0x0b, 0x0b, 0x0b}))),
	)
	threads := wmod(
		wsec(1, wvec(t0)),
		wsec(3, wvec([]byte{0})),
		wsec(5, wvec([]byte{0x03, 1, 1})), // shared, min 1, max 1
		wsec(10, wvec(wbody([]byte{0},
			[]byte{0x41, 0, 0xfe, 0x10, 0x02, 0x03, 0x1a},          // i32.atomic.load offset=3
			[]byte{0xfe, 0x03, 0x00},                               // atomic.fence
			[]byte{0x41, 0, 0x41, 3, 0xfe, 0x00, 0x02, 0x03, 0x1a}, // memory.atomic.notify offset=3
			[]byte{0x03, 0x40, 0x0b, 0x0b}))),
	)
	funcRefs := wmod(
		wsec(1, wvec(t0)),
		wsec(3, wvec([]byte{0})),
		wsec(5, wvec([]byte{0, 0})),
		wsec(9, wvec([]byte{3, 0, 1, 0})), // declarative: func 0
		wsec(10, wvec(wbody([]byte{1, 1, 0x63, 0x00}, // local 0: (ref null 0)
			[]byte{0xd2, 0x00, 0x21, 0x00},       // ref.func 0, local.set 0
			[]byte{0x03, 0x40, 0x0b},             // loop
			[]byte{0x20, 0x00, 0xd4, 0x14, 0x00}, // local.get 0, ref.as_non_null, call_ref 0
			[]byte{0x0b}))),
	)
	return []handModule{
		{"v2", v2, 6},
		{"tail-calls", tailCalls, 1},
		{"exceptions", exceptions, 1},
		{"threads", threads, 1},
		{"function-references", funcRefs, 1},
	}
}

// TestInstrumentOpcodes instruments hand-made modules that use every kind
// of immediate, and checks the loop count, the rewrite, and that wazero
// compiles both the input (so the module is right) and the output.
func TestInstrumentOpcodes(t *testing.T) {
	ctx := context.Background()
	for _, tc := range handModules() {
		t.Run("module="+tc.name, func(t *testing.T) {
			t.Parallel()
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(allFeatures))
			defer rt.Close(ctx)
			if _, err := rt.CompileModule(ctx, tc.wasm); err != nil {
				t.Fatalf("the hand-made module is wrong: %v", err)
			}
			out, _, err := instrumentInterrupts(tc.wasm)
			if err != nil {
				t.Fatal(err)
			}
			if got := checkInstrumented(t, tc.wasm, out); got != tc.loops {
				t.Errorf("%d loops found, the module has %d", got, tc.loops)
			}
			if _, err := rt.CompileModule(ctx, out); err != nil {
				t.Fatalf("wazero refuses the instrumented module: %v", err)
			}
		})
	}
}

// TestInstrumentErrors: what the rewriter refuses, and how it says so.
func TestInstrumentErrors(t *testing.T) {
	t0 := wsec(1, wvec([]byte{0x60, 0, 0}))
	importF := wsec(2, wvec(wcat(wstr("env"), wstr("f"), []byte{0x00, 0})))
	oneFunc := wsec(3, wvec([]byte{0}))
	// withCode makes a module with one function (index 1, after an
	// import) whose body is code, and returns where the code starts.
	withCode := func(code ...byte) ([]byte, int) {
		w := wmod(t0, importF, oneFunc, wsec(10, wvec(wbody([]byte{0}, code))))
		return w, len(w) - len(code)
	}
	for _, tc := range []struct {
		name string
		wasm []byte
		want string
	}{
		{name: "not-wasm", wasm: []byte("\x00asn\x01\x00\x00\x00"), want: "not a WebAssembly module (bad magic or version)"},
		{name: "gc-opcode", want: "function 1 at byte 0x%x: unknown opcode 0xfb"},
		{name: "simd-gap", want: "function 1 at byte 0x%x: unknown opcode 0xfd 0x9a"},
		{name: "misc-18", want: "function 1 at byte 0x%x: unknown opcode 0xfc 0x12"},
		{name: "atomic-gap", want: "function 1 at byte 0x%x: unknown opcode 0xfe 0x04"},
		{name: "truncated-immediate", want: "function 1 at byte 0x%x: truncated"},
		{name: "long-leb", want: "function 1 at byte 0x%x: integer too long"},
		{name: "block-type", want: "function 1 at byte 0x%x: unknown block type"},
		{name: "catch-kind", want: "function 1 at byte 0x%x: unknown catch kind 0x04"},
		{name: "body-overrun", wasm: wmod(t0, oneFunc, wsec(10, []byte{1, 9, 0, 0x0b})), want: "function 0 at byte 0x16: body of 9 bytes overruns the section"},
		{name: "bad-locals", wasm: wmod(t0, oneFunc, wsec(10, wvec(wbody([]byte{1, 1, 0x55}, []byte{0x0b})))), want: "function 0 at byte 0x16: bad locals: unknown value type 0x55"},
		{name: "order", wasm: wmod(t0, wsec(7, wvec()), wsec(6, wvec())), want: "section id 6 at byte 0x11 is out of order or repeated"},
		{name: "repeated", wasm: wmod(t0, t0), want: "section id 1 at byte 0xe is out of order or repeated"},
		{name: "unknown-section", wasm: wmod(wsec(14, nil)), want: "unknown section id 14 at byte 0x8"},
		{name: "import-kind", wasm: wmod(wsec(2, wvec(wcat(wstr("a"), wstr("b"), []byte{0x05})))), want: "import section: unknown import kind 0x05"},
		{name: "export-trailing", wasm: wmod(wsec(7, wvec(), []byte{0})), want: "export section: 1 unexpected bytes at byte 0xb"},
		{name: "exported", wasm: wmod(wsec(7, wvec(wcat(wstr(interruptExport), []byte{0, 0})))), want: "the module already exports strata_interrupt"},
		{name: "no-memory", wasm: wmod(t0, oneFunc, wsec(10, wvec(wbody([]byte{0}, []byte{0x03, 0x40, 0x0b, 0x0b})))), want: "the module has no memory (the loop checks call memory.grow to yield to the host)"},
		{name: "imported", wasm: wmod(wsec(2, wvec(wcat(wstr("env"), wstr(interruptExport), []byte{0x03, tI32, 1})))), want: "the module imports a global named strata_interrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, want := tc.wasm, tc.want
			if w == nil {
				bad := map[string][]byte{
					"gc-opcode":           {0x03, 0x40, 0x0b, 0xfb, 0x00},
					"simd-gap":            {0xfd, 0x9a, 0x01},
					"misc-18":             {0xfc, 0x12},
					"atomic-gap":          {0xfe, 0x04},
					"truncated-immediate": {0x41},
					"long-leb":            {0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
					"block-type":          {0x02, 0x60},
					"catch-kind":          {0x1f, 0x40, 0x01, 0x04},
				}[tc.name]
				var at int
				w, at = withCode(bad...)
				if tc.name == "gc-opcode" {
					at += 3 // after the loop
				}
				want = fmt.Sprintf(want, at)
			}
			_, _, err := instrumentInterrupts(w)
			if err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
}

// TestInstrumentTwice: an instrumented module is refused a second time.
func TestInstrumentTwice(t *testing.T) {
	out, _, err := instrumentInterrupts(handModules()[0].wasm)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := instrumentInterrupts(out); err == nil || !strings.Contains(err.Error(), "already exports strata_interrupt") {
		t.Fatalf("instrumenting twice: %v", err)
	}
}

// skipProbe is a testing.TB whose Skip does not end the test: it lets a
// fuzz target ask buildDemo for a module without being skipped when that
// language's toolchain is missing.
type skipProbe struct{ testing.TB }

type skipped struct{}

func (skipProbe) Skip(...any)          { panic(skipped{}) }
func (skipProbe) Skipf(string, ...any) { panic(skipped{}) }
func (skipProbe) SkipNow()             { panic(skipped{}) }

// tryInput is instrumentInput, or nil where the toolchain is missing.
func tryInput(tb testing.TB, name string) (w []byte) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(skipped); !ok {
				panic(r)
			}
			w = nil
		}
	}()
	return instrumentInput(skipProbe{tb}, name)
}

// FuzzInstrument feeds the rewriter the C, Rust and AssemblyScript demo
// modules, the hand-made ones and mutations of them. Properties:
//   - it never panics (errors are fine);
//   - what it returns passes checkInstrumented (the rewrite exactly);
//   - it refuses its own output (the export exists);
//   - when wazero accepts the input, it accepts the output.
//
// wazero runs as the interpreter here: validation is the same as the
// compiler's, and much faster on large mutated inputs.
func FuzzInstrument(f *testing.F) {
	// Not the Go modules (2 MB each: the fuzzer crawls on inputs that
	// big); TestInstrumentModules covers them.
	for _, name := range Langs {
		if name == "go" {
			continue
		}
		if w := tryInput(f, name); w != nil {
			f.Add(w)
		}
	}
	for _, m := range handModules() {
		f.Add(m.wasm)
	}
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(allFeatures)
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := instrumentInterrupts(in)
		if err != nil {
			return
		}
		checkInstrumented(t, in, out)
		if _, _, err := instrumentInterrupts(out); err == nil {
			t.Fatal("the rewriter accepts its own output")
		}
		rt := wazero.NewRuntimeWithConfig(ctx, cfg)
		defer rt.Close(ctx)
		if _, err := rt.CompileModule(ctx, in); err != nil {
			return
		}
		if _, err := rt.CompileModule(ctx, out); err != nil {
			t.Fatalf("wazero accepts the input but not the output: %v", err)
		}
	})
}

// BenchmarkInstrumentedLoop is what the loop checks of instrumentInterrupts
// cost, next to BenchmarkInterruptChecks (wazero's close-on-context-done):
// double_it over 4096 rows, the host's own checks off, the module as built
// (checks=none) and instrumented (checks=global).
//
//	go test ./udf -run '^$' -bench InstrumentedLoop/lang=c -benchtime 3000x -count 3
func BenchmarkInstrumentedLoop(b *testing.B) {
	mem := memory.NewGoAllocator()
	ctx := context.Background()
	in := benchDoubles(mem, 4096)
	defer in.Release()
	for _, lang := range Langs {
		for _, checks := range []string{"none", "global"} {
			b.Run(fmt.Sprintf("lang=%s/checks=%s", lang, checks), func(b *testing.B) {
				wasm := benchModule(b, lang)
				if checks == "global" {
					var err error
					if wasm, _, err = instrumentInterrupts(wasm); err != nil {
						b.Fatal(err)
					}
				}
				h, err := New(ctx, WithInterruptChecks(false))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { h.Close(ctx) })
				if _, err := h.Load(ctx, "demo", lang+".wasm", wasm); err != nil {
					b.Fatal(err)
				}
				f, _ := h.Lookup("double_it")
				args := []arrow.Array{in}
				b.ReportAllocs()
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
