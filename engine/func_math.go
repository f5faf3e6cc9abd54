package engine

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

func init() {
	kernels["abs"] = absKernel
	kernels["sign"] = signKernel
	kernels["round"] = roundKernel
	kernels["floor"] = unaryFloat(math.Floor, nil)
	kernels["ceil"] = unaryFloat(math.Ceil, nil)
	kernels["sqrt"] = unaryFloat(math.Sqrt, func(x float64) error {
		if x < 0 {
			return fmt.Errorf("cannot take square root of a negative number")
		}
		return nil
	})
	kernels["power"] = powerKernel
}

// mathOut allocates a fixed-width result whose NULLs are the union of the
// arguments'.
func strictValid(n int, args []operand) []bool {
	valid := make([]bool, n)
	if constNull(args) {
		return valid
	}
	bits := make([]validBits, 0, len(args))
	for _, a := range args {
		if a.arr != nil {
			bits = append(bits, bitsOf(a.arr))
		}
	}
	for i := range valid {
		valid[i] = true
		for _, b := range bits {
			if !b.ok(i) {
				valid[i] = false
				break
			}
		}
	}
	return valid
}

func finishFixed(mem memory.Allocator, dt arrow.DataType, valid []bool, buf *memory.Buffer) arrow.Array {
	nulls, nullN := nullMask(mem, valid)
	return makeArray(dt, len(valid), nulls, nullN, buf)
}

// absKernel is abs(x) for integers (overflow on the minimum) and doubles.
func absKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	valid := strictValid(n, args)
	switch t.Arrow.ID() {
	case arrow.INT64:
		x := nums[int64](args[0])
		buf, out := newValues[int64](mem, n)
		for i := range out {
			v := x.at(i)
			if v < 0 {
				if v == math.MinInt64 && valid[i] {
					buf.Release()
					return nil, ErrOverflow
				}
				v = -v
			}
			out[i] = v
		}
		return finishFixed(mem, t.Arrow, valid, buf), nil
	case arrow.INT32:
		x := nums[int32](args[0])
		buf, out := newValues[int32](mem, n)
		for i := range out {
			v := x.at(i)
			if v < 0 {
				if v == math.MinInt32 && valid[i] {
					buf.Release()
					return nil, ErrOverflow
				}
				v = -v
			}
			out[i] = v
		}
		return finishFixed(mem, t.Arrow, valid, buf), nil
	}
	x := nums[float64](args[0])
	buf, out := newValues[float64](mem, n)
	for i := range out {
		out[i] = math.Abs(x.at(i))
	}
	return finishFixed(mem, t.Arrow, valid, buf), nil
}

// signKernel is sign(x) as an integer -1, 0 or 1 (DuckDB returns a
// tinyint; strata has none, so integer).
func signKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	valid := strictValid(n, args)
	buf, out := newValues[int32](mem, n)
	sgn := func(f float64) int32 {
		switch {
		case f > 0:
			return 1
		case f < 0:
			return -1
		}
		return 0
	}
	switch args[0].t.Arrow.ID() {
	case arrow.INT64:
		x := nums[int64](args[0])
		for i := range out {
			out[i] = int32(cmpInt(x.at(i), 0))
		}
	case arrow.INT32:
		x := nums[int32](args[0])
		for i := range out {
			out[i] = int32(cmpInt(int64(x.at(i)), 0))
		}
	default:
		x := nums[float64](args[0])
		for i := range out {
			out[i] = sgn(x.at(i))
		}
	}
	return finishFixed(mem, t.Arrow, valid, buf), nil
}

// roundKernel is round(x[, digits]): half away from zero (DuckDB; Postgres
// rounds doubles half to even). Integers round to negative digits only.
func roundKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	valid := strictValid(n, args)
	digits := numAt[int64]{}
	if len(args) > 1 {
		digits = nums[int64](args[1])
	}
	switch t.Arrow.ID() {
	case arrow.INT64, arrow.INT32:
		buf, out := newValues[int64](mem, n)
		var x numAt[int64]
		if t.Arrow.ID() == arrow.INT32 {
			x32 := nums[int32](args[0])
			for i := range out {
				out[i] = int64(x32.at(i))
			}
			x = numAt[int64]{v: out}
		} else {
			x = nums[int64](args[0])
		}
		for i := range out {
			v, d := x.at(i), digits.at(i)
			if d >= 0 || !valid[i] {
				out[i] = v
				continue
			}
			if d < -18 {
				out[i] = 0
				continue
			}
			p := int64(math.Pow10(int(-d)))
			q, r := v/p, v%p
			if 2*r >= p {
				q++
			} else if 2*r <= -p {
				q--
			}
			res, ok := mulOK(q, p)
			if !ok || (t.Arrow.ID() == arrow.INT32 && res != int64(int32(res))) {
				buf.Release()
				return nil, ErrOverflow
			}
			out[i] = res
		}
		if t.Arrow.ID() == arrow.INT32 {
			buf32, out32 := newValues[int32](mem, n)
			for i, v := range out {
				out32[i] = int32(v)
			}
			buf.Release()
			buf = buf32
		}
		return finishFixed(mem, t.Arrow, valid, buf), nil
	}
	x := nums[float64](args[0])
	buf, out := newValues[float64](mem, n)
	for i := range out {
		v, d := x.at(i), digits.at(i)
		switch {
		case d == 0:
			out[i] = math.Round(v)
		case d > 0:
			p := math.Pow10(int(min(d, 308)))
			r := math.Round(v*p) / p
			if math.IsInf(r, 0) || math.IsNaN(r) {
				r = v
			}
			out[i] = r
		default:
			p := math.Pow10(int(min(-d, 308)))
			out[i] = math.Round(v/p) * p
		}
	}
	return finishFixed(mem, t.Arrow, valid, buf), nil
}

// unaryFloat applies f to a double argument; check may refuse a value.
func unaryFloat(f func(float64) float64, check func(float64) error) kernel {
	return func(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
		valid := strictValid(n, args)
		x := nums[float64](args[0])
		buf, out := newValues[float64](mem, n)
		for i := range out {
			v := x.at(i)
			if check != nil && valid[i] {
				if err := check(v); err != nil {
					buf.Release()
					return nil, err
				}
			}
			out[i] = f(v)
		}
		return finishFixed(mem, t.Arrow, valid, buf), nil
	}
}

// powerKernel is power(x, y) over doubles.
func powerKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	valid := strictValid(n, args)
	x, y := nums[float64](args[0]), nums[float64](args[1])
	buf, out := newValues[float64](mem, n)
	for i := range out {
		out[i] = math.Pow(x.at(i), y.at(i))
	}
	return finishFixed(mem, t.Arrow, valid, buf), nil
}
