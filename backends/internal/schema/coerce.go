package schema

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/stratadb/strata/engine/core"
)

// Coerce converts v to column type t, returning it in core.ValueAt form
// (bool, int32, int64, float64, string, []byte, time.Time in UTC, or nil).
//
// Accepted inputs: nil; Go integers, floats (integral values only for integer
// columns), bool, string, []byte and time.Time; and text for every type, the
// way keys arrive from the command line: "42", "-1.5", "true", "2024-01-31",
// "2024-01-31 12:00:00" (also RFC 3339), "\x00ff" (hex) or raw text for bytea.
func Coerce(t core.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if s, ok := v.(string); ok && t.Arrow.ID() != arrow.STRING {
		return parse(t, s)
	}
	switch t.Arrow.ID() {
	case arrow.BOOL:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case arrow.INT32:
		if i, ok := toInt(v); ok && i >= math.MinInt32 && i <= math.MaxInt32 {
			return int32(i), nil
		}
	case arrow.INT64:
		if i, ok := toInt(v); ok {
			return i, nil
		}
	case arrow.FLOAT64:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		}
		if i, ok := toInt(v); ok {
			return float64(i), nil
		}
	case arrow.STRING:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case arrow.BINARY:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case arrow.DATE32:
		if x, ok := v.(time.Time); ok {
			y, m, d := x.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	case arrow.TIMESTAMP:
		if x, ok := v.(time.Time); ok {
			return time.UnixMicro(x.UnixMicro()).UTC(), nil
		}
	default:
		return nil, fmt.Errorf("unsupported column type %s", t.Name)
	}
	return nil, fmt.Errorf("cannot use %T value %v as %s", v, v, t.Name)
}

// toInt converts Go integers, and floats that hold an integer, to int64.
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parse converts text to type t.
func parse(t core.Type, s string) (any, error) {
	bad := func(err error) error {
		return fmt.Errorf("cannot parse %q as %s: %w", s, t.Name, err)
	}
	s2 := strings.TrimSpace(s)
	switch t.Arrow.ID() {
	case arrow.BOOL:
		switch strings.ToLower(s2) {
		case "t", "true", "yes", "y", "on", "1":
			return true, nil
		case "f", "false", "no", "n", "off", "0":
			return false, nil
		}
		return nil, bad(fmt.Errorf("want true or false"))
	case arrow.INT32:
		i, err := strconv.ParseInt(s2, 10, 32)
		if err != nil {
			return nil, bad(err)
		}
		return int32(i), nil
	case arrow.INT64:
		i, err := strconv.ParseInt(s2, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		return i, nil
	case arrow.FLOAT64:
		f, err := strconv.ParseFloat(s2, 64)
		if err != nil {
			return nil, bad(err)
		}
		return f, nil
	case arrow.BINARY:
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			b, err := hex.DecodeString(h)
			if err != nil {
				return nil, bad(err)
			}
			return b, nil
		}
		return []byte(s), nil
	case arrow.DATE32:
		d, err := time.Parse("2006-01-02", s2)
		if err != nil {
			return nil, bad(err)
		}
		return d, nil
	case arrow.TIMESTAMP:
		var firstErr error
		for _, l := range timestampLayouts {
			ts, err := time.Parse(l, s2)
			if err == nil {
				return time.UnixMicro(ts.UnixMicro()).UTC(), nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		return nil, bad(firstErr)
	}
	return nil, fmt.Errorf("unsupported column type %s", t.Name)
}

// CoerceKey converts key values for the identity columns idx of v, reporting
// a wrong count or a value that does not convert, naming the column.
func CoerceKey(v core.ViewDef, idx []int, key []any) ([]any, error) {
	if len(key) != len(idx) {
		names := make([]string, len(idx))
		for i, j := range idx {
			names[i] = v.Columns[j].Name
		}
		return nil, fmt.Errorf("view %q: key has %d values, want %d (%s)", v.Name, len(key), len(idx), strings.Join(names, ", "))
	}
	out := make([]any, len(key))
	for i, j := range idx {
		c := v.Columns[j]
		x, err := Coerce(c.Type, key[i])
		if err != nil {
			return nil, fmt.Errorf("view %q: key column %q: %w", v.Name, c.Name, err)
		}
		out[i] = x
	}
	return out, nil
}
