package core

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// ValueAt returns row i of arr as a Go value: nil for NULL, bool, int32,
// int64, float64, string and []byte (both copied), time.Time (UTC) for date,
// timestamp and timestamptz, arrow.MonthDayNanoInterval for interval and the
// decimal text (a string) for decimal. It is for the read path (lookups, rendering), not the hot path.
func ValueAt(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		// Copy: the buffer may be C memory (DuckDB results) freed on Release.
		return strings.Clone(a.Value(i))
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Date32:
		return a.Value(i).ToTime()
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC()
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Uint8:
		return int64(a.Value(i))
	case *array.Uint16:
		return int64(a.Value(i))
	case *array.Uint32:
		return int64(a.Value(i))
	case *array.Uint64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.LargeString:
		return strings.Clone(a.Value(i))
	case *array.Decimal128:
		dt := a.DataType().(*arrow.Decimal128Type)
		return a.Value(i).ToString(dt.Scale)
	case *array.MonthDayNanoInterval:
		return a.Value(i)
	}
	return fmt.Sprint(arr.ValueStr(i))
}

// FormatValue renders a value from ValueAt as text, the way the CLI's table
// and CSV output show it.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case []byte:
		return fmt.Sprintf("\\x%x", x)
	case time.Time:
		// Dates come back as midnight timestamps; callers that know the
		// column is a date format it with FormatDate.
		return x.Format("2006-01-02 15:04:05.999999")
	case float64:
		return fmt.Sprint(x)
	case arrow.MonthDayNanoInterval:
		return FormatInterval(x)
	}
	return fmt.Sprint(v)
}

// AppendValue appends a Go value, as ValueAt returns it, to b. The value
// must match the builder (int64 for bigint, time.Time for date and
// timestamp, ...); a mismatch is a programming error and panics.
func AppendValue(b array.Builder, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.Int32Builder:
		bb.Append(v.(int32))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.BinaryBuilder:
		bb.Append(v.([]byte))
	case *array.Date32Builder:
		bb.Append(arrow.Date32FromTime(v.(time.Time)))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.MonthDayNanoIntervalBuilder:
		bb.Append(v.(arrow.MonthDayNanoInterval))
	case *array.Decimal128Builder:
		dt := bb.Type().(*arrow.Decimal128Type)
		n, err := decimal128.FromString(v.(string), dt.Precision, dt.Scale)
		if err != nil {
			panic(fmt.Sprintf("core: AppendValue: %v", err))
		}
		bb.Append(n)
	default:
		panic(fmt.Sprintf("core: AppendValue: no case for %T", b))
	}
}

// FormatDate renders a date value (a time.Time at midnight UTC).
func FormatDate(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.Format("2006-01-02")
	}
	return FormatValue(v)
}

// FormatInterval renders an interval the way DuckDB casts one to text:
// "1 year 2 months 3 days 04:05:06.789", "36:00:00", "-1 day 03:00:00";
// the zero interval is "00:00:00". Nanoseconds below a microsecond are
// dropped (strata keeps microsecond precision).
func FormatInterval(iv arrow.MonthDayNanoInterval) string {
	var b strings.Builder
	unit := func(n int64, name string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d %s", n, name)
		if n != 1 && n != -1 {
			b.WriteByte('s')
		}
	}
	if iv.Months != 0 {
		y, m := iv.Months/12, iv.Months%12
		if y != 0 {
			unit(int64(y), "year")
		}
		if m != 0 {
			unit(int64(m), "month")
		}
	}
	if iv.Days != 0 {
		unit(int64(iv.Days), "day")
	}
	us := iv.Nanoseconds / 1000
	if us != 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		u := uint64(us)
		if us < 0 {
			b.WriteByte('-')
			u = uint64(-us)
		}
		const sec = 1_000_000
		fmt.Fprintf(&b, "%02d:%02d:%02d", u/(3600*sec), u/(60*sec)%60, u/sec%60)
		if f := u % sec; f != 0 {
			b.WriteString(strings.TrimRight(fmt.Sprintf(".%06d", f), "0"))
		}
	} else if b.Len() == 0 {
		b.WriteString("00:00:00")
	}
	return b.String()
}
