package engine

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// operand is an evaluated argument of a Call: a column of n rows, or a
// constant kept as a scalar (arr == nil) so kernels need not materialise it.
type operand struct {
	arr arrow.Array
	c   any // the constant (nil is NULL) when arr == nil
	t   core.Type
}

func (o operand) isConst() bool { return o.arr == nil }

func (o operand) null(i int) bool {
	if o.arr == nil {
		return o.c == nil
	}
	return o.arr.NullN() > 0 && o.arr.IsNull(i)
}

// strAt reads varchar operands without copying.
type strAt struct {
	a *array.String
	c string
}

func (o operand) strs() strAt {
	if o.arr == nil {
		s, _ := o.c.(string)
		return strAt{c: s}
	}
	return strAt{a: o.arr.(*array.String)}
}

func (s strAt) at(i int) string {
	if s.a == nil {
		return s.c
	}
	return s.a.Value(i)
}

// numAt reads int64 (bigint, timestamp) or float64 operands.
type numAt[T int64 | float64 | int32] struct {
	v []T
	c T
}

func nums[T int64 | float64 | int32](o operand) numAt[T] {
	if o.arr == nil {
		switch c := o.c.(type) {
		case T:
			return numAt[T]{c: c}
		case int64:
			return numAt[T]{c: T(c)}
		}
		return numAt[T]{}
	}
	return numAt[T]{v: fixed[T](o.arr)}
}

func (a numAt[T]) at(i int) T {
	if a.v == nil {
		return a.c
	}
	return a.v[i]
}

// column materialises the operand as an array the caller must Release.
func (o operand) column(mem memory.Allocator, n int) (arrow.Array, error) {
	if o.arr != nil {
		o.arr.Retain()
		return o.arr, nil
	}
	return constColumn(mem, &Const{Value: o.c, T: o.t}, n)
}

// constNull reports whether a constant argument is NULL, which makes a
// strict function NULL on every row.
func constNull(args []operand) bool {
	for _, a := range args {
		if a.arr == nil && a.c == nil {
			return true
		}
	}
	return false
}

// kernel computes a Call over n rows.
type kernel func(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error)

// kernels is the Call registry; func_*.go fill it from init.
var kernels = map[string]kernel{}

// HasFunc reports whether the engine has a kernel for Call.Fn name.
func HasFunc(name string) bool {
	_, ok := kernels[name]
	return ok || name == "coalesce"
}

// ErrUnknownFunc is returned for a Call whose Fn has no kernel.
var ErrUnknownFunc = fmt.Errorf("engine: unknown function")

func evalCall(mem memory.Allocator, e *Call, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	if e.Fn == "coalesce" {
		return evalCoalesce(mem, e, b)
	}
	k, ok := kernels[e.Fn]
	if !ok {
		return nil, fmt.Errorf("%w %s", ErrUnknownFunc, e.Fn)
	}
	args := make([]operand, len(e.Args))
	defer func() {
		for _, a := range args {
			if a.arr != nil {
				a.arr.Release()
			}
		}
	}()
	for i, a := range e.Args {
		if c, ok := a.(*Const); ok {
			args[i] = operand{c: c.Value, t: c.T}
			continue
		}
		x, err := Eval(mem, a, b)
		if err != nil {
			return nil, err
		}
		args[i] = operand{arr: x, t: a.Type()}
	}
	out, err := k(mem, n, args, e.T)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Fn, err)
	}
	return out, nil
}

// constColumn materialises a literal of any type as n rows.
func constColumn(mem memory.Allocator, c *Const, n int) (arrow.Array, error) {
	switch v := c.Value.(type) {
	case arrow.MonthDayNanoInterval:
		bld := array.NewMonthDayNanoIntervalBuilder(mem)
		defer bld.Release()
		bld.Reserve(n)
		for i := 0; i < n; i++ {
			bld.UnsafeAppend(v)
		}
		return bld.NewArray(), nil
	case []byte:
		bld := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		defer bld.Release()
		for i := 0; i < n; i++ {
			bld.Append(v)
		}
		return bld.NewArray(), nil
	}
	if c.Value != nil {
		switch c.T.Arrow.ID() {
		case arrow.DECIMAL128:
			bld := array.NewDecimal128Builder(mem, c.T.Arrow.(*arrow.Decimal128Type))
			defer bld.Release()
			bld.Reserve(n)
			v := c.Value.(decimalNum)
			for i := 0; i < n; i++ {
				bld.UnsafeAppend(v)
			}
			return bld.NewArray(), nil
		}
	}
	return constArray(mem, c, n)
}

// validBits reads one array's validity bitmap (all valid when it has no
// NULLs) without an interface call per row.
type validBits struct {
	bm  []byte
	off int
}

func bitsOf(a arrow.Array) validBits {
	if a.NullN() == 0 {
		return validBits{}
	}
	return validBits{bm: a.NullBitmapBytes(), off: a.Data().Offset()}
}

func (v validBits) ok(i int) bool { return v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) }

// values returns the typed values of a fixed-width array, offset applied.
func values[T arrow.FixedWidthType](a arrow.Array) []T {
	d := a.Data()
	if d.Len() == 0 || d.Buffers()[1] == nil {
		return nil // an empty array may have no value buffer at all
	}
	vals := arrow.GetData[T](d.Buffers()[1].Bytes())
	return vals[d.Offset() : d.Offset()+d.Len()]
}

func newValues[T arrow.FixedWidthType](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	buf := memory.NewResizableBuffer(mem)
	var zero T
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	return buf, arrow.GetData[T](buf.Bytes())[:n]
}

// nullMask builds a validity bitmap from valid; it returns nil when every
// row is valid.
func nullMask(mem memory.Allocator, valid []bool) (*memory.Buffer, int) {
	nullN := 0
	for _, v := range valid {
		if !v {
			nullN++
		}
	}
	if nullN == 0 {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(valid)))))
	bm := buf.Bytes()
	for i, v := range valid {
		bitutil.SetBitTo(bm, i, v)
	}
	return buf, nullN
}

// gather builds a column of type dt whose row i is row rows[i] (i when rows
// is nil) of srcs[which[i]], or NULL when which[i] < 0. It is the one
// selection kernel behind CASE, COALESCE, NULLIF, GREATEST and LEAST.
func gather(mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which []int32, rows []int32) arrow.Array {
	switch dt.ID() {
	case arrow.BOOL:
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		bld.Reserve(len(which))
		bs := make([]*array.Boolean, len(srcs))
		for i, s := range srcs {
			bs[i] = s.(*array.Boolean)
		}
		for i, w := range which {
			r := i
			if rows != nil {
				r = int(rows[i])
			}
			if w < 0 || bs[w].IsNull(r) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(bs[w].Value(r))
			}
		}
		return bld.NewArray()
	case arrow.INT32, arrow.DATE32:
		return gatherFixed[int32](mem, dt, srcs, which, rows)
	case arrow.INT64, arrow.TIMESTAMP:
		return gatherFixed[int64](mem, dt, srcs, which, rows)
	case arrow.FLOAT64:
		return gatherFixed[float64](mem, dt, srcs, which, rows)
	case arrow.INTERVAL_MONTH_DAY_NANO:
		return gatherFixed[arrow.MonthDayNanoInterval](mem, dt, srcs, which, rows)
	case arrow.DECIMAL128:
		return gatherFixed[decimalNum](mem, dt, srcs, which, rows)
	case arrow.STRING, arrow.BINARY:
		bld := array.NewBuilder(mem, dt)
		defer bld.Release()
		bld.Reserve(len(which))
		for i, w := range which {
			r := i
			if rows != nil {
				r = int(rows[i])
			}
			if w < 0 || srcs[w].IsNull(r) {
				bld.AppendNull()
				continue
			}
			switch s := srcs[w].(type) {
			case *array.String:
				bld.(*array.StringBuilder).Append(s.Value(r))
			case *array.Binary:
				bld.(*array.BinaryBuilder).Append(s.Value(r))
			}
		}
		return bld.NewArray()
	}
	panic(fmt.Sprintf("engine: gather of %s", dt))
}

func gatherFixed[T arrow.FixedWidthType](mem memory.Allocator, dt arrow.DataType, srcs []arrow.Array, which []int32, rows []int32) arrow.Array {
	n := len(which)
	vals := make([][]T, len(srcs))
	bits := make([]validBits, len(srcs))
	for i, s := range srcs {
		vals[i] = values[T](s)
		bits[i] = bitsOf(s)
	}
	buf, out := newValues[T](mem, n)
	valid := make([]bool, n)
	for i, w := range which {
		r := i
		if rows != nil {
			r = int(rows[i])
		}
		if w < 0 || !bits[w].ok(r) {
			continue
		}
		valid[i] = true
		out[i] = vals[w][r]
	}
	nulls, nullN := nullMask(mem, valid)
	return makeArray(dt, n, nulls, nullN, buf)
}

// evalWhere evaluates e for the rows where sel is true (nsel of them); the
// other rows of the result are unspecified. It evaluates the whole batch
// first, the fast path; only when that fails (a row that need not be
// computed overflowed, say) does it evaluate the selected rows alone, so
// CASE WHEN x < 100 THEN x * 1000000 END cannot fail on rows it skips.
func evalWhere(mem memory.Allocator, e Expr, b arrow.RecordBatch, sel []bool, nsel int) (arrow.Array, error) {
	out, err := Eval(mem, e, b)
	if err == nil || nsel == int(b.NumRows()) {
		return out, err
	}
	if nsel == 0 {
		return constColumn(mem, &Const{T: e.Type()}, int(b.NumRows()))
	}
	sub, err := selectRows(mem, e, b, sel, nsel)
	if err != nil {
		return nil, err
	}
	defer sub.Release()
	part, err := Eval(mem, e, sub)
	if err != nil {
		return nil, err
	}
	defer part.Release()
	which := make([]int32, len(sel))
	rows := make([]int32, len(sel))
	j := int32(0)
	for i, s := range sel {
		if s {
			rows[i] = j
			j++
		} else {
			which[i] = -1
		}
	}
	return gather(mem, e.Type().Arrow, []arrow.Array{part}, which, rows), nil
}

// selectRows builds the batch of b's selected rows, copying only the
// columns e reads (the others become NULL columns of the right length).
func selectRows(mem memory.Allocator, e Expr, b arrow.RecordBatch, sel []bool, nsel int) (arrow.RecordBatch, error) {
	used := map[int]bool{}
	all := !colRefs(e, used)
	rows := make([]int32, 0, nsel)
	for i, s := range sel {
		if s {
			rows = append(rows, int32(i))
		}
	}
	which := make([]int32, nsel)
	cols := make([]arrow.Array, b.NumCols())
	defer releaseAll(cols)
	for c := range cols {
		col := b.Column(c)
		switch {
		case !all && !used[c]:
			cols[c] = array.MakeArrayOfNull(mem, col.DataType(), nsel)
		case gatherable(col.DataType()):
			cols[c] = gather(mem, col.DataType(), []arrow.Array{col}, which, rows)
		default:
			mb := array.NewBooleanBuilder(mem)
			mb.AppendValues(sel, nil)
			mask := mb.NewBooleanArray()
			mb.Release()
			d, err := compute.Filter(compute.WithAllocator(context.Background(), mem), compute.NewDatumWithoutOwning(col), compute.NewDatumWithoutOwning(mask), *compute.DefaultFilterOptions())
			mask.Release()
			if err != nil {
				return nil, err
			}
			cols[c] = d.(*compute.ArrayDatum).MakeArray()
			d.Release()
		}
	}
	return array.NewRecordBatch(b.Schema(), cols, int64(nsel)), nil
}

func gatherable(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.BOOL, arrow.INT32, arrow.DATE32, arrow.INT64, arrow.TIMESTAMP, arrow.FLOAT64,
		arrow.INTERVAL_MONTH_DAY_NANO, arrow.DECIMAL128, arrow.STRING, arrow.BINARY:
		return true
	}
	return false
}

// colRefs adds the columns e reads to used; false means e holds a node it
// does not know, so every column may be read.
func colRefs(e Expr, used map[int]bool) bool {
	switch x := e.(type) {
	case *ColRef:
		used[x.Index] = true
	case *Const:
	case *Cast:
		return colRefs(x.X, used)
	case *Unary:
		return colRefs(x.X, used)
	case *Binary:
		return colRefs(x.L, used) && colRefs(x.R, used)
	case *Call:
		for _, a := range x.Args {
			if !colRefs(a, used) {
				return false
			}
		}
	case *Case:
		for _, w := range x.Whens {
			if !colRefs(w.Cond, used) || !colRefs(w.Then, used) {
				return false
			}
		}
		if x.Else != nil {
			return colRefs(x.Else, used)
		}
	case *In:
		for _, a := range x.List {
			if !colRefs(a, used) {
				return false
			}
		}
		return colRefs(x.X, used)
	case *Like:
		return colRefs(x.X, used) && colRefs(x.Pattern, used)
	default:
		return false
	}
	return true
}
