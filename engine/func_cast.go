package engine

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// ErrCast is returned (wrapped, with the value) when a value cannot be
// converted to the target type: bad text, or a number out of range.
var ErrCast = errors.New("engine: invalid cast")

// CanCast reports whether the engine can cast from one type to another.
func CanCast(from, to core.Type) bool {
	f, t := from.Arrow.ID(), to.Arrow.ID()
	if arrow.TypeEqual(from.Arrow, to.Arrow) || t == arrow.STRING {
		return f != arrow.BINARY
	}
	num := func(id arrow.Type) bool {
		return id == arrow.INT32 || id == arrow.INT64 || id == arrow.FLOAT64 || id == arrow.DECIMAL128
	}
	switch {
	case f == arrow.STRING:
		return t != arrow.BINARY
	case num(f) && num(t):
		return true
	case f == arrow.BOOL && (t == arrow.INT32 || t == arrow.INT64), t == arrow.BOOL && (f == arrow.INT32 || f == arrow.INT64):
		return true
	case (f == arrow.TIMESTAMP || f == arrow.DATE32) && (t == arrow.TIMESTAMP || t == arrow.DATE32):
		return true
	}
	return false
}

// castAny converts x to the type to (see CanCast); x is borrowed, the
// result owned. Failures wrap ErrCast.
func castAny(mem memory.Allocator, x arrow.Array, to core.Type) (arrow.Array, error) {
	from := x.DataType()
	if arrow.TypeEqual(from, to.Arrow) {
		x.Retain()
		return x, nil
	}
	n := x.Len()
	f, t := from.ID(), to.Arrow.ID()
	xb := bitsOf(x)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = xb.ok(i)
	}
	switch {
	case t == arrow.STRING:
		return castToString(mem, x, valid)
	case f == arrow.STRING:
		return castFromString(mem, x.(*array.String), to, valid)
	case f == arrow.INT32 && (t == arrow.INT64 || t == arrow.FLOAT64), f == arrow.INT64 && t == arrow.FLOAT64:
		return castArray(mem, x, to)
	case f == arrow.INT64 && t == arrow.INT32:
		buf, out := newValues[int32](mem, n)
		for i, v := range values[int64](x) {
			if v != int64(int32(v)) && valid[i] {
				buf.Release()
				return nil, fmt.Errorf("%w: %d is out of range for integer", ErrCast, v)
			}
			out[i] = int32(v)
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case f == arrow.FLOAT64 && (t == arrow.INT32 || t == arrow.INT64):
		lo, hi := float64(math.MinInt64), float64(math.MaxInt64)
		if t == arrow.INT32 {
			lo, hi = math.MinInt32, math.MaxInt32
		}
		in := values[float64](x)
		out := make([]int64, n)
		for i, v := range in {
			r := math.RoundToEven(v)
			if valid[i] && !(r >= lo && r <= hi && (t == arrow.INT32 || r < hi)) {
				return nil, fmt.Errorf("%w: %v is out of range for %s", ErrCast, v, to.Name)
			}
			if valid[i] {
				out[i] = int64(r)
			}
		}
		return intColumn(mem, to, out, valid), nil
	case f == arrow.BOOL && (t == arrow.INT32 || t == arrow.INT64):
		b := x.(*array.Boolean)
		out := make([]int64, n)
		for i := range out {
			if valid[i] && b.Value(i) {
				out[i] = 1
			}
		}
		return intColumn(mem, to, out, valid), nil
	case t == arrow.BOOL && (f == arrow.INT32 || f == arrow.INT64):
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		bld.Reserve(n)
		for i := 0; i < n; i++ {
			if !valid[i] {
				bld.AppendNull()
			} else if f == arrow.INT32 {
				bld.UnsafeAppend(values[int32](x)[i] != 0)
			} else {
				bld.UnsafeAppend(values[int64](x)[i] != 0)
			}
		}
		return bld.NewArray(), nil
	case f == arrow.TIMESTAMP && t == arrow.TIMESTAMP:
		// timestamp <-> timestamptz: the session zone is UTC, so the
		// microseconds stay.
		buf, out := newValues[int64](mem, n)
		copy(out, values[int64](x))
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case f == arrow.TIMESTAMP && t == arrow.DATE32:
		buf, out := newValues[int32](mem, n)
		for i, v := range values[int64](x) {
			out[i] = int32(floorDivT(v, usPerDay))
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case f == arrow.DATE32 && t == arrow.TIMESTAMP:
		buf, out := newValues[int64](mem, n)
		for i, v := range values[int32](x) {
			out[i] = int64(v) * usPerDay
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case f == arrow.DECIMAL128 || t == arrow.DECIMAL128:
		return castDecimal(mem, x, to, valid)
	}
	return nil, fmt.Errorf("engine: cast from %s to %s is not supported", from, to.Name)
}

// intColumn builds an integer or bigint column from int64 values.
func intColumn(mem memory.Allocator, to core.Type, vals []int64, valid []bool) arrow.Array {
	if to.Arrow.ID() == arrow.INT32 {
		buf, out := newValues[int32](mem, len(vals))
		for i, v := range vals {
			out[i] = int32(v)
		}
		return finishFixed(mem, to.Arrow, valid, buf)
	}
	buf, out := newValues[int64](mem, len(vals))
	copy(out, vals)
	return finishFixed(mem, to.Arrow, valid, buf)
}

func castToString(mem memory.Allocator, x arrow.Array, valid []bool) (arrow.Array, error) {
	n := x.Len()
	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	var buf []byte
	for i := 0; i < n; i++ {
		if !valid[i] {
			bld.AppendNull()
			continue
		}
		buf = appendText(buf[:0], x, i)
		bld.BinaryBuilder.Append(buf)
	}
	return bld.NewArray(), nil
}

// appendText renders row i of x as DuckDB casts it to varchar.
func appendText(dst []byte, x arrow.Array, i int) []byte {
	switch a := x.(type) {
	case *array.Boolean:
		return strconv.AppendBool(dst, a.Value(i))
	case *array.Int32:
		return strconv.AppendInt(dst, int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.AppendInt(dst, a.Value(i), 10)
	case *array.Float64:
		return AppendDouble(dst, a.Value(i))
	case *array.String:
		return append(dst, a.Value(i)...)
	case *array.Date32:
		return appendDate(dst, int64(a.Value(i)))
	case *array.Timestamp:
		dst = appendTimestamp(dst, int64(a.Value(i)))
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			dst = append(dst, "+00"...)
		}
		return dst
	case *array.MonthDayNanoInterval:
		return append(dst, core.FormatInterval(a.Value(i))...)
	case *array.Decimal128:
		return append(dst, a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)...)
	}
	return append(dst, x.ValueStr(i)...)
}

// AppendDouble formats f the way DuckDB casts a double to varchar: the
// shortest text that reads back exactly, "1.0" for whole numbers, an
// exponent below 1e-4 and from 1e16 on, and nan / inf / -inf.
func AppendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		return append(dst, "0.0"...)
	}
	if a := math.Abs(f); a < 1e-4 || a >= 1e16 {
		return strconv.AppendFloat(dst, f, 'e', -1, 64)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
	for _, c := range dst[start:] {
		if c == '.' {
			return dst
		}
	}
	return append(dst, ".0"...)
}

func appendDate(dst []byte, days int64) []byte {
	y, m, d := civil(days)
	if y >= 0 && y <= 9999 {
		return append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
			byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	}
	return fmt.Appendf(dst, "%04d-%02d-%02d", y, m, d)
}

func appendTimestamp(dst []byte, us int64) []byte {
	days, tod := splitTS(us)
	dst = appendDate(dst, days)
	h, mi, s, f := tod/usPerHour, tod/usPerMin%60, tod/usPerSec%60, tod%usPerSec
	dst = append(dst, ' ', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if f != 0 {
		frac := []byte{'.', 0, 0, 0, 0, 0, 0}
		for k := 6; k >= 1; k-- {
			frac[k] = byte('0' + f%10)
			f /= 10
		}
		k := 6
		for frac[k] == '0' {
			k--
		}
		dst = append(dst, frac[:k+1]...)
	}
	return dst
}

func castFromString(mem memory.Allocator, s *array.String, to core.Type, valid []bool) (arrow.Array, error) {
	n := s.Len()
	bad := func(i int) error {
		return fmt.Errorf("%w: invalid input syntax for type %s: %q", ErrCast, to.Name, s.Value(i))
	}
	switch to.Arrow.ID() {
	case arrow.INT32, arrow.INT64:
		out := make([]int64, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			v, ok := ParseInt(s.Value(i))
			if !ok || (to.Arrow.ID() == arrow.INT32 && v != int64(int32(v))) {
				return nil, bad(i)
			}
			out[i] = v
		}
		return intColumn(mem, to, out, valid), nil
	case arrow.FLOAT64:
		buf, out := newValues[float64](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(s.Value(i)), 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				buf.Release()
				return nil, bad(i)
			}
			out[i] = v
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case arrow.BOOL:
		bld := array.NewBooleanBuilder(mem)
		defer bld.Release()
		bld.Reserve(n)
		for i := 0; i < n; i++ {
			if !valid[i] {
				bld.AppendNull()
				continue
			}
			v, ok := ParseBool(s.Value(i))
			if !ok {
				return nil, bad(i)
			}
			bld.UnsafeAppend(v)
		}
		return bld.NewArray(), nil
	case arrow.DATE32:
		buf, out := newValues[int32](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			us, ok := ParseTimestamp(s.Value(i), false)
			if !ok {
				buf.Release()
				return nil, bad(i)
			}
			out[i] = int32(floorDivT(us, usPerDay))
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case arrow.TIMESTAMP:
		tz := to.Arrow.(*arrow.TimestampType).TimeZone != ""
		buf, out := newValues[int64](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			us, ok := ParseTimestamp(s.Value(i), tz)
			if !ok {
				buf.Release()
				return nil, bad(i)
			}
			out[i] = us
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case arrow.INTERVAL_MONTH_DAY_NANO:
		buf, out := newValues[arrow.MonthDayNanoInterval](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			iv, err := ParseInterval(s.Value(i), "")
			if err != nil {
				buf.Release()
				return nil, fmt.Errorf("%w: %v", ErrCast, err)
			}
			out[i] = iv
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case arrow.DECIMAL128:
		dt := to.Arrow.(*arrow.Decimal128Type)
		buf, out := newValues[decimalNum](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			v, err := decimal128.FromString(strings.TrimSpace(s.Value(i)), dt.Precision, dt.Scale)
			if err != nil {
				buf.Release()
				return nil, bad(i)
			}
			out[i] = v
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	}
	return nil, fmt.Errorf("engine: cast from varchar to %s is not supported", to.Name)
}

// ParseInt reads an integer the way DuckDB casts text: surrounding spaces
// are ignored, and a decimal or exponent form rounds half away from zero.
func ParseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || strings.ContainsAny(s, "xXnNiI") {
		return 0, false
	}
	r := math.Round(f)
	if r < math.MinInt64 || r >= math.MaxInt64 {
		return 0, false
	}
	return int64(r), true
}

// ParseBool reads true/false, t/f, yes/no, y/n, on/off and 1/0.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "t", "yes", "y", "on", "1":
		return true, true
	case "false", "f", "no", "n", "off", "0":
		return false, true
	}
	return false, false
}

// ParseTimestamp reads 'YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][zone]' into
// microseconds. A zone (Z, +HH, +HH:MM, +HHMM) shifts the value to UTC when
// tz is set and is ignored otherwise (timestamp without time zone).
func ParseTimestamp(s string, tz bool) (int64, bool) {
	s = strings.TrimSpace(s)
	num := func(k int) (int64, bool) {
		if len(s) < k {
			return 0, false
		}
		var v int64
		for j := 0; j < k; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int64(c-'0')
		}
		s = s[k:]
		return v, true
	}
	sep := func(c byte) bool {
		if len(s) > 0 && s[0] == c {
			s = s[1:]
			return true
		}
		return false
	}
	y, ok := num(4)
	if !ok || !sep('-') {
		return 0, false
	}
	m, ok := num(2)
	if !ok || !sep('-') {
		return 0, false
	}
	d, ok := num(2)
	if !ok || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	us := daysFrom(y, m, d) * usPerDay
	if len(s) == 0 {
		return us, true
	}
	if !sep(' ') && !sep('T') {
		return 0, false
	}
	h, ok1 := num(2)
	ok2 := sep(':')
	mi, ok3 := num(2)
	if !ok1 || !ok2 || !ok3 || h > 24 || mi > 59 {
		return 0, false
	}
	us += h*usPerHour + mi*usPerMin
	if sep(':') {
		sec, ok := num(2)
		if !ok || sec > 60 {
			return 0, false
		}
		us += sec * usPerSec
		if sep('.') {
			scale := int64(100000)
			digits := 0
			for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
				if digits < 6 {
					us += int64(s[0]-'0') * scale
					scale /= 10
				}
				digits++
				s = s[1:]
			}
			if digits == 0 {
				return 0, false
			}
		}
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "Z" || s == "z" || strings.EqualFold(s, "UTC") {
		return us, true
	}
	if s[0] != '+' && s[0] != '-' {
		return 0, false
	}
	neg := s[0] == '-'
	s = s[1:]
	oh, ok := num(2)
	if !ok {
		return 0, false
	}
	sep(':')
	var om int64
	if len(s) > 0 {
		if om, ok = num(2); !ok || len(s) > 0 {
			return 0, false
		}
	}
	if tz {
		off := oh*usPerHour + om*usPerMin
		if neg {
			off = -off
		}
		us -= off
	}
	return us, true
}

// castDecimal converts between decimal and the numeric types.
func castDecimal(mem memory.Allocator, x arrow.Array, to core.Type, valid []bool) (arrow.Array, error) {
	n := x.Len()
	if dt, ok := to.Arrow.(*arrow.Decimal128Type); ok {
		buf, out := newValues[decimalNum](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			var v decimalNum
			var err error
			switch a := x.(type) {
			case *array.Int32:
				v, err = decimal128.FromI64(int64(a.Value(i))).Rescale(0, dt.Scale)
			case *array.Int64:
				v, err = decimal128.FromI64(a.Value(i)).Rescale(0, dt.Scale)
			case *array.Float64:
				v, err = decimal128.FromFloat64(a.Value(i), dt.Precision, dt.Scale)
			case *array.Decimal128:
				v, err = a.Value(i).Rescale(a.DataType().(*arrow.Decimal128Type).Scale, dt.Scale)
			default:
				err = fmt.Errorf("from %s", x.DataType())
			}
			if err == nil && !v.FitsInPrecision(dt.Precision) {
				err = fmt.Errorf("does not fit %s", to.Name)
			}
			if err != nil {
				buf.Release()
				return nil, fmt.Errorf("%w: %s: %v", ErrCast, to.Name, err)
			}
			out[i] = v
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	}
	d := x.(*array.Decimal128)
	scale := d.DataType().(*arrow.Decimal128Type).Scale
	switch to.Arrow.ID() {
	case arrow.FLOAT64:
		buf, out := newValues[float64](mem, n)
		for i := range out {
			out[i] = d.Value(i).ToFloat64(scale)
		}
		return finishFixed(mem, to.Arrow, valid, buf), nil
	case arrow.INT32, arrow.INT64:
		out := make([]int64, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			f := math.Round(d.Value(i).ToFloat64(scale))
			if f < math.MinInt64 || f >= math.MaxInt64 || (to.Arrow.ID() == arrow.INT32 && f != float64(int32(f))) {
				return nil, fmt.Errorf("%w: out of range for %s", ErrCast, to.Name)
			}
			out[i] = int64(f)
		}
		return intColumn(mem, to, out, valid), nil
	}
	return nil, fmt.Errorf("engine: cast from %s to %s is not supported", x.DataType(), to.Name)
}

// CastConst converts a constant (as Const holds it) from one type to
// another with the column kernels, so a folded literal and a cast column
// agree. mem serves the one-row scratch columns.
func CastConst(mem memory.Allocator, v any, from, to core.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	c, err := constColumn(mem, &Const{Value: v, T: from}, 1)
	if err != nil {
		return nil, err
	}
	defer c.Release()
	out, err := castAny(mem, c, to)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	return ConstValue(out, 0), nil
}

// ConstValue reads row i of a column as a Const value.
func ConstValue(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch x := a.(type) {
	case *array.Boolean:
		return x.Value(i)
	case *array.Int32:
		return int64(x.Value(i))
	case *array.Int64:
		return x.Value(i)
	case *array.Float64:
		return x.Value(i)
	case *array.String:
		return strings.Clone(x.Value(i))
	case *array.Binary:
		return append([]byte(nil), x.Value(i)...)
	case *array.Date32:
		return int64(x.Value(i))
	case *array.Timestamp:
		return int64(x.Value(i))
	case *array.MonthDayNanoInterval:
		return x.Value(i)
	case *array.Decimal128:
		return x.Value(i)
	}
	return nil
}
