package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// Time values: timestamp and timestamptz are int64 microseconds since the
// Unix epoch (UTC), date is int32 days, interval is months, days and
// nanoseconds (strata keeps whole microseconds in it).
const (
	usPerSec   = int64(1_000_000)
	usPerMin   = 60 * usPerSec
	usPerHour  = 60 * usPerMin
	usPerDay   = 24 * usPerHour
	usPerMonth = 30 * usPerDay
)

func init() {
	kernels["extract"] = extractKernel
	kernels["date_trunc"] = dateTruncKernel
	kernels["to_timestamp"] = toTimestampKernel
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := floorDivT(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFrom is the inverse of civil.
func daysFrom(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDivT(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func floorDivT(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// splitTS splits microseconds into days and the time of day.
func splitTS(us int64) (days, tod int64) {
	days = floorDivT(us, usPerDay)
	return days, us - days*usPerDay
}

// addMonths adds n calendar months, clamping the day to the month's end
// (2024-01-31 + 1 month = 2024-02-29), as Postgres and DuckDB do.
func addMonths(us int64, n int64) int64 {
	if n == 0 {
		return us
	}
	days, tod := splitTS(us)
	y, m, d := civil(days)
	mm := y*12 + (m - 1) + n
	y, m = floorDivT(mm, 12), mm-floorDivT(mm, 12)*12+1
	d = min(d, daysIn(y, m))
	return daysFrom(y, m, d)*usPerDay + tod
}

func addInterval(us int64, iv arrow.MonthDayNanoInterval, sign int64) (int64, error) {
	us = addMonths(us, sign*int64(iv.Months))
	d, ok1 := mulOK(sign*int64(iv.Days), usPerDay)
	s, ok2 := addOK(us, d)
	s, ok3 := addOK(s, sign*(iv.Nanoseconds/1000))
	if !ok1 || !ok2 || !ok3 {
		return 0, fmt.Errorf("%w: timestamp", ErrOverflow)
	}
	return s, nil
}

func addOK(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0)
}

func mulOK(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	return p, p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}

// intervalOrd is an interval normalised the way DuckDB compares them:
// 30-day months and 24-hour days, so '1 month' = '30 days'.
type intervalOrd struct{ months, days, us int64 }

func intervalKey(iv arrow.MonthDayNanoInterval) intervalOrd {
	us := iv.Nanoseconds / 1000
	days := int64(iv.Days)
	months := int64(iv.Months) + days/30 + us/usPerMonth
	days %= 30
	us %= usPerMonth
	days += us / usPerDay
	us %= usPerDay
	return intervalOrd{months, days, us}
}

func (a intervalOrd) cmp(b intervalOrd) int {
	switch {
	case a.months != b.months:
		return cmpInt(a.months, b.months)
	case a.days != b.days:
		return cmpInt(a.days, b.days)
	}
	return cmpInt(a.us, b.us)
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// ParseInterval reads an interval literal: '5 minutes', '1 day 02:00:00',
// '1 year 2 months', '-3 hours', '00:01:30', '3.5 seconds', '2 weeks'. A
// bare number counts unit ("second" for a plain interval, or the field of
// INTERVAL '10' MINUTE).
func ParseInterval(s, unit string) (arrow.MonthDayNanoInterval, error) {
	var iv arrow.MonthDayNanoInterval
	bad := fmt.Errorf("invalid input syntax for type interval: %q", s)
	f := strings.Fields(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@")))
	if len(f) == 0 {
		return iv, bad
	}
	ago := false
	if f[len(f)-1] == "ago" {
		ago, f = true, f[:len(f)-1]
	}
	var months, days, us int64
	add := func(v float64, u string) bool {
		switch strings.TrimSuffix(u, "s") {
		case "year", "yr", "y":
			months += int64(math.Round(v * 12))
		case "decade":
			months += int64(math.Round(v * 120))
		case "century", "centurie":
			months += int64(math.Round(v * 1200))
		case "millennium", "millennia":
			months += int64(math.Round(v * 12000))
		case "month", "mon":
			whole := math.Trunc(v)
			months += int64(whole)
			days += int64(math.Round((v - whole) * 30))
		case "week", "w":
			days += int64(math.Round(v * 7))
		case "day", "d":
			whole := math.Trunc(v)
			days += int64(whole)
			us += int64(math.Round((v - whole) * float64(usPerDay)))
		case "hour", "hr", "h":
			us += int64(math.Round(v * float64(usPerHour)))
		case "minute", "min", "m":
			us += int64(math.Round(v * float64(usPerMin)))
		case "second", "sec", "":
			us += int64(math.Round(v * float64(usPerSec)))
		case "millisecond":
			us += int64(math.Round(v * 1000))
		case "microsecond", "u":
			us += int64(math.Round(v))
		default:
			return false
		}
		return true
	}
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.Contains(tok, ":") {
			v, ok := parseClock(tok)
			if !ok {
				return iv, bad
			}
			us += v
			continue
		}
		num, u := tok, ""
		if j := strings.IndexFunc(tok, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' }); j > 0 {
			num, u = tok[:j], tok[j:]
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > 1e15 {
			return iv, bad
		}
		if u == "" && i+1 < len(f) && !strings.Contains(f[i+1], ":") {
			if _, err := strconv.ParseFloat(f[i+1], 64); err != nil {
				i++
				u = f[i]
			}
		}
		if u == "" {
			u = unit
			if u == "" {
				u = "second"
			}
		}
		switch u {
		case "ms", "msec", "msecs", "milliseconds":
			u = "millisecond"
		case "us", "usec", "usecs", "microseconds":
			u = "microsecond"
		}
		if !add(v, u) {
			return iv, bad
		}
	}
	if ago {
		months, days, us = -months, -days, -us
	}
	if months > math.MaxInt32 || months < math.MinInt32 || days > math.MaxInt32 || days < math.MinInt32 || us > math.MaxInt64/1000 || us < math.MinInt64/1000 {
		return iv, fmt.Errorf("interval out of range: %q", s)
	}
	return arrow.MonthDayNanoInterval{Months: int32(months), Days: int32(days), Nanoseconds: us * 1000}, nil
}

// parseClock reads [-]H:MM[:SS[.ffffff]].
func parseClock(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || h > 1e9 {
		return 0, false
	}
	us := h*usPerHour + m*usPerMin
	if len(parts) == 3 {
		sec, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || sec < 0 || sec >= 61 {
			return 0, false
		}
		us += int64(math.Round(sec * float64(usPerSec)))
	}
	if neg {
		us = -us
	}
	return us, true
}

// temporalArith computes +, - and * over dates, timestamps and intervals;
// ok is false when the operand types are not temporal.
func temporalArith(mem memory.Allocator, op BinOp, l, r arrow.Array, t core.Type) (arrow.Array, bool, error) {
	lt, rt := l.DataType().ID(), r.DataType().ID()
	n := l.Len()
	const (
		ts  = arrow.TIMESTAMP
		dt  = arrow.DATE32
		iv  = arrow.INTERVAL_MONTH_DAY_NANO
		i64 = arrow.INT64
		i32 = arrow.INT32
	)
	isTime := func(id arrow.Type) bool { return id == ts || id == dt || id == iv }
	if !op.IsArithmetic() || !isTime(lt) && !isTime(rt) {
		return nil, false, nil
	}
	lb, rb := bitsOf(l), bitsOf(r)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = lb.ok(i) && rb.ok(i)
	}
	finish := func(buf *memory.Buffer) arrow.Array {
		nulls, nullN := nullMask(mem, valid)
		return makeArray(t.Arrow, n, nulls, nullN, buf)
	}
	fail := func(buf *memory.Buffer, err error) (arrow.Array, bool, error) {
		buf.Release()
		return nil, true, err
	}
	switch {
	case (lt == ts || lt == dt) && rt == iv && (op == OpAdd || op == OpSub), lt == iv && (rt == ts || rt == dt) && op == OpAdd:
		tsArr, ivArr := l, r
		if lt == iv {
			tsArr, ivArr = r, l
		}
		sign := int64(1)
		if op == OpSub {
			sign = -1
		}
		ivs := values[arrow.MonthDayNanoInterval](ivArr)
		buf, out := newValues[int64](mem, n)
		for i := range out {
			if !valid[i] {
				continue
			}
			var base int64
			if tsArr.DataType().ID() == dt {
				base = int64(values[int32](tsArr)[i]) * usPerDay
			} else {
				base = values[int64](tsArr)[i]
			}
			v, err := addInterval(base, ivs[i], sign)
			if err != nil {
				return fail(buf, err)
			}
			out[i] = v
		}
		return finish(buf), true, nil
	case lt == ts && rt == ts && op == OpSub:
		a, b := values[int64](l), values[int64](r)
		buf, out := newValues[arrow.MonthDayNanoInterval](mem, n)
		for i := range out {
			d, ok := addOK(a[i], -b[i])
			if valid[i] && (!ok || b[i] == math.MinInt64) {
				return fail(buf, fmt.Errorf("%w: interval", ErrOverflow))
			}
			out[i] = arrow.MonthDayNanoInterval{Days: int32(d / usPerDay), Nanoseconds: d % usPerDay * 1000}
		}
		return finish(buf), true, nil
	case lt == dt && rt == dt && op == OpSub:
		a, b := values[int32](l), values[int32](r)
		buf, out := newValues[int64](mem, n)
		for i := range out {
			out[i] = int64(a[i]) - int64(b[i])
		}
		return finish(buf), true, nil
	case lt == dt && (rt == i64 || rt == i32) && (op == OpAdd || op == OpSub), (lt == i64 || lt == i32) && rt == dt && op == OpAdd:
		dArr, nArr := l, r
		if lt != dt {
			dArr, nArr = r, l
		}
		sign := int64(1)
		if op == OpSub {
			sign = -1
		}
		ds := values[int32](dArr)
		buf, out := newValues[int32](mem, n)
		for i := range out {
			var k int64
			if nArr.DataType().ID() == i32 {
				k = int64(values[int32](nArr)[i])
			} else {
				k = values[int64](nArr)[i]
			}
			v := int64(ds[i]) + sign*k
			if valid[i] && (v > math.MaxInt32 || v < math.MinInt32 || k == math.MinInt64) {
				return fail(buf, fmt.Errorf("%w: date", ErrOverflow))
			}
			out[i] = int32(v)
		}
		return finish(buf), true, nil
	case lt == iv && rt == iv && (op == OpAdd || op == OpSub):
		a, b := values[arrow.MonthDayNanoInterval](l), values[arrow.MonthDayNanoInterval](r)
		sign := int64(1)
		if op == OpSub {
			sign = -1
		}
		buf, out := newValues[arrow.MonthDayNanoInterval](mem, n)
		for i := range out {
			m := int64(a[i].Months) + sign*int64(b[i].Months)
			d := int64(a[i].Days) + sign*int64(b[i].Days)
			ns, ok := addOK(a[i].Nanoseconds, sign*b[i].Nanoseconds)
			if valid[i] && (!ok || m != int64(int32(m)) || d != int64(int32(d))) {
				return fail(buf, fmt.Errorf("%w: interval", ErrOverflow))
			}
			out[i] = arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: ns}
		}
		return finish(buf), true, nil
	case (lt == iv && rt == i64 || lt == i64 && rt == iv) && op == OpMul:
		ivArr, kArr := l, r
		if lt != iv {
			ivArr, kArr = r, l
		}
		a, k := values[arrow.MonthDayNanoInterval](ivArr), values[int64](kArr)
		buf, out := newValues[arrow.MonthDayNanoInterval](mem, n)
		for i := range out {
			m, ok1 := mulOK(int64(a[i].Months), k[i])
			d, ok2 := mulOK(int64(a[i].Days), k[i])
			us, ok3 := mulOK(a[i].Nanoseconds/1000, k[i])
			if valid[i] && (!ok1 || !ok2 || !ok3 || m != int64(int32(m)) || d != int64(int32(d)) || us > math.MaxInt64/1000 || us < math.MinInt64/1000) {
				return fail(buf, fmt.Errorf("%w: interval", ErrOverflow))
			}
			out[i] = arrow.MonthDayNanoInterval{Months: int32(m), Days: int32(d), Nanoseconds: us * 1000}
		}
		return finish(buf), true, nil
	}
	return nil, false, nil
}

// negInterval is -x for an interval.
func negInterval(mem memory.Allocator, x arrow.Array) arrow.Array {
	n := x.Len()
	a := values[arrow.MonthDayNanoInterval](x)
	buf, out := newValues[arrow.MonthDayNanoInterval](mem, n)
	valid := make([]bool, n)
	xb := bitsOf(x)
	for i := range out {
		valid[i] = xb.ok(i)
		out[i] = arrow.MonthDayNanoInterval{Months: -a[i].Months, Days: -a[i].Days, Nanoseconds: -a[i].Nanoseconds}
	}
	nulls, nullN := nullMask(mem, valid)
	return makeArray(x.DataType(), n, nulls, nullN, buf)
}

// ExtractFields lists the fields extract/date_part know, for hints.
var ExtractFields = []string{"year", "quarter", "month", "week", "day", "dow", "isodow", "doy", "hour", "minute", "second", "millisecond", "microsecond", "epoch", "decade", "century", "millennium", "isoyear"}

// extractKernel is extract(field FROM x) / date_part(field, x) for
// timestamps and intervals: bigint, except epoch, a double (DuckDB's types;
// second is whole seconds, millisecond and microsecond include them).
func extractKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	field, _ := args[0].c.(string)
	x := args[1]
	if x.isConst() {
		c, err := x.column(mem, n)
		if err != nil {
			return nil, err
		}
		defer c.Release()
		x = operand{arr: c, t: x.t}
	}
	xb := bitsOf(x.arr)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = xb.ok(i)
	}
	nulls, nullN := nullMask(mem, valid)
	isIv := x.arr.DataType().ID() == arrow.INTERVAL_MONTH_DAY_NANO
	if field == "epoch" {
		buf, out := newValues[float64](mem, n)
		if isIv {
			for i, v := range values[arrow.MonthDayNanoInterval](x.arr) {
				out[i] = float64(v.Months)*30*86400 + float64(v.Days)*86400 + float64(v.Nanoseconds/1000)/1e6
			}
		} else {
			for i, v := range values[int64](x.arr) {
				out[i] = float64(v) / 1e6
			}
		}
		return makeArray(t.Arrow, n, nulls, nullN, buf), nil
	}
	buf, out := newValues[int64](mem, n)
	var err error
	if isIv {
		err = extractInterval(field, values[arrow.MonthDayNanoInterval](x.arr), out)
	} else {
		err = extractTS(field, values[int64](x.arr), out)
	}
	if err != nil {
		buf.Release()
		if nulls != nil {
			nulls.Release()
		}
		return nil, err
	}
	return makeArray(t.Arrow, n, nulls, nullN, buf), nil
}

func extractTS(field string, in, out []int64) error {
	for i, us := range in {
		days, tod := splitTS(us)
		var v int64
		switch field {
		case "hour":
			v = tod / usPerHour
		case "minute":
			v = tod / usPerMin % 60
		case "second":
			v = tod / usPerSec % 60
		case "millisecond":
			v = tod % usPerMin / 1000
		case "microsecond":
			v = tod % usPerMin
		case "dow":
			v = (days%7 + 11) % 7 // 1970-01-01 was a Thursday (4)
		case "isodow":
			v = (days%7+10)%7 + 1
		default:
			y, m, d := civil(days)
			switch field {
			case "year":
				v = y
			case "month":
				v = m
			case "day":
				v = d
			case "quarter":
				v = (m-1)/3 + 1
			case "doy":
				v = days - daysFrom(y, 1, 1) + 1
			case "decade":
				v = floorDivT(y, 10)
			case "century":
				if y > 0 {
					v = (y + 99) / 100
				} else {
					v = -((99 - y) / 100)
				}
			case "millennium":
				if y > 0 {
					v = (y + 999) / 1000
				} else {
					v = -((999 - y) / 1000)
				}
			case "week", "isoyear":
				wy, w := isoWeek(days)
				v = w
				if field == "isoyear" {
					v = wy
				}
			default:
				return fmt.Errorf("unknown field %q", field)
			}
		}
		out[i] = v
	}
	return nil
}

// isoWeek returns the ISO 8601 week-numbering year and week of a day.
func isoWeek(days int64) (int64, int64) {
	isodow := (days%7+10)%7 + 1
	thursday := days - isodow + 4
	y, _, _ := civil(thursday)
	return y, (thursday-daysFrom(y, 1, 1))/7 + 1
}

func extractInterval(field string, in []arrow.MonthDayNanoInterval, out []int64) error {
	for i, iv := range in {
		us := iv.Nanoseconds / 1000
		var v int64
		switch field {
		case "year":
			v = int64(iv.Months / 12)
		case "month":
			v = int64(iv.Months % 12)
		case "day":
			v = int64(iv.Days)
		case "hour":
			v = us / usPerHour
		case "minute":
			v = us % usPerHour / usPerMin
		case "second":
			v = us % usPerMin / usPerSec
		case "millisecond":
			v = us % usPerMin / 1000
		case "microsecond":
			v = us % usPerMin
		case "quarter":
			v = int64(iv.Months%12/3 + 1)
		case "decade":
			v = int64(iv.Months / 120)
		case "century":
			v = int64(iv.Months / 1200)
		case "millennium":
			v = int64(iv.Months / 12000)
		default:
			return fmt.Errorf("field %q is not supported for interval", field)
		}
		out[i] = v
	}
	return nil
}

// TruncUnits lists the units date_trunc knows, for hints.
var TruncUnits = []string{"microsecond", "millisecond", "second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade", "century", "millennium"}

// dateTruncKernel is date_trunc(unit, ts) over timestamps.
func dateTruncKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	unit, _ := args[0].c.(string)
	x := args[1]
	if x.isConst() {
		c, err := x.column(mem, n)
		if err != nil {
			return nil, err
		}
		defer c.Release()
		x = operand{arr: c, t: x.t}
	}
	xb := bitsOf(x.arr)
	valid := make([]bool, n)
	for i := range valid {
		valid[i] = xb.ok(i)
	}
	buf, out := newValues[int64](mem, n)
	in := values[int64](x.arr)
	step := map[string]int64{"microsecond": 1, "millisecond": 1000, "second": usPerSec, "minute": usPerMin, "hour": usPerHour, "day": usPerDay}
	if s, ok := step[unit]; ok {
		for i, v := range in {
			out[i] = floorDivT(v, s) * s
		}
	} else {
		for i, v := range in {
			days, _ := splitTS(v)
			y, m, _ := civil(days)
			switch unit {
			case "week":
				days -= (days%7 + 10) % 7 // back to Monday
			case "month":
				days = daysFrom(y, m, 1)
			case "quarter":
				days = daysFrom(y, (m-1)/3*3+1, 1)
			case "year":
				days = daysFrom(y, 1, 1)
			case "decade":
				days = daysFrom(floorDivT(y, 10)*10, 1, 1)
			case "century":
				days = daysFrom(floorDivT(y-1, 100)*100+1, 1, 1)
			case "millennium":
				days = daysFrom(floorDivT(y-1, 1000)*1000+1, 1, 1)
			default:
				buf.Release()
				return nil, fmt.Errorf("unknown unit %q", unit)
			}
			out[i] = days * usPerDay
		}
	}
	nulls, nullN := nullMask(mem, valid)
	return makeArray(t.Arrow, n, nulls, nullN, buf), nil
}

// toTimestampKernel is to_timestamp(epoch seconds) -> timestamptz.
func toTimestampKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	x := nums[float64](args[0])
	buf, out := newValues[int64](mem, n)
	valid := make([]bool, n)
	for i := range out {
		if args[0].null(i) {
			continue
		}
		valid[i] = true
		f := math.Round(x.at(i) * 1e6)
		if math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
			buf.Release()
			return nil, fmt.Errorf("%w: timestamp %v", ErrOverflow, x.at(i))
		}
		out[i] = int64(f)
	}
	nulls, nullN := nullMask(mem, valid)
	return makeArray(t.Arrow, n, nulls, nullN, buf), nil
}
