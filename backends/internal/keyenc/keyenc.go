package keyenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// Tags of the encoded values.
const (
	TagNull      byte = 0x01
	TagBool      byte = 0x10
	TagInt32     byte = 0x11
	TagInt64     byte = 0x12
	TagFloat64   byte = 0x13
	TagString    byte = 0x14
	TagBytes     byte = 0x15
	TagDate      byte = 0x16
	TagTimestamp byte = 0x17
)

const (
	escape     byte = 0x00
	escapedNul byte = 0xFF
	terminator byte = 0x01
)

// canonicalNaN is the bit pattern every NaN is encoded as.
const canonicalNaN = 0x7FF8000000000001

// AppendNull appends the encoding of NULL.
func AppendNull(dst []byte) []byte { return append(dst, TagNull) }

// AppendBool appends the encoding of v.
func AppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, TagBool, 1)
	}
	return append(dst, TagBool, 0)
}

// AppendInt32 appends the encoding of an integer.
func AppendInt32(dst []byte, v int32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, TagInt32), uint32(v)^(1<<31))
}

// AppendInt64 appends the encoding of a bigint.
func AppendInt64(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, TagInt64), uint64(v)^(1<<63))
}

// AppendDate appends the encoding of a date given in days since the epoch.
func AppendDate(dst []byte, days int32) []byte {
	return binary.BigEndian.AppendUint32(append(dst, TagDate), uint32(days)^(1<<31))
}

// AppendTimestamp appends the encoding of a timestamp given in microseconds
// since the epoch.
func AppendTimestamp(dst []byte, micros int64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, TagTimestamp), uint64(micros)^(1<<63))
}

// AppendFloat64 appends the encoding of a double.
func AppendFloat64(dst []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, TagFloat64), floatBits(v))
}

func floatBits(v float64) uint64 {
	switch {
	case v == 0:
		v = 0 // -0 == +0 in SQL
	case v != v:
		return canonicalNaN ^ (1 << 63)
	}
	b := math.Float64bits(v)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b ^ (1 << 63)
}

// AppendString appends the encoding of a varchar.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, TagString)
	return appendEscaped(dst, s)
}

// AppendBytes appends the encoding of a bytea.
func AppendBytes(dst []byte, b []byte) []byte {
	dst = append(dst, TagBytes)
	return appendEscaped(dst, b)
}

func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for {
		i := indexZero(s)
		if i < 0 {
			dst = append(dst, s...)
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, escape, escapedNul)
		s = s[i+1:]
	}
	return append(dst, escape, terminator)
}

func indexZero[T string | []byte](s T) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// AppendValue appends the encoding of v, a value in core.ValueAt form (nil,
// bool, int32, int64, float64, string, []byte, time.Time) of column type t.
// Callers convert user input to that form first (see backends/internal/schema.Coerce).
func AppendValue(dst []byte, t core.Type, v any) ([]byte, error) {
	if v == nil {
		return AppendNull(dst), nil
	}
	switch t.Arrow.ID() {
	case arrow.BOOL:
		if x, ok := v.(bool); ok {
			return AppendBool(dst, x), nil
		}
	case arrow.INT32:
		if x, ok := v.(int32); ok {
			return AppendInt32(dst, x), nil
		}
	case arrow.INT64:
		if x, ok := v.(int64); ok {
			return AppendInt64(dst, x), nil
		}
	case arrow.FLOAT64:
		if x, ok := v.(float64); ok {
			return AppendFloat64(dst, x), nil
		}
	case arrow.STRING:
		if x, ok := v.(string); ok {
			return AppendString(dst, x), nil
		}
	case arrow.BINARY:
		if x, ok := v.([]byte); ok {
			return AppendBytes(dst, x), nil
		}
	case arrow.DATE32:
		if x, ok := v.(time.Time); ok {
			return AppendDate(dst, int32(arrow.Date32FromTime(x))), nil
		}
	case arrow.TIMESTAMP:
		if x, ok := v.(time.Time); ok {
			return AppendTimestamp(dst, x.UnixMicro()), nil
		}
	default:
		return dst, fmt.Errorf("keyenc: unsupported type %s", t.Name)
	}
	return dst, fmt.Errorf("keyenc: %T value %v for a %s column", v, v, t.Name)
}

// ColumnEncoder appends the encoding of row i of the column it was built for.
type ColumnEncoder func(dst []byte, i int) []byte

// NewColumnEncoder returns an encoder over arr (borrowed: the encoder is
// valid while arr is). It supports the Arrow types of core's SQL types.
func NewColumnEncoder(arr arrow.Array) (ColumnEncoder, error) {
	switch a := arr.(type) {
	case *array.Boolean:
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendBool(dst, a.Value(i))
		}, nil
	case *array.Int32:
		vs := a.Int32Values()
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendInt32(dst, vs[i])
		}, nil
	case *array.Int64:
		vs := a.Int64Values()
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendInt64(dst, vs[i])
		}, nil
	case *array.Float64:
		vs := a.Float64Values()
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendFloat64(dst, vs[i])
		}, nil
	case *array.String:
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendString(dst, a.Value(i))
		}, nil
	case *array.Binary:
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendBytes(dst, a.Value(i))
		}, nil
	case *array.Date32:
		vs := a.Date32Values()
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendDate(dst, int32(vs[i]))
		}, nil
	case *array.Timestamp:
		if a.DataType().(*arrow.TimestampType).Unit != arrow.Microsecond {
			return nil, fmt.Errorf("keyenc: unsupported timestamp unit %s (want us)", a.DataType())
		}
		vs := a.TimestampValues()
		return func(dst []byte, i int) []byte {
			if a.IsNull(i) {
				return AppendNull(dst)
			}
			return AppendTimestamp(dst, int64(vs[i]))
		}, nil
	}
	return nil, fmt.Errorf("keyenc: unsupported column type %s", arr.DataType())
}

// ErrCorrupt is returned by Decode for input that no encoder produces.
var ErrCorrupt = errors.New("keyenc: corrupt key")

// Decode decodes a whole encoded key into values in core.ValueAt form. It
// accepts exactly the canonical encodings the Append functions produce, so
// re-encoding what it returns reproduces b.
func Decode(b []byte) ([]any, error) {
	var out []any
	for len(b) > 0 {
		v, rest, err := DecodeOne(b)
		if err != nil {
			return out, err
		}
		out = append(out, v)
		b = rest
	}
	return out, nil
}

// DecodeOne decodes the first value of b and returns the rest.
func DecodeOne(b []byte) (v any, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%w: empty input", ErrCorrupt)
	}
	tag, b := b[0], b[1:]
	fixed := func(n int) ([]byte, error) {
		if len(b) < n {
			return nil, fmt.Errorf("%w: tag 0x%02x needs %d bytes, have %d", ErrCorrupt, tag, n, len(b))
		}
		return b[:n], nil
	}
	switch tag {
	case TagNull:
		return nil, b, nil
	case TagBool:
		p, err := fixed(1)
		if err != nil {
			return nil, nil, err
		}
		if p[0] > 1 {
			return nil, nil, fmt.Errorf("%w: boolean byte 0x%02x", ErrCorrupt, p[0])
		}
		return p[0] == 1, b[1:], nil
	case TagInt32, TagDate:
		p, err := fixed(4)
		if err != nil {
			return nil, nil, err
		}
		x := int32(binary.BigEndian.Uint32(p) ^ (1 << 31))
		if tag == TagDate {
			return arrow.Date32(x).ToTime(), b[4:], nil
		}
		return x, b[4:], nil
	case TagInt64, TagTimestamp:
		p, err := fixed(8)
		if err != nil {
			return nil, nil, err
		}
		x := int64(binary.BigEndian.Uint64(p) ^ (1 << 63))
		if tag == TagTimestamp {
			return time.UnixMicro(x).UTC(), b[8:], nil
		}
		return x, b[8:], nil
	case TagFloat64:
		p, err := fixed(8)
		if err != nil {
			return nil, nil, err
		}
		u := binary.BigEndian.Uint64(p)
		if u&(1<<63) != 0 {
			u ^= 1 << 63
		} else {
			u = ^u
		}
		f := math.Float64frombits(u)
		if (f != f && u != canonicalNaN) || (f == 0 && u != 0) {
			return nil, nil, fmt.Errorf("%w: non-canonical double bits %016x", ErrCorrupt, u)
		}
		return f, b[8:], nil
	case TagString, TagBytes:
		var s []byte
		for i := 0; ; i++ {
			if i+1 >= len(b) {
				return nil, nil, fmt.Errorf("%w: unterminated string", ErrCorrupt)
			}
			if b[i] != escape {
				continue
			}
			switch b[i+1] {
			case terminator:
				s = append(s, b[:i]...)
				if tag == TagString {
					return string(s), b[i+2:], nil
				}
				if s == nil {
					s = []byte{}
				}
				return s, b[i+2:], nil
			case escapedNul:
				s = append(append(s, b[:i]...), 0)
				b = b[i+2:]
				i = -1
			default:
				return nil, nil, fmt.Errorf("%w: bad escape 0x00 0x%02x", ErrCorrupt, b[i+1])
			}
		}
	}
	return nil, nil, fmt.Errorf("%w: unknown tag 0x%02x", ErrCorrupt, tag)
}
