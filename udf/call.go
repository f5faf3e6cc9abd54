package udf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero/sys"
)

// callShape says how a call's result relates to its rows.
type callShape int

const (
	shapeRows  callShape = iota // one result row per input row; a row in error is NULL (scalar, merge, finish)
	shapeTable                  // any number of rows, each naming its input row
	shapeFold                   // one state per group; errors name input rows, which were skipped
)

// frame is one call's input.
type frame struct {
	nrows   int
	args    []arrow.Array
	groups  []int32 // aggregates: group of each row
	ngroups int
	states  arrow.Array // aggregates
	states2 arrow.Array // merge
}

// result is one call's output, copied out of the guest.
type result struct {
	data    arrow.Array
	parents *array.Int32
	errs    []RowError
}

// Call runs a scalar function over one batch. args are borrowed (they are
// copied into guest memory); all must have the same length and the
// function's argument types. The result, allocated from mem, is owned by
// the caller, who must Release it. If the function reported per-row
// errors, Call returns the result (those rows NULL) and a *BatchError; any
// other error means there is no result.
func (f *Function) Call(ctx context.Context, args []arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	if err := f.checkArgs(Scalar, args); err != nil {
		return nil, err
	}
	n := 0
	if len(args) > 0 {
		n = args[0].Len()
	}
	res, err := f.invoke(ctx, f.Name, frame{nrows: n, args: args}, f.Returns.Arrow, n, n, shapeRows, mem)
	if err != nil {
		return nil, err
	}
	return res.data, batchErr(f.Name, res.errs)
}

// CallTable runs a table function over one batch: each input row yields
// zero or more output rows. parents[i] is the input row output row i came
// from (non-decreasing). Both arrays are owned by the caller. Per-row
// errors come back as with Call (the row yields no output).
func (f *Function) CallTable(ctx context.Context, args []arrow.Array, mem memory.Allocator) (out arrow.Array, parents *array.Int32, err error) {
	if err := f.checkArgs(Table, args); err != nil {
		return nil, nil, err
	}
	n := 0
	if len(args) > 0 {
		n = args[0].Len()
	}
	res, err := f.invoke(ctx, f.Name, frame{nrows: n, args: args}, f.Returns.Arrow, -1, n, shapeTable, mem)
	if err != nil {
		return nil, nil, err
	}
	return res.data, res.parents, batchErr(f.Name, res.errs)
}

// Accumulate folds a batch of rows into aggregate states: row i goes to
// group groups[i], whose state is states[groups[i]] (NULL: the initial
// state). It returns the new states, one per group, owned by the caller.
// states and args are borrowed. Rows the function reported errors for are
// skipped and listed in a *BatchError returned with the states.
func (f *Function) Accumulate(ctx context.Context, states *array.Binary, groups []int32, args []arrow.Array, mem memory.Allocator) (*array.Binary, error) {
	return f.fold(ctx, "_accumulate", states, groups, args, mem)
}

// Retract removes a batch of rows from aggregate states (the inverse of
// Accumulate, for changelog deletes).
func (f *Function) Retract(ctx context.Context, states *array.Binary, groups []int32, args []arrow.Array, mem memory.Allocator) (*array.Binary, error) {
	return f.fold(ctx, "_retract", states, groups, args, mem)
}

func (f *Function) fold(ctx context.Context, suffix string, states *array.Binary, groups []int32, args []arrow.Array, mem memory.Allocator) (*array.Binary, error) {
	if err := f.checkArgs(Aggregate, args); err != nil {
		return nil, err
	}
	n := len(groups)
	for _, a := range args {
		if a.Len() != n {
			return nil, f.argErr("an argument has %d rows for %d groups entries", a.Len(), n)
		}
	}
	g := states.Len()
	for i, x := range groups {
		if x < 0 || int(x) >= g {
			return nil, f.argErr("groups[%d] = %d is not a state index (%d states)", i, x, g)
		}
	}
	res, err := f.invoke(ctx, f.Name+suffix, frame{nrows: n, args: args, groups: groups, ngroups: g, states: states}, arrow.BinaryTypes.Binary, g, n, shapeFold, mem)
	if err != nil {
		return nil, err
	}
	return res.data.(*array.Binary), batchErr(f.Name, res.errs)
}

// Merge combines two partial states per group (a[i] with b[i]).
func (f *Function) Merge(ctx context.Context, a, b *array.Binary, mem memory.Allocator) (*array.Binary, error) {
	if f.Kind != Aggregate {
		return nil, f.argErr("%s is a %s function, not an aggregate", f.Name, f.Kind)
	}
	if a.Len() != b.Len() {
		return nil, f.argErr("merge of %d and %d states", a.Len(), b.Len())
	}
	g := a.Len()
	res, err := f.invoke(ctx, f.Name+"_merge", frame{ngroups: g, states: a, states2: b}, arrow.BinaryTypes.Binary, g, g, shapeRows, mem)
	if err != nil {
		return nil, err
	}
	return res.data.(*array.Binary), batchErr(f.Name, res.errs)
}

// Finish turns each state into the aggregate's value (owned by the caller).
func (f *Function) Finish(ctx context.Context, states *array.Binary, mem memory.Allocator) (arrow.Array, error) {
	if f.Kind != Aggregate {
		return nil, f.argErr("%s is a %s function, not an aggregate", f.Name, f.Kind)
	}
	g := states.Len()
	res, err := f.invoke(ctx, f.Name+"_finish", frame{ngroups: g, states: states}, f.Returns.Arrow, g, g, shapeRows, mem)
	if err != nil {
		return nil, err
	}
	return res.data, batchErr(f.Name, res.errs)
}

func batchErr(fn string, errs []RowError) error {
	if len(errs) == 0 {
		return nil
	}
	return &BatchError{Func: fn, Rows: errs}
}

func (f *Function) argErr(format string, args ...any) error {
	return &CallError{Func: f.Name, Module: f.Module.Path, Row: -1, Kind: ErrBadArgs, Detail: fmt.Sprintf(format, args...)}
}

func (f *Function) checkArgs(kind Kind, args []arrow.Array) error {
	if f.Kind != kind {
		return f.argErr("%s is a %s function, not %s", f.Name, f.Kind, kind)
	}
	if len(args) != len(f.Args) {
		return f.argErr("%d arguments, want %d", len(args), len(f.Args))
	}
	for i, a := range args {
		if !arrow.TypeEqual(a.DataType(), f.Args[i].Arrow) {
			return f.argErr("argument %d is %s, want %s", i+1, a.DataType(), f.Args[i].Name)
		}
		if a.Len() != args[0].Len() {
			return f.argErr("argument %d has %d rows, argument 1 has %d", i+1, a.Len(), args[0].Len())
		}
	}
	return nil
}

// invoke runs one export over a frame on a pooled instance. wantRows is the
// number of result rows required (-1: any, for table functions); rowBound
// bounds the row indexes of errors and parents.
func (f *Function) invoke(ctx context.Context, export string, fr frame, dt arrow.DataType, wantRows, rowBound int, shape callShape, mem memory.Allocator) (result, error) {
	m := f.Module
	start := time.Now()
	inst, err := m.get(ctx)
	if err != nil {
		return result{}, fmt.Errorf("udf: %s (%s): %w", f.Name, m.Path, err)
	}
	res, err := f.run(ctx, inst, export, fr, dt, wantRows, rowBound, shape, mem)
	f.stats.record(fr.nrows, start, res, err)
	if err != nil {
		m.discard(ctx, inst)
		return result{}, err
	}
	m.put(ctx, inst)
	return res, nil
}

func (f *Function) fail(kind error, row int, detail string, err error) *CallError {
	return &CallError{Func: f.Name, Module: f.Module.Path, Row: row, Kind: kind, Detail: detail, Err: err}
}

func (f *Function) run(ctx context.Context, inst *instance, export string, fr frame, dt arrow.DataType, wantRows, rowBound int, shape callShape, mem memory.Allocator) (result, error) {
	// Lay the frame out in the arena.
	ncols := len(fr.args)
	size := frameHeaderSize + colSize*ncols + align8(4*len(fr.groups))
	for _, a := range fr.args {
		size += colBytes(a)
	}
	if fr.states != nil {
		size += colBytes(fr.states)
	}
	if fr.states2 != nil {
		size += colBytes(fr.states2)
	}
	if err := f.ensureArena(ctx, inst, size); err != nil {
		return result{}, err
	}
	buf, ok := inst.mem.Read(inst.arena, uint32(size))
	if !ok {
		return result{}, f.fail(ErrTrap, -1, "the input region left guest memory", nil)
	}
	w := writer{buf: buf, ptr: inst.arena, pos: frameHeaderSize + colSize*ncols}
	clear(buf[:frameHeaderSize])
	w.u32(0, ABIVersion)
	w.u32(4, uint32(fr.nrows))
	w.u32(8, uint32(ncols))
	w.u32(12, uint32(fr.ngroups))
	if len(fr.groups) > 0 {
		p, dst := w.reserve(4 * len(fr.groups))
		// One copy: wasm and this host are little-endian (as the offsets in abi.go).
		copy(dst, unsafe.Slice((*byte)(unsafe.Pointer(&fr.groups[0])), 4*len(fr.groups)))
		w.u32(16, p)
	}
	if fr.states != nil {
		w.column(32, fr.states)
	}
	if fr.states2 != nil {
		w.column(64, fr.states2)
	}
	for i, a := range fr.args {
		w.column(frameHeaderSize+colSize*i, a)
	}

	// Call once for the whole batch.
	wd := f.Module.host.wd
	if wd != nil {
		wd.begin(inst)
	}
	inst.stack[0] = uint64(inst.arena)
	err := inst.fns[export].CallWithStack(ctx, inst.stack[:])
	fired := wd != nil && wd.end(inst)
	if err != nil {
		return result{}, f.callFailed(ctx, fired, inst, err)
	}
	rp := uint32(inst.stack[0])
	if rp == 0 {
		return result{}, f.fail(ErrTrap, -1, "the function returned no result (out of memory?)"+inst.stderr.suffix(), nil)
	}
	res, err := f.readResult(inst, rp, dt, wantRows, rowBound, shape, mem)
	if err != nil {
		var br *badResult
		if errors.As(err, &br) {
			return result{}, f.fail(ErrBadResult, br.row, br.detail, nil)
		}
		return result{}, err
	}
	return res, nil
}

func (f *Function) callFailed(ctx context.Context, fired bool, inst *instance, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("udf: %s (%s): %w", f.Name, f.Module.Path, ctx.Err())
	}
	var ee *sys.ExitError
	if fired || errors.As(err, &ee) && ee.ExitCode() == sys.ExitCodeDeadlineExceeded {
		return f.fail(ErrDeadline, -1, fmt.Sprintf("stopped after %s", f.Module.host.cfg.deadline), nil)
	}
	detail := err.Error()
	if i := strings.IndexByte(detail, '\n'); i >= 0 {
		detail = detail[:i]
	}
	return f.fail(ErrTrap, -1, detail+inst.stderr.suffix(), err)
}

// ensureArena makes the instance's input region at least size bytes,
// allocating it with the guest's strata_alloc.
func (f *Function) ensureArena(ctx context.Context, inst *instance, size int) error {
	if uint32(size) <= inst.arenaCap && inst.arena != 0 {
		return nil
	}
	if size > int(f.Module.host.cfg.memoryLimit) {
		return f.fail(ErrTrap, -1, fmt.Sprintf("the batch needs %d bytes of guest memory, over the %d byte limit; use smaller batches", size, f.Module.host.cfg.memoryLimit), nil)
	}
	if inst.arena != 0 && inst.free != nil {
		inst.stack[0], inst.stack[1] = uint64(inst.arena), uint64(inst.arenaCap)
		if err := inst.free.CallWithStack(ctx, inst.stack[:]); err != nil {
			return f.fail(ErrTrap, -1, "strata_free failed", err)
		}
	}
	inst.arena, inst.arenaCap = 0, 0
	c := max(size+size/4, minArena)
	inst.stack[0] = uint64(c)
	if err := inst.alloc.CallWithStack(ctx, inst.stack[:]); err != nil {
		return f.fail(ErrTrap, -1, fmt.Sprintf("strata_alloc(%d) failed", c), err)
	}
	p := uint32(inst.stack[0])
	if p == 0 || p%8 != 0 {
		return f.fail(ErrTrap, -1, fmt.Sprintf("strata_alloc(%d) returned %d (out of guest memory, or not 8-aligned)", c, p), nil)
	}
	inst.arena, inst.arenaCap = p, uint32(c)
	return nil
}

func (f *Function) readResult(inst *instance, rp uint32, dt arrow.DataType, wantRows, rowBound int, shape callShape, mem memory.Allocator) (result, error) {
	r := reader{inst}
	hdr, ok := r.bytes(rp, resultSize-colSize)
	if !ok {
		return result{}, bad(-1, "result descriptor %d is outside guest memory", rp)
	}
	le := binary.LittleEndian
	nrows, nerr, errPtr, parPtr := le.Uint32(hdr), le.Uint32(hdr[4:]), le.Uint32(hdr[8:]), le.Uint32(hdr[12:])
	d, ok := r.desc(rp + 16)
	if !ok {
		return result{}, bad(-1, "result column descriptor is outside guest memory")
	}
	if d.n != nrows || wantRows >= 0 && int(nrows) != wantRows {
		return result{}, bad(-1, "result has %d rows (column says %d), want %d", nrows, d.n, wantRows)
	}
	var errs []RowError
	if nerr > 0 {
		if int(nerr) > rowBound {
			return result{}, bad(-1, "%d row errors for %d rows", nerr, rowBound)
		}
		eb, ok := r.bytes(errPtr, nerr*errorEntrySize)
		if !ok {
			return result{}, bad(-1, "error list is outside guest memory")
		}
		errs = make([]RowError, nerr)
		for i := range errs {
			e := eb[i*errorEntrySize:]
			row, mp, ml := le.Uint32(e), le.Uint32(e[4:]), le.Uint32(e[8:])
			if int(row) >= rowBound {
				return result{}, bad(-1, "error for row %d of %d", row, rowBound)
			}
			msg, ok := r.bytes(mp, min(ml, maxErrorMsg))
			if !ok {
				return result{}, bad(int(row), "error message of row %d is outside guest memory", row)
			}
			errs[i] = RowError{Row: int(row), Msg: strings.ToValidUTF8(string(msg), "?")}
		}
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Row < errs[j].Row })
	}
	var par *array.Int32
	if shape == shapeTable {
		pb, ok := r.bytes(parPtr, 4*nrows)
		if !ok || parPtr == 0 && nrows > 0 {
			return result{}, bad(-1, "parent-row index column is outside guest memory")
		}
		b := array.NewInt32Builder(mem)
		defer b.Release()
		b.Reserve(int(nrows))
		prev := uint32(0)
		for i := uint32(0); i < nrows; i++ {
			p := le.Uint32(pb[4*i:])
			if int(p) >= rowBound || p < prev {
				return result{}, bad(int(i), "output row %d names input row %d (rows: %d, parents must not decrease)", i, int32(p), rowBound)
			}
			prev = p
			b.UnsafeAppend(int32(p))
		}
		par = b.NewInt32Array()
	}
	var nullRows []RowError
	if shape == shapeRows {
		nullRows = errs // a scalar row (or a merged/finished group) in error is NULL
	}
	data, err := r.column(d, dt, nullRows, mem)
	if err != nil {
		if par != nil {
			par.Release()
		}
		return result{}, err
	}
	return result{data: data, parents: par, errs: errs}, nil
}
