package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// kind is how one column travels in Postgres's binary format, which the
// backend writes (COPY ... BINARY, parameters) and reads (results) itself:
// no per-value reflection, and Arrow columns encode without boxing.
type kind uint8

const (
	kBool kind = iota
	kInt32
	kInt64
	kFloat64
	kText
	kBytea
	kDate
	kTimestamp
	kTimestamptz
)

// Postgres type OIDs of the kinds (pg_type.dat).
var kindOID = [...]uint32{kBool: 16, kInt32: 23, kInt64: 20, kFloat64: 701, kText: 25, kBytea: 17, kDate: 1082, kTimestamp: 1114, kTimestamptz: 1184}

var kindSQL = [...]string{kBool: "BOOLEAN", kInt32: "INTEGER", kInt64: "BIGINT", kFloat64: "DOUBLE PRECISION", kText: "TEXT", kBytea: "BYTEA", kDate: "DATE", kTimestamp: "TIMESTAMP", kTimestamptz: "TIMESTAMPTZ"}

// kindOf maps a column type to its kind.
func kindOf(t core.Type) (kind, error) {
	switch t.Arrow.ID() {
	case arrow.BOOL:
		return kBool, nil
	case arrow.INT32:
		return kInt32, nil
	case arrow.INT64:
		return kInt64, nil
	case arrow.FLOAT64:
		return kFloat64, nil
	case arrow.STRING:
		return kText, nil
	case arrow.BINARY:
		return kBytea, nil
	case arrow.DATE32:
		return kDate, nil
	case arrow.TIMESTAMP:
		if ts := t.Arrow.(*arrow.TimestampType); ts.Unit == arrow.Microsecond {
			if ts.TimeZone != "" {
				return kTimestamptz, nil
			}
			return kTimestamp, nil
		}
	}
	return 0, fmt.Errorf("unsupported column type %s", t.Name)
}

// kindSize is the size of a fixed-width kind's binary value; 0 for text
// and bytea.
var kindSize = [...]int{kBool: 1, kInt32: 4, kInt64: 8, kFloat64: 8, kText: 0, kBytea: 0, kDate: 4, kTimestamp: 8, kTimestamptz: 8}

// Postgres counts dates and timestamps from 2000-01-01.
const (
	pgEpochDays   = 10957
	pgEpochMicros = pgEpochDays * 86400 * 1_000_000
)

// Text cannot hold U+0000 in Postgres. Strings travel escaped: U+0000 as
// U+FFFF '0' and U+FFFF itself as U+FFFF U+FFFF (a noncharacter, so real
// text almost never needs it); every other string is stored as is.
const escRune = '\uFFFF'

func needsEscape(s string) bool {
	return strings.IndexByte(s, 0) >= 0 || strings.ContainsRune(s, escRune)
}

func appendEscaped(buf []byte, s string) []byte {
	if !needsEscape(s) {
		return append(buf, s...)
	}
	for _, r := range s {
		switch r {
		case 0:
			buf = utf8.AppendRune(buf, escRune)
			buf = append(buf, '0')
		case escRune:
			buf = utf8.AppendRune(buf, escRune)
			buf = utf8.AppendRune(buf, escRune)
		default:
			buf = utf8.AppendRune(buf, r)
		}
	}
	return buf
}

func unescape(b []byte) string {
	s := string(b)
	if !strings.ContainsRune(s, escRune) {
		return s
	}
	var sb strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		if rs[i] == escRune && i+1 < len(rs) {
			i++
			if rs[i] == '0' {
				sb.WriteByte(0)
			} else {
				sb.WriteRune(rs[i])
			}
			continue
		}
		sb.WriteRune(rs[i])
	}
	return sb.String()
}

// appendField appends the binary COPY field (length, then value) of row i of
// arr, of kind k.
func appendField(buf []byte, k kind, arr arrow.Array, i int) ([]byte, error) {
	if arr.IsNull(i) {
		return binary.BigEndian.AppendUint32(buf, math.MaxUint32), nil // -1
	}
	switch k {
	case kBool:
		v := byte(0)
		if arr.(*array.Boolean).Value(i) {
			v = 1
		}
		return append(binary.BigEndian.AppendUint32(buf, 1), v), nil
	case kInt32:
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(buf, 4), uint32(arr.(*array.Int32).Value(i))), nil
	case kInt64:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(buf, 8), uint64(arr.(*array.Int64).Value(i))), nil
	case kFloat64:
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(buf, 8), math.Float64bits(arr.(*array.Float64).Value(i))), nil
	case kText:
		s := arr.(*array.String).Value(i)
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("string %q is not valid UTF-8, which Postgres text cannot hold", s)
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = appendEscaped(buf, s)
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
		return buf, nil
	case kBytea:
		v := arr.(*array.Binary).Value(i)
		return append(binary.BigEndian.AppendUint32(buf, uint32(len(v))), v...), nil
	case kDate:
		d := int64(arr.(*array.Date32).Value(i)) - pgEpochDays
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(buf, 4), uint32(int32(d))), nil
	case kTimestamp, kTimestamptz:
		us := int64(arr.(*array.Timestamp).Value(i)) - pgEpochMicros
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(buf, 8), uint64(us)), nil
	}
	return nil, fmt.Errorf("unsupported kind %d", k)
}

// encodeParam returns the binary parameter form of v (a value in
// core.ValueAt form, already coerced to kind k); nil encodes SQL NULL.
func encodeParam(k kind, v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	var buf []byte
	switch k {
	case kBool:
		if v.(bool) {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case kInt32:
		return binary.BigEndian.AppendUint32(buf, uint32(v.(int32))), nil
	case kInt64:
		return binary.BigEndian.AppendUint64(buf, uint64(v.(int64))), nil
	case kFloat64:
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.(float64))), nil
	case kText:
		s := v.(string)
		if !utf8.ValidString(s) {
			return nil, fmt.Errorf("string %q is not valid UTF-8", s)
		}
		return appendEscaped(buf, s), nil
	case kBytea:
		return append([]byte{}, v.([]byte)...), nil
	case kDate:
		t := v.(time.Time)
		days := t.Unix()/86400 - pgEpochDays
		return binary.BigEndian.AppendUint32(buf, uint32(int32(days))), nil
	case kTimestamp, kTimestamptz:
		return binary.BigEndian.AppendUint64(buf, uint64(v.(time.Time).UnixMicro()-pgEpochMicros)), nil
	}
	return nil, fmt.Errorf("unsupported kind %d", k)
}

// decodeValue decodes a binary result value of kind k into core.ValueAt
// form; nil data is SQL NULL. The result does not alias b.
func decodeValue(k kind, b []byte) (any, error) {
	if b == nil {
		return nil, nil
	}
	if n := kindSize[k]; n > 0 && len(b) != n {
		return nil, fmt.Errorf("binary %s value has %d bytes, want %d", kindSQL[k], len(b), n)
	}
	switch k {
	case kBool:
		return b[0] != 0, nil
	case kInt32:
		return int32(binary.BigEndian.Uint32(b)), nil
	case kInt64:
		return int64(binary.BigEndian.Uint64(b)), nil
	case kFloat64:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case kText:
		return unescape(b), nil
	case kBytea:
		return append([]byte{}, b...), nil
	case kDate:
		d := int64(int32(binary.BigEndian.Uint32(b)))
		return time.Unix((d+pgEpochDays)*86400, 0).UTC(), nil
	case kTimestamp, kTimestamptz:
		return time.UnixMicro(int64(binary.BigEndian.Uint64(b)) + pgEpochMicros).UTC(), nil
	}
	return nil, fmt.Errorf("unsupported kind %d", k)
}
