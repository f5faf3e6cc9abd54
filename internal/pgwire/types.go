package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/jackc/pgx/v5/pgtype"
)

// Postgres type OIDs the server sends and understands.
const (
	oidBool        = 16
	oidBytea       = 17
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidOID         = 26
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidUnknown     = 705
	oidBpchar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidInterval    = 1186
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// pgTypes names the OIDs above, in Postgres' spelling, with the DuckDB type
// a parameter of that type is cast to.
var pgTypes = map[uint32]struct{ name, duck string }{
	oidBool: {"boolean", "BOOLEAN"}, oidBytea: {"bytea", "BLOB"}, oidName: {"name", "VARCHAR"},
	oidInt8: {"bigint", "BIGINT"}, oidInt2: {"smallint", "SMALLINT"}, oidInt4: {"integer", "INTEGER"},
	oidText: {"text", "VARCHAR"}, oidOID: {"oid", "BIGINT"}, oidJSON: {"json", "VARCHAR"},
	oidFloat4: {"real", "FLOAT"}, oidFloat8: {"double precision", "DOUBLE"},
	oidBpchar: {"character", "VARCHAR"}, oidVarchar: {"character varying", "VARCHAR"},
	oidDate: {"date", "DATE"}, oidTime: {"time", "TIME"}, oidTimestamp: {"timestamp", "TIMESTAMP"},
	oidTimestamptz: {"timestamptz", "TIMESTAMPTZ"}, oidInterval: {"interval", "INTERVAL"},
	oidNumeric: {"numeric", "DECIMAL"}, oidUUID: {"uuid", "UUID"}, oidJSONB: {"jsonb", "VARCHAR"},
}

// typeNames maps SQL type spellings (as in $1::int8 or PREPARE p(int)) to OIDs.
var typeNames = map[string]uint32{
	"bool": oidBool, "boolean": oidBool,
	"bytea": oidBytea, "blob": oidBytea,
	"int8": oidInt8, "bigint": oidInt8,
	"int2": oidInt2, "smallint": oidInt2,
	"int": oidInt4, "int4": oidInt4, "integer": oidInt4,
	"text": oidText, "varchar": oidVarchar, "character varying": oidVarchar, "string": oidText,
	"char": oidBpchar, "character": oidBpchar, "bpchar": oidBpchar, "name": oidName,
	"float4": oidFloat4, "real": oidFloat4, "float": oidFloat8,
	"float8": oidFloat8, "double": oidFloat8, "double precision": oidFloat8,
	"date": oidDate, "time": oidTime,
	"timestamp": oidTimestamp, "timestamp without time zone": oidTimestamp,
	"timestamptz": oidTimestamptz, "timestamp with time zone": oidTimestamptz,
	"interval": oidInterval, "numeric": oidNumeric, "decimal": oidNumeric,
	"uuid": oidUUID, "json": oidJSON, "jsonb": oidJSONB, "oid": oidOID,
}

// lookupType resolves a type spelling such as "numeric(10, 2)" or
// "pg_catalog.int8" to its OID.
func lookupType(s string) (uint32, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = strings.TrimPrefix(s, "pg_catalog.")
	s = strings.Join(strings.Fields(s), " ")
	oid, ok := typeNames[s]
	return oid, ok
}

func typeName(oid uint32) string {
	if t, ok := pgTypes[oid]; ok {
		return t.name
	}
	return fmt.Sprintf("type %d", oid)
}

// field is a result column as RowDescription describes it.
type field struct {
	name string
	oid  uint32
	size int16
	mod  int32
}

// fieldFor maps an Arrow type to the Postgres type its values are sent as.
func fieldFor(name string, dt arrow.DataType) field {
	f := field{name: name, oid: oidText, size: -1, mod: -1}
	switch t := dt.(type) {
	case arrow.ExtensionType:
		// uuid, json and the like: sent as their text.
		return f
	case *arrow.DictionaryType:
		return fieldFor(name, t.ValueType)
	case *arrow.BooleanType:
		f.oid, f.size = oidBool, 1
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Uint8Type:
		f.oid, f.size = oidInt2, 2
	case *arrow.Int32Type, *arrow.Uint16Type:
		f.oid, f.size = oidInt4, 4
	case *arrow.Int64Type, *arrow.Uint32Type:
		f.oid, f.size = oidInt8, 8
	case *arrow.Uint64Type:
		f.oid = oidNumeric
	case *arrow.Float16Type, *arrow.Float32Type:
		f.oid, f.size = oidFloat4, 4
	case *arrow.Float64Type:
		f.oid, f.size = oidFloat8, 8
	case *arrow.Decimal128Type:
		f.oid, f.mod = oidNumeric, (t.Precision<<16|t.Scale)+4
	case *arrow.Decimal256Type:
		f.oid, f.mod = oidNumeric, (t.Precision<<16|t.Scale)+4
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		f.oid = oidBytea
	case *arrow.Date32Type, *arrow.Date64Type:
		f.oid, f.size = oidDate, 4
	case *arrow.TimestampType:
		f.oid, f.size = oidTimestamp, 8
		if t.TimeZone != "" {
			f.oid = oidTimestamptz
		}
	case *arrow.Time32Type, *arrow.Time64Type:
		f.oid, f.size = oidTime, 8
	case *arrow.MonthDayNanoIntervalType, *arrow.MonthIntervalType, *arrow.DayTimeIntervalType, *arrow.DurationType:
		f.oid, f.size = oidInterval, 16
	}
	return f
}

// pgEpoch is 2000-01-01, the origin of Postgres' binary dates and times.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	pgEpochDays   = 10957           // days from 1970-01-01 to 2000-01-01
	pgEpochMicros = 946684800000000 // microseconds from 1970 to 2000
)

// encoder appends the values of result columns to DataRows. It is owned by
// one connection.
type encoder struct {
	types *pgtype.Map // for binary numeric
}

// appendValue appends row i of arr, in format (0 text, 1 binary), as the
// Postgres type fieldFor(arr.DataType()) names. The caller handles NULL.
func (e *encoder) appendValue(buf []byte, arr arrow.Array, i int, binaryFmt bool) ([]byte, error) {
	switch a := arr.(type) {
	case *array.Boolean:
		if binaryFmt {
			if a.Value(i) {
				return append(buf, 1), nil
			}
			return append(buf, 0), nil
		}
		if a.Value(i) {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	case *array.Int8:
		return appendInt(buf, int64(a.Value(i)), 2, binaryFmt), nil
	case *array.Int16:
		return appendInt(buf, int64(a.Value(i)), 2, binaryFmt), nil
	case *array.Uint8:
		return appendInt(buf, int64(a.Value(i)), 2, binaryFmt), nil
	case *array.Int32:
		return appendInt(buf, int64(a.Value(i)), 4, binaryFmt), nil
	case *array.Uint16:
		return appendInt(buf, int64(a.Value(i)), 4, binaryFmt), nil
	case *array.Int64:
		return appendInt(buf, a.Value(i), 8, binaryFmt), nil
	case *array.Uint32:
		return appendInt(buf, int64(a.Value(i)), 8, binaryFmt), nil
	case *array.Uint64:
		return e.appendNumeric(buf, strconv.FormatUint(a.Value(i), 10), binaryFmt)
	case *array.Float16:
		return appendFloat(buf, float64(a.Value(i).Float32()), 32, binaryFmt), nil
	case *array.Float32:
		return appendFloat(buf, float64(a.Value(i)), 32, binaryFmt), nil
	case *array.Float64:
		return appendFloat(buf, a.Value(i), 64, binaryFmt), nil
	case *array.Decimal128:
		return e.appendNumeric(buf, decimal128String(a.Value(i), a.DataType().(*arrow.Decimal128Type).Scale), binaryFmt)
	case *array.Decimal256:
		return e.appendNumeric(buf, decimal256String(a.Value(i), a.DataType().(*arrow.Decimal256Type).Scale), binaryFmt)
	case *array.String:
		return append(buf, a.Value(i)...), nil
	case *array.LargeString:
		return append(buf, a.Value(i)...), nil
	case *array.StringView:
		return append(buf, a.Value(i)...), nil
	case *array.Binary:
		return appendBytea(buf, a.Value(i), binaryFmt), nil
	case *array.LargeBinary:
		return appendBytea(buf, a.Value(i), binaryFmt), nil
	case *array.BinaryView:
		return appendBytea(buf, a.Value(i), binaryFmt), nil
	case *array.Date32:
		return appendDate(buf, int64(a.Value(i)), binaryFmt), nil
	case *array.Date64:
		return appendDate(buf, int64(a.Value(i))/86400000, binaryFmt), nil
	case *array.Timestamp:
		dt := a.DataType().(*arrow.TimestampType)
		return appendTimestamp(buf, a.Value(i).ToTime(dt.Unit).UTC(), dt.TimeZone != "", binaryFmt), nil
	case *array.Time32:
		return appendTime(buf, int64(a.Value(i).ToTime(a.DataType().(*arrow.Time32Type).Unit).Sub(time.Unix(0, 0))/time.Microsecond), binaryFmt), nil
	case *array.Time64:
		return appendTime(buf, int64(a.Value(i).ToTime(a.DataType().(*arrow.Time64Type).Unit).Sub(time.Unix(0, 0))/time.Microsecond), binaryFmt), nil
	case *array.MonthDayNanoInterval:
		v := a.Value(i)
		return appendInterval(buf, v.Months, v.Days, v.Nanoseconds/1000, binaryFmt), nil
	case *array.MonthInterval:
		return appendInterval(buf, int32(a.Value(i)), 0, 0, binaryFmt), nil
	case *array.DayTimeInterval:
		v := a.Value(i)
		return appendInterval(buf, 0, v.Days, int64(v.Milliseconds)*1000, binaryFmt), nil
	case *array.Duration:
		d := arrow.Duration(a.Value(i))
		us := int64(d) * int64(a.DataType().(*arrow.DurationType).Unit.Multiplier()) / 1000
		return appendInterval(buf, 0, 0, us, binaryFmt), nil
	case *array.Dictionary:
		return e.appendValue(buf, a.Dictionary(), a.GetValueIndex(i), binaryFmt)
	case *array.FixedSizeBinary:
		if _, ext := arr.DataType().(arrow.ExtensionType); !ext {
			return appendBytea(buf, a.Value(i), binaryFmt), nil
		}
	}
	// Lists, structs, maps, extension types: their text, sent as text.
	return append(buf, arr.ValueStr(i)...), nil
}

func appendInt(buf []byte, v int64, size int, binaryFmt bool) []byte {
	if !binaryFmt {
		return strconv.AppendInt(buf, v, 10)
	}
	switch size {
	case 2:
		return binary.BigEndian.AppendUint16(buf, uint16(int16(v)))
	case 4:
		return binary.BigEndian.AppendUint32(buf, uint32(int32(v)))
	}
	return binary.BigEndian.AppendUint64(buf, uint64(v))
}

func appendFloat(buf []byte, v float64, bits int, binaryFmt bool) []byte {
	if binaryFmt {
		if bits == 32 {
			return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(v)))
		}
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v))
	}
	return append(buf, formatFloat(v, bits)...)
}

// formatFloat renders v as Postgres 12+ does: the shortest text that reads
// back exactly, in exponent form only for exponents below -4 or from 15
// on (6 for real), and NaN, Infinity, -Infinity.
func formatFloat(v float64, bits int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	e := strconv.FormatFloat(v, 'e', -1, bits)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	limit := 15
	if bits == 32 {
		limit = 6
	}
	if exp < -4 || exp >= limit {
		return e
	}
	return strconv.FormatFloat(v, 'f', -1, bits)
}

func decimal128String(n decimal128.Num, scale int32) string {
	return insertPoint(n.BigInt().String(), scale)
}

func decimal256String(n decimal256.Num, scale int32) string {
	return insertPoint(n.BigInt().String(), scale)
}

// insertPoint places the decimal point scale digits from the right of the
// integer text s: insertPoint("-1250", 2) is "-12.50".
func insertPoint(s string, scale int32) string {
	if scale <= 0 {
		return s
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if len(s) <= int(scale) {
		s = strings.Repeat("0", int(scale)-len(s)+1) + s
	}
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if neg {
		return "-" + s
	}
	return s
}

func (e *encoder) appendNumeric(buf []byte, s string, binaryFmt bool) ([]byte, error) {
	if !binaryFmt {
		return append(buf, s...), nil
	}
	var n pgtype.Numeric
	if err := n.Scan(s); err != nil {
		return nil, fmt.Errorf("pgwire: numeric %q: %w", s, err)
	}
	return e.types.Encode(oidNumeric, pgtype.BinaryFormatCode, n, buf)
}

func appendBytea(buf, v []byte, binaryFmt bool) []byte {
	if binaryFmt {
		return append(buf, v...)
	}
	buf = append(buf, '\\', 'x')
	return hex.AppendEncode(buf, v)
}

// appendDate appends a date given in days since 1970-01-01.
func appendDate(buf []byte, days int64, binaryFmt bool) []byte {
	if binaryFmt {
		return binary.BigEndian.AppendUint32(buf, uint32(int32(days-pgEpochDays)))
	}
	buf, bc := appendYMD(buf, time.Unix(days*86400, 0).UTC())
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendYMD writes a date as Postgres does, YYYY-MM-DD, and reports
// whether the year is before 1 (the caller appends " BC").
func appendYMD(buf []byte, t time.Time) ([]byte, bool) {
	y := t.Year()
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	return fmt.Appendf(buf, "%04d-%02d-%02d", y, int(t.Month()), t.Day()), bc
}

func appendTimestamp(buf []byte, t time.Time, tz, binaryFmt bool) []byte {
	if binaryFmt {
		return binary.BigEndian.AppendUint64(buf, uint64(t.UnixMicro()-pgEpochMicros))
	}
	buf, bc := appendYMD(buf, t)
	buf = t.AppendFormat(append(buf, ' '), "15:04:05.999999")
	if tz {
		// Sessions run in UTC (the TimeZone parameter).
		buf = append(buf, "+00"...)
	}
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendTime appends a time of day given in microseconds since midnight.
func appendTime(buf []byte, us int64, binaryFmt bool) []byte {
	if binaryFmt {
		return binary.BigEndian.AppendUint64(buf, uint64(us))
	}
	t := time.UnixMicro(us).UTC()
	return t.AppendFormat(buf, "15:04:05.999999")
}

// appendInterval writes an interval; text follows IntervalStyle postgres:
// "1 year 2 mons 3 days 04:05:06.5", "-00:00:01", "00:00:00".
func appendInterval(buf []byte, months, days int32, us int64, binaryFmt bool) []byte {
	if binaryFmt {
		buf = binary.BigEndian.AppendUint64(buf, uint64(us))
		buf = binary.BigEndian.AppendUint32(buf, uint32(days))
		return binary.BigEndian.AppendUint32(buf, uint32(months))
	}
	start := len(buf)
	part := func(n int64, unit string) {
		if n == 0 {
			return
		}
		if len(buf) > start {
			buf = append(buf, ' ')
		}
		buf = strconv.AppendInt(buf, n, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if n != 1 && n != -1 {
			buf = append(buf, 's')
		}
	}
	part(int64(months/12), "year")
	part(int64(months%12), "mon")
	part(int64(days), "day")
	if us != 0 || len(buf) == start {
		if len(buf) > start {
			buf = append(buf, ' ')
		}
		if us < 0 {
			buf = append(buf, '-')
			us = -us
		}
		h := us / 3600e6
		m := us / 60e6 % 60
		s := us / 1e6 % 60
		frac := us % 1e6
		buf = fmt.Appendf(buf, "%02d:%02d:%02d", h, m, s)
		if frac != 0 {
			f := strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
			buf = append(buf, '.')
			buf = append(buf, f...)
		}
	}
	return buf
}
