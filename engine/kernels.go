package engine

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// Eval evaluates e over every row of b and returns the result column, which
// the caller must Release. b is borrowed.
func Eval(mem memory.Allocator, e Expr, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	switch e := e.(type) {
	case *ColRef:
		c := b.Column(e.Index)
		c.Retain()
		return c, nil
	case *Const:
		return constColumn(mem, e, n)
	case *Cast:
		x, err := Eval(mem, e.X, b)
		if err != nil {
			return nil, err
		}
		defer x.Release()
		return castAny(mem, x, e.T)
	case *Call:
		return evalCall(mem, e, b)
	case *Case:
		return evalCase(mem, e, b)
	case *In:
		return evalIn(mem, e, b)
	case *Like:
		return evalLike(mem, e, b)
	case *Unary:
		x, err := Eval(mem, e.X, b)
		if err != nil {
			return nil, err
		}
		defer x.Release()
		if e.Op == OpNeg && x.DataType().ID() == arrow.INTERVAL_MONTH_DAY_NANO {
			return negInterval(mem, x), nil
		}
		return unary(mem, e.Op, x)
	case *Binary:
		l, err := Eval(mem, e.L, b)
		if err != nil {
			return nil, err
		}
		defer l.Release()
		r, err := Eval(mem, e.R, b)
		if err != nil {
			return nil, err
		}
		defer r.Release()
		if out, ok, err := temporalArith(mem, e.Op, l, r, e.T); ok {
			return out, err
		}
		switch {
		case e.Op.IsComparison() && (l.DataType().ID() == arrow.INTERVAL_MONTH_DAY_NANO || l.DataType().ID() == arrow.DECIMAL128):
			return compareAny(mem, e.Op, l, r)
		case e.Op == OpAnd || e.Op == OpOr:
			return logic(mem, e.Op, l.(*array.Boolean), r.(*array.Boolean)), nil
		case e.Op.IsComparison():
			return compare(mem, e.Op, l, r)
		default:
			return arith(mem, e.Op, l, r)
		}
	}
	return nil, fmt.Errorf("engine: cannot evaluate %T", e)
}

// constArray materialises a literal as a column of n rows.
func constArray(mem memory.Allocator, c *Const, n int) (arrow.Array, error) {
	bld := array.NewBuilder(mem, c.T.Arrow)
	defer bld.Release()
	bld.Reserve(n)
	if c.Value == nil {
		bld.AppendNulls(n)
		return bld.NewArray(), nil
	}
	for i := 0; i < n; i++ {
		switch bb := bld.(type) {
		case *array.BooleanBuilder:
			bb.Append(c.Value.(bool))
		case *array.Int32Builder:
			bb.Append(int32(c.Value.(int64)))
		case *array.Int64Builder:
			bb.Append(c.Value.(int64))
		case *array.Float64Builder:
			bb.Append(c.Value.(float64))
		case *array.StringBuilder:
			bb.Append(c.Value.(string))
		case *array.Date32Builder:
			bb.Append(arrow.Date32(c.Value.(int64)))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(c.Value.(int64)))
		default:
			return nil, fmt.Errorf("engine: literal of type %s not supported", c.T.Name)
		}
	}
	return bld.NewArray(), nil
}

// fixed returns the values of a fixed-width array (its offset applied).
func fixed[T int32 | int64 | float64](a arrow.Array) []T {
	d := a.Data()
	if d.Len() == 0 || d.Buffers()[1] == nil {
		return nil // an empty array may have no value buffer at all
	}
	vals := arrow.GetData[T](d.Buffers()[1].Bytes())
	return vals[d.Offset() : d.Offset()+d.Len()]
}

// validity ANDs the validity bitmaps of arrs into a new bitmap, or returns
// nil when no input has NULLs. force allocates the bitmap regardless.
func validity(mem memory.Allocator, n int, force bool, arrs ...arrow.Array) (*memory.Buffer, int) {
	any := force
	for _, a := range arrs {
		if a.NullN() > 0 {
			any = true
		}
	}
	if !any {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	bm := buf.Bytes()
	bitutil.SetBitsTo(bm, 0, int64(n), true)
	for _, a := range arrs {
		if a.NullN() == 0 {
			continue
		}
		bitutil.BitmapAnd(bm, a.NullBitmapBytes(), 0, int64(a.Data().Offset()), bm, 0, int64(n))
	}
	return buf, n - bitutil.CountSetBits(bm, 0, n)
}

func newFixed[T int32 | int64 | float64](mem memory.Allocator, dt arrow.DataType, n int) (*memory.Buffer, []T) {
	buf := memory.NewResizableBuffer(mem)
	var zero T
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	return buf, arrow.GetData[T](buf.Bytes())[:n]
}

func makeArray(dt arrow.DataType, n int, nulls *memory.Buffer, nullN int, vals *memory.Buffer) arrow.Array {
	d := array.NewData(dt, n, []*memory.Buffer{nulls, vals}, nil, nullN, 0)
	defer d.Release()
	if nulls != nil {
		nulls.Release()
	}
	vals.Release()
	return array.MakeFromData(d)
}

func castArray(mem memory.Allocator, x arrow.Array, to core.Type) (arrow.Array, error) {
	if arrow.TypeEqual(x.DataType(), to.Arrow) {
		x.Retain()
		return x, nil
	}
	n := x.Len()
	nulls, nullN := validity(mem, n, false, x)
	switch to.Arrow.ID() {
	case arrow.INT64:
		if x.DataType().ID() == arrow.INT32 {
			buf, out := newFixed[int64](mem, to.Arrow, n)
			for i, v := range fixed[int32](x) {
				out[i] = int64(v)
			}
			return makeArray(to.Arrow, n, nulls, nullN, buf), nil
		}
	case arrow.FLOAT64:
		switch x.DataType().ID() {
		case arrow.INT32:
			buf, out := newFixed[float64](mem, to.Arrow, n)
			for i, v := range fixed[int32](x) {
				out[i] = float64(v)
			}
			return makeArray(to.Arrow, n, nulls, nullN, buf), nil
		case arrow.INT64:
			buf, out := newFixed[float64](mem, to.Arrow, n)
			for i, v := range fixed[int64](x) {
				out[i] = float64(v)
			}
			return makeArray(to.Arrow, n, nulls, nullN, buf), nil
		}
	}
	if nulls != nil {
		nulls.Release()
	}
	return nil, fmt.Errorf("engine: cast from %s to %s is not supported", x.DataType(), to.Name)
}

// ErrOverflow is returned when integer arithmetic leaves its type's range.
var ErrOverflow = fmt.Errorf("engine: integer out of range")

func arith(mem memory.Allocator, op BinOp, l, r arrow.Array) (arrow.Array, error) {
	n := l.Len()
	div := op == OpDiv || op == OpMod
	nulls, nullN := validity(mem, n, div, l, r)
	dt := l.DataType()
	switch dt.ID() {
	case arrow.INT64:
		buf, out := newFixed[int64](mem, dt, n)
		err := arithInt(op, fixed[int64](l), fixed[int64](r), out, nulls, math.MinInt64, math.MaxInt64)
		if err != nil {
			buf.Release()
			if nulls != nil {
				nulls.Release()
			}
			return nil, err
		}
		if div {
			nullN = n - bitutil.CountSetBits(nulls.Bytes(), 0, n)
		}
		return makeArray(dt, n, nulls, nullN, buf), nil
	case arrow.INT32:
		buf, out := newFixed[int32](mem, dt, n)
		err := arithInt(op, fixed[int32](l), fixed[int32](r), out, nulls, math.MinInt32, math.MaxInt32)
		if err != nil {
			buf.Release()
			if nulls != nil {
				nulls.Release()
			}
			return nil, err
		}
		if div {
			nullN = n - bitutil.CountSetBits(nulls.Bytes(), 0, n)
		}
		return makeArray(dt, n, nulls, nullN, buf), nil
	case arrow.FLOAT64:
		buf, out := newFixed[float64](mem, dt, n)
		lv, rv := fixed[float64](l), fixed[float64](r)
		for i := range out {
			switch op {
			case OpAdd:
				out[i] = lv[i] + rv[i]
			case OpSub:
				out[i] = lv[i] - rv[i]
			case OpMul:
				out[i] = lv[i] * rv[i]
			case OpDiv, OpMod:
				if rv[i] == 0 {
					bitutil.ClearBit(nulls.Bytes(), i)
					continue
				}
				if op == OpDiv {
					out[i] = lv[i] / rv[i]
				} else {
					out[i] = math.Mod(lv[i], rv[i])
				}
			}
		}
		if div {
			nullN = n - bitutil.CountSetBits(nulls.Bytes(), 0, n)
		}
		return makeArray(dt, n, nulls, nullN, buf), nil
	}
	if nulls != nil {
		nulls.Release()
	}
	return nil, fmt.Errorf("engine: arithmetic %s on %s is not supported", op, dt)
}

// arithInt computes integer arithmetic with overflow checks; a zero divisor
// makes the row NULL (DuckDB's rule), which needs the nulls bitmap.
func arithInt[T int32 | int64](op BinOp, lv, rv, out []T, nulls *memory.Buffer, lo, hi int64) error {
	valid := func(i int) bool { return nulls == nil || bitutil.BitIsSet(nulls.Bytes(), i) }
	for i := range out {
		a, b := lv[i], rv[i]
		switch op {
		case OpAdd:
			s := a + b
			if (s > a) != (b > 0) {
				if valid(i) {
					return ErrOverflow
				}
			}
			out[i] = s
		case OpSub:
			s := a - b
			if (s < a) != (b > 0) {
				if valid(i) {
					return ErrOverflow
				}
			}
			out[i] = s
		case OpMul:
			if a != 0 && b != 0 {
				p := a * b
				if p/b != a || (a == -1 && int64(b) == lo) || (b == -1 && int64(a) == lo) {
					if valid(i) {
						return ErrOverflow
					}
				}
				out[i] = p
			} else {
				out[i] = 0
			}
		case OpDiv, OpMod:
			if b == 0 {
				bitutil.ClearBit(nulls.Bytes(), i)
				continue
			}
			if b == -1 {
				if op == OpMod {
					out[i] = 0
					continue
				}
				if int64(a) == lo && valid(i) {
					return ErrOverflow
				}
			}
			if op == OpDiv {
				out[i] = a / b
			} else {
				out[i] = a % b
			}
		}
	}
	_ = hi
	return nil
}

func cmpResult[T int | int32 | int64 | float64 | string](op BinOp, a, b T) bool {
	switch op {
	case OpEq:
		return a == b
	case OpNe:
		return a != b
	case OpLt:
		return a < b
	case OpLe:
		return a <= b
	case OpGt:
		return a > b
	}
	return a >= b
}

func compare(mem memory.Allocator, op BinOp, l, r arrow.Array) (arrow.Array, error) {
	n := l.Len()
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	anyNull := l.NullN() > 0 || r.NullN() > 0
	null := func(i int) bool { return anyNull && (l.IsNull(i) || r.IsNull(i)) }
	switch l.DataType().ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		lv, rv := fixed[int64](l), fixed[int64](r)
		for i := 0; i < n; i++ {
			if null(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(cmpResult(op, lv[i], rv[i]))
			}
		}
	case arrow.INT32, arrow.DATE32:
		lv, rv := fixed[int32](l), fixed[int32](r)
		for i := 0; i < n; i++ {
			if null(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(cmpResult(op, lv[i], rv[i]))
			}
		}
	case arrow.FLOAT64:
		lv, rv := fixed[float64](l), fixed[float64](r)
		for i := 0; i < n; i++ {
			if null(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(cmpResult(op, lv[i], rv[i]))
			}
		}
	case arrow.STRING:
		ls, rs := l.(*array.String), r.(*array.String)
		for i := 0; i < n; i++ {
			if null(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(cmpResult(op, ls.Value(i), rs.Value(i)))
			}
		}
	case arrow.BINARY:
		ls, rs := l.(*array.Binary), r.(*array.Binary)
		for i := 0; i < n; i++ {
			if null(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(cmpResult(op, string(ls.Value(i)), string(rs.Value(i))))
			}
		}
	case arrow.BOOL:
		ls, rs := l.(*array.Boolean), r.(*array.Boolean)
		b2i := func(b bool) int {
			if b {
				return 1
			}
			return 0
		}
		for i := 0; i < n; i++ {
			if null(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(cmpResult(op, b2i(ls.Value(i)), b2i(rs.Value(i))))
			}
		}
	default:
		return nil, fmt.Errorf("engine: comparison %s on %s is not supported", op, l.DataType())
	}
	return bld.NewArray(), nil
}

// logic implements SQL's three-valued AND and OR.
func logic(mem memory.Allocator, op BinOp, l, r *array.Boolean) arrow.Array {
	n := l.Len()
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	for i := 0; i < n; i++ {
		ln, rn := l.IsNull(i), r.IsNull(i)
		lv, rv := !ln && l.Value(i), !rn && r.Value(i)
		if op == OpAnd {
			switch {
			case (!ln && !lv) || (!rn && !rv):
				bld.UnsafeAppend(false)
			case ln || rn:
				bld.AppendNull()
			default:
				bld.UnsafeAppend(true)
			}
		} else {
			switch {
			case lv || rv:
				bld.UnsafeAppend(true)
			case ln || rn:
				bld.AppendNull()
			default:
				bld.UnsafeAppend(false)
			}
		}
	}
	return bld.NewArray()
}

func unary(mem memory.Allocator, op UnOp, x arrow.Array) (arrow.Array, error) {
	n := x.Len()
	switch op {
	case OpIsNull, OpIsNotNull:
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		bld.Reserve(n)
		for i := 0; i < n; i++ {
			bld.UnsafeAppend(x.IsNull(i) == (op == OpIsNull))
		}
		return bld.NewArray(), nil
	case OpNot:
		b := x.(*array.Boolean)
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		bld.Reserve(n)
		for i := 0; i < n; i++ {
			if b.IsNull(i) {
				bld.AppendNull()
			} else {
				bld.UnsafeAppend(!b.Value(i))
			}
		}
		return bld.NewArray(), nil
	case OpNeg:
		zero, err := constArray(mem, &Const{Value: zeroOf(x.DataType()), T: mustType(x.DataType())}, n)
		if err != nil {
			return nil, err
		}
		defer zero.Release()
		return arith(mem, OpSub, zero, x)
	}
	return nil, fmt.Errorf("engine: unary %s not supported", op)
}

func zeroOf(dt arrow.DataType) any {
	if dt.ID() == arrow.FLOAT64 {
		return float64(0)
	}
	return int64(0)
}

func mustType(dt arrow.DataType) core.Type {
	t, _ := core.TypeOf(dt)
	return t
}
