package nexmark

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
)

// Value is one normalised cell: the same SQL value read from Strata and from
// DuckDB compares equal even when the two type it differently (bigint vs
// HUGEINT or DECIMAL, double vs DECIMAL).
type Value struct {
	Kind Kind
	Num  float64 // KindNumber
	Int  int64   // KindTime: microseconds since the Unix epoch
	Str  string  // KindString; KindOther: the value's text
	Bool bool    // KindBool
}

// Kind is the kind of a Value.
type Kind int

// The kinds, in the order rows sort by.
const (
	KindNull Kind = iota
	KindBool
	KindNumber
	KindTime
	KindString
	KindOther
)

// Row is one row of normalised values.
type Row []Value

// Tolerance is the relative difference under which two numbers are equal:
// DuckDB computes 0.908 * price as an exact DECIMAL, Strata as a double.
const Tolerance = 1e-9

func normalise(v any) Value {
	switch x := v.(type) {
	case nil:
		return Value{Kind: KindNull}
	case bool:
		return Value{Kind: KindBool, Bool: x}
	case int32:
		return Value{Kind: KindNumber, Num: float64(x)}
	case int64:
		return Value{Kind: KindNumber, Num: float64(x)}
	case uint64:
		return Value{Kind: KindNumber, Num: float64(x)}
	case float64:
		return Value{Kind: KindNumber, Num: x}
	case string:
		return Value{Kind: KindString, Str: x}
	case time.Time:
		return Value{Kind: KindTime, Int: x.UnixMicro()}
	}
	return Value{Kind: KindOther, Str: fmt.Sprint(v)}
}

// ReadRows drains rdr into normalised rows. Decimals (DuckDB's DECIMAL and
// HUGEINT results) become numbers; a changelog's weight column, if any, is
// not expected (views are read with SELECT *).
func ReadRows(rdr array.RecordReader) ([]Row, error) {
	var out []Row
	for rdr.Next() {
		rec := rdr.RecordBatch()
		cols := rec.Columns()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make(Row, len(cols))
			for j, c := range cols {
				v := core.ValueAt(c, i)
				if _, ok := c.DataType().(*arrow.Decimal128Type); ok && v != nil {
					f, err := strconv.ParseFloat(v.(string), 64)
					if err != nil {
						return nil, fmt.Errorf("nexmark: decimal %q: %w", v, err)
					}
					v = f
				}
				row[j] = normalise(v)
			}
			out = append(out, row)
		}
	}
	return out, rdr.Err()
}

func near(a, b float64) bool {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	return math.Abs(a-b) <= Tolerance*math.Max(math.Abs(a), math.Abs(b))
}

func compareValue(a, b Value) int {
	if a.Kind != b.Kind {
		return cmp.Compare(a.Kind, b.Kind)
	}
	switch a.Kind {
	case KindBool:
		switch {
		case a.Bool == b.Bool:
			return 0
		case !a.Bool:
			return -1
		}
		return 1
	case KindNumber:
		if near(a.Num, b.Num) {
			return 0
		}
		return cmp.Compare(a.Num, b.Num)
	case KindTime:
		return cmp.Compare(a.Int, b.Int)
	case KindString, KindOther:
		return strings.Compare(a.Str, b.Str)
	}
	return 0
}

func compareRow(a, b Row) int {
	for i := range min(len(a), len(b)) {
		if c := compareValue(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

// String renders a value for a difference report.
func (v Value) String() string {
	switch v.Kind {
	case KindNull:
		return "NULL"
	case KindBool:
		return strconv.FormatBool(v.Bool)
	case KindNumber:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	case KindTime:
		return time.UnixMicro(v.Int).UTC().Format("2006-01-02 15:04:05.999999")
	}
	return strconv.Quote(v.Str)
}

func (r Row) String() string {
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = v.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Diff compares two results as multisets of rows (numbers equal within
// Tolerance) and describes the first differences, or returns "" when they
// are equal. got and want are sorted in place.
func Diff(got, want []Row) string {
	slices.SortFunc(got, compareRow)
	slices.SortFunc(want, compareRow)
	var b strings.Builder
	shown := 0
	note := func(format string, args ...any) {
		if shown < 5 {
			fmt.Fprintf(&b, format, args...)
		}
		shown++
	}
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		var c int
		switch {
		case i == len(got):
			c = 1
		case j == len(want):
			c = -1
		default:
			c = compareRow(got[i], want[j])
		}
		switch {
		case c == 0:
			i, j = i+1, j+1
		case c < 0:
			note("; extra row %s", got[i])
			i++
		default:
			note("; missing row %s", want[j])
			j++
		}
	}
	if shown == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows, want %d: %d differences%s", len(got), len(want), shown, b.String())
}
