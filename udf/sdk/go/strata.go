//go:build wasip1

// Package strata is the Go SDK for Strata UDFs (ABI v1, docs/udf-abi.md).
//
// Build a module with the standard toolchain:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o fn.wasm .
//
// then `strata udf build` (or udf.EmbedManifest) adds the manifest. Each
// function is a //go:wasmexport func(frame int32) int32 that reads its
// arguments with Input and returns Out(...).Finish(); aggregates export
// NAME_accumulate, NAME_retract, NAME_merge and NAME_finish, for which Fold,
// MergeStates and FinishStates do the state bookkeeping.
//
// Argument columns are views of host-written memory, valid during the call.
// The result is SDK-owned memory reused by the next call: the host copies it
// out before calling again.
package strata

import (
	"unsafe"
)

// Type codes of ABI v1.
const (
	Boolean   = 1
	Int32     = 2
	Int64     = 3
	Double    = 4
	Varchar   = 5
	Bytea     = 6
	Timestamp = 7 // int64 microseconds since 1970-01-01 UTC
)

// pinned keeps host-requested regions alive (Go's collector does not move
// objects, so their addresses stay valid).
var pinned = map[uint32][]byte{}

//go:wasmexport strata_alloc
func strataAlloc(size int32) int32 {
	b := make([]byte, size)
	p := addr(b)
	pinned[p] = b
	return int32(p)
}

//go:wasmexport strata_free
func strataFree(ptr, size int32) { delete(pinned, uint32(ptr)) }

func addr(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func u32(p uint32) uint32 { return *(*uint32)(unsafe.Pointer(uintptr(p))) }

// Frame is the input of one call.
type Frame struct{ p uint32 }

// Input reads the frame the host passed to an exported function.
func Input(frame int32) Frame { return Frame{uint32(frame)} }

// Rows is the number of input rows.
func (f Frame) Rows() int { return int(u32(f.p + 4)) }

// NumArgs is the number of argument columns.
func (f Frame) NumArgs() int { return int(u32(f.p + 8)) }

// Arg returns argument column i.
func (f Frame) Arg(i int) Column { return colAt(f.p + 96 + 32*uint32(i)) }

// NumGroups is the number of aggregate states.
func (f Frame) NumGroups() int { return int(u32(f.p + 12)) }

// Groups returns the state index of each row (aggregates).
func (f Frame) Groups() []int32 {
	p := u32(f.p + 16)
	if p == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(unsafe.Pointer(uintptr(p))), f.Rows())
}

// States returns the aggregate states (bytea, NULL = initial state).
func (f Frame) States() Column { return colAt(f.p + 32) }

// States2 returns the second operand of a merge.
func (f Frame) States2() Column { return colAt(f.p + 64) }

// Column is an Arrow column in guest memory.
type Column struct {
	typ, n, nulls, validity, offsets, values, valuesLen uint32
}

func colAt(p uint32) Column {
	return Column{u32(p), u32(p + 4), u32(p + 8), u32(p + 12), u32(p + 16), u32(p + 20), u32(p + 24)}
}

// Len is the number of rows.
func (c Column) Len() int { return int(c.n) }

// HasNulls reports whether any row is NULL.
func (c Column) HasNulls() bool { return c.validity != 0 && c.nulls > 0 }

// IsNull reports whether row i is NULL.
func (c Column) IsNull(i int) bool {
	if c.validity == 0 {
		return false
	}
	return *(*byte)(unsafe.Pointer(uintptr(c.validity + uint32(i)/8)))&(1<<(i%8)) == 0
}

// Validity is the Arrow validity bitmap, nil when no row is NULL.
func (c Column) Validity() []byte {
	if c.validity == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(c.validity))), (c.n+7)/8)
}

// Float64s views a double column's values.
func (c Column) Float64s() []float64 { return fixed[float64](c) }

// Int64s views a bigint or timestamp column's values.
func (c Column) Int64s() []int64 { return fixed[int64](c) }

// Int32s views an integer column's values.
func (c Column) Int32s() []int32 { return fixed[int32](c) }

func fixed[T any](c Column) []T {
	if c.n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(uintptr(c.values))), c.n)
}

// Bool returns row i of a boolean column.
func (c Column) Bool(i int) bool {
	return *(*byte)(unsafe.Pointer(uintptr(c.values + uint32(i)/8)))&(1<<(i%8)) != 0
}

// Bytes views row i of a varchar or bytea column (valid during the call).
func (c Column) Bytes(i int) []byte {
	lo, hi := u32(c.offsets+4*uint32(i)), u32(c.offsets+4*uint32(i)+4)
	if lo == hi {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(c.values+lo))), hi-lo)
}

// String views row i of a varchar column without copying.
func (c Column) String(i int) string {
	b := c.Bytes(i)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Result is the output under construction. There is one per module,
// reused call after call.
type Result struct {
	desc     [6]uint64 // 48 bytes, 8-aligned
	typ      uint32
	n        int
	validity []byte
	hasNulls bool
	fixed    []uint64 // fixed-width values, 8-aligned
	bits     []byte   // boolean values
	offsets  []int32
	data     []byte
	parents  []int32
	errs     []uint32 // row, ptr, len triples
	msgs     [][]byte
}

var out Result

// Out starts the result of this call: n rows of type typ (for varchar and
// bytea, and for table functions, pass 0 and append).
func Out(typ uint32, n int) *Result {
	r := &out
	r.typ, r.n, r.hasNulls = typ, n, false
	r.validity = grow(r.validity, (n+7)/8)
	for i := range r.validity {
		r.validity[i] = 0xff
	}
	switch typ {
	case Boolean:
		r.bits = grow(r.bits, (n+7)/8)
	case Varchar, Bytea:
		r.offsets = append(r.offsets[:0], 0)
		r.data = r.data[:0]
	default:
		r.fixed = grow(r.fixed, n)
	}
	r.parents = r.parents[:0]
	r.errs = r.errs[:0]
	r.msgs = r.msgs[:0]
	return r
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// Float64s is the double result's values, to fill in.
func (r *Result) Float64s() []float64 { return fixedOut[float64](r) }

// Int64s is the bigint or timestamp result's values.
func (r *Result) Int64s() []int64 { return fixedOut[int64](r) }

// Int32s is the integer result's values.
func (r *Result) Int32s() []int32 { return fixedOut[int32](r) }

func fixedOut[T any](r *Result) []T {
	if r.n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&r.fixed[0])), r.n)
}

// SetBool sets row i of a boolean result.
func (r *Result) SetBool(i int, v bool) {
	if v {
		r.bits[i/8] |= 1 << (i % 8)
	} else {
		r.bits[i/8] &^= 1 << (i % 8)
	}
}

// SetNull makes row i NULL.
func (r *Result) SetNull(i int) {
	r.validity[i/8] &^= 1 << (i % 8)
	r.hasNulls = true
}

// NullWhere makes NULL every row that is NULL in c (NULL in, NULL out).
func (r *Result) NullWhere(c Column) {
	v := c.Validity()
	if v == nil {
		return
	}
	for i := range r.validity {
		r.validity[i] &= v[i]
	}
	r.hasNulls = true
}

// AppendBytes appends a varchar or bytea row (scalar results: in row
// order; table results: after Parent).
func (r *Result) AppendBytes(b []byte) {
	r.data = append(r.data, b...)
	r.offsets = append(r.offsets, int32(len(r.data)))
}

// AppendString appends a varchar row.
func (r *Result) AppendString(s string) {
	r.data = append(r.data, s...)
	r.offsets = append(r.offsets, int32(len(r.data)))
}

// AppendNull appends a NULL varchar or bytea row.
func (r *Result) AppendNull() {
	i := len(r.offsets) - 1
	r.offsets = append(r.offsets, int32(len(r.data)))
	for len(r.validity) <= i/8 {
		r.validity = append(r.validity, 0xff)
	}
	r.SetNull(i)
}

// Emit starts an output row of a table function produced by input row
// parent; append its value right after.
func (r *Result) Emit(parent int) {
	r.parents = append(r.parents, int32(parent))
	if n := len(r.parents); len(r.validity) < (n+7)/8 {
		r.validity = append(r.validity, 0xff)
	}
	if r.typ != Varchar && r.typ != Bytea {
		r.n = len(r.parents)
		if r.typ == Boolean {
			if len(r.bits) < (r.n+7)/8 {
				r.bits = append(r.bits, 0)
			}
		} else {
			r.fixed = append(r.fixed[:r.n-1], 0)
		}
	}
}

// Error reports that input row i failed with msg. A scalar's row i becomes
// NULL; the engine applies the UDF's error policy.
func (r *Result) Error(row int, msg string) {
	b := []byte(msg)
	r.msgs = append(r.msgs, b)
	r.errs = append(r.errs, uint32(row), addr(b), uint32(len(b)))
}

// Finish returns the result descriptor for the host.
func (r *Result) Finish() int32 {
	if r.typ == Varchar || r.typ == Bytea {
		r.n = len(r.offsets) - 1
	}
	if len(r.data) == 0 {
		r.data = append(r.data[:0], 0) // a valid address even when empty
		r.data = r.data[:0]
	}
	for len(r.validity) < (r.n+7)/8 {
		r.validity = append(r.validity, 0xff)
	}
	d := (*[48]byte)(unsafe.Pointer(&r.desc[0]))
	put := func(at int, v uint32) { *(*uint32)(unsafe.Pointer(&d[at])) = v }
	put(0, uint32(r.n))
	put(4, uint32(len(r.errs)/3))
	put(8, 0)
	if len(r.errs) > 0 {
		put(8, uint32(uintptr(unsafe.Pointer(&r.errs[0]))))
	}
	put(12, 0)
	if len(r.parents) > 0 {
		put(12, uint32(uintptr(unsafe.Pointer(&r.parents[0]))))
	}
	put(16, r.typ)
	put(20, uint32(r.n))
	put(24, 0)
	put(28, 0)
	if r.hasNulls {
		put(28, addr(r.validity))
	}
	put(32, 0)
	switch r.typ {
	case Boolean:
		put(36, addr(r.bits))
		put(40, uint32(len(r.bits)))
	case Varchar, Bytea:
		put(32, uint32(uintptr(unsafe.Pointer(&r.offsets[0]))))
		put(36, uint32(uintptr(unsafe.Pointer(unsafe.SliceData(r.data)))))
		put(40, uint32(len(r.data)))
	default:
		w := 8
		if r.typ == Int32 {
			w = 4
		}
		put(36, 0)
		if r.n > 0 {
			put(36, uint32(uintptr(unsafe.Pointer(&r.fixed[0]))))
		}
		put(40, uint32(r.n*w))
	}
	put(44, 0)
	return int32(uintptr(unsafe.Pointer(d)))
}

// state views a state blob as S (plain data: numbers, arrays, structs of them).
func state[S any](c Column, i int, init S) S {
	if c.IsNull(i) {
		return init
	}
	b := c.Bytes(i)
	var s S
	if len(b) == int(unsafe.Sizeof(s)) {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&s)), len(b)), b)
	}
	return s
}

func emitStates[S any](states []S) *Result {
	r := Out(Bytea, 0)
	for i := range states {
		r.AppendBytes(unsafe.Slice((*byte)(unsafe.Pointer(&states[i])), unsafe.Sizeof(states[i])))
	}
	return r
}

// Fold runs an aggregate's accumulate or retract: step folds row i into s.
// S must be plain data (no pointers, slices, strings or maps); its bytes
// are the state blob. step may call Fail to report row i and skip it.
func Fold[S any](frame int32, init S, step func(s *S, f Frame, row int)) int32 {
	f := Input(frame)
	st := f.States()
	states := make([]S, f.NumGroups())
	for g := range states {
		states[g] = state(st, g, init)
	}
	failed = failed[:0]
	for row, g := range f.Groups() {
		saved := states[g]
		step(&states[g], f, row)
		if len(failed) > 0 && failed[len(failed)-1].row == row {
			states[g] = saved
		}
	}
	r := emitStates(states)
	for _, e := range failed {
		r.Error(e.row, e.msg)
	}
	return r.Finish()
}

type failure struct {
	row int
	msg string
}

var failed []failure

// Fail reports, from a Fold step, that row failed: its contribution is dropped.
func Fail(row int, msg string) { failed = append(failed, failure{row, msg}) }

// MergeStates runs an aggregate's merge: combine folds b into a.
func MergeStates[S any](frame int32, init S, combine func(a *S, b S)) int32 {
	f := Input(frame)
	a, b := f.States(), f.States2()
	states := make([]S, f.NumGroups())
	for g := range states {
		states[g] = state(a, g, init)
		combine(&states[g], state(b, g, init))
	}
	return emitStates(states).Finish()
}

// FinishStates runs an aggregate's finish: final writes group g's value
// into r (r was started with Out(typ, groups)).
func FinishStates[S any](frame int32, init S, typ uint32, final func(s S, r *Result, g int)) int32 {
	f := Input(frame)
	st := f.States()
	n := f.NumGroups()
	r := Out(typ, n)
	for g := 0; g < n; g++ {
		final(state(st, g, init), r, g)
	}
	return r.Finish()
}
