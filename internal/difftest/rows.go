package difftest

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Int is an integer value of any width (bigint, integer, DuckDB's HUGEINT),
// as decimal text, so every integer compares exactly.
type Int string

// Float is a double (or a decimal, which is compared the same way).
type Float float64

// RelTol is the relative tolerance for doubles: two values match when
// |a-b| <= RelTol * max(1, |a|, |b|). Sums and averages of doubles depend on
// the order of addition (Strata folds in arrival order, DuckDB in its own),
// so the last bits differ; the floor of 1 keeps sums that cancel to about
// zero (1e-14 vs 0) from failing. Integers, strings, booleans and times
// compare exactly, and an integer compared with a double compares by value.
const RelTol = 1e-9

// Norm maps a Go value from core.ValueAt or from a DuckDB row to the
// harness' canonical form: nil, Int, Float, string, bool, time.Time (UTC) or,
// for anything else, its text.
func Norm(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int:
		return Int(strconv.FormatInt(int64(x), 10))
	case int8:
		return Int(strconv.FormatInt(int64(x), 10))
	case int16:
		return Int(strconv.FormatInt(int64(x), 10))
	case int32:
		return Int(strconv.FormatInt(int64(x), 10))
	case int64:
		return Int(strconv.FormatInt(x, 10))
	case uint8:
		return Int(strconv.FormatUint(uint64(x), 10))
	case uint16:
		return Int(strconv.FormatUint(uint64(x), 10))
	case uint32:
		return Int(strconv.FormatUint(uint64(x), 10))
	case uint64:
		return Int(strconv.FormatUint(x, 10))
	case *big.Int:
		return Int(x.String())
	case float32:
		return Float(x)
	case float64:
		return Float(x)
	case string, bool:
		return x
	case []byte:
		return fmt.Sprintf("\\x%x", x)
	case time.Time:
		return x.UTC()
	case arrow.MonthDayNanoInterval:
		return fmt.Sprintf("interval %dm %dd %dus", x.Months, x.Days, x.Nanoseconds/1000)
	case interface{ Float64() float64 }: // duckdb.Decimal
		return Float(x.Float64())
	}
	return fmt.Sprint(v)
}

// NormDecimal is Norm for the text core.ValueAt returns for a decimal.
func NormDecimal(s string) any {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return Float(f)
}

// Row is one row of normalised values.
type Row []any

// Format renders a value of a row for diffs.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case Int:
		return string(x)
	case Float:
		return strconv.FormatFloat(float64(x), 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	}
	return fmt.Sprint(v)
}

func (r Row) String() string {
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = Format(v)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// key is the exact identity of a row; shape replaces every number by "~",
// so rows that may match within the tolerance share a shape.
func (r Row) key() string {
	var b strings.Builder
	for _, v := range r {
		switch v.(type) {
		case nil:
			b.WriteString("N")
		case Int:
			b.WriteString("i")
		case Float:
			b.WriteString("f")
		case string:
			b.WriteString("s")
		default:
			b.WriteString("o")
		}
		b.WriteString(Format(v))
		b.WriteByte(0)
	}
	return b.String()
}

func (r Row) shape() string {
	var b strings.Builder
	for _, v := range r {
		switch v.(type) {
		case Int, Float:
			b.WriteString("~")
		default:
			b.WriteString(Format(v))
		}
		b.WriteByte(0)
	}
	return b.String()
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case Float:
		return float64(x), true
	case Int:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	}
	return 0, false
}

// match reports whether two normalised values are equal under RelTol.
func match(a, b any) bool {
	if ai, ok := a.(Int); ok {
		if bi, ok := b.(Int); ok {
			return ai == bi
		}
	}
	if af, ok := num(a); ok {
		bf, ok := num(b)
		if !ok {
			return false
		}
		if af == bf || (math.IsNaN(af) && math.IsNaN(bf)) {
			return true
		}
		return math.Abs(af-bf) <= RelTol*max(1, math.Abs(af), math.Abs(bf))
	}
	if at, ok := a.(time.Time); ok {
		bt, ok := b.(time.Time)
		return ok && at.Equal(bt)
	}
	return a == b
}

func rowsMatch(a, b Row) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !match(a[i], b[i]) {
			return false
		}
	}
	return true
}

// Multiset is a materialised view: each distinct row with its count.
type Multiset struct {
	rows map[string]*entry
}

type entry struct {
	row Row
	n   int64
}

// NewMultiset returns an empty multiset.
func NewMultiset() *Multiset { return &Multiset{rows: map[string]*entry{}} }

// Add adds n copies of r (n < 0 removes).
func (m *Multiset) Add(r Row, n int64) {
	k := r.key()
	e := m.rows[k]
	if e == nil {
		e = &entry{row: r}
		m.rows[k] = e
	}
	e.n += n
	if e.n == 0 {
		delete(m.rows, k)
	}
}

// Len is the number of rows, counting copies.
func (m *Multiset) Len() int64 {
	var n int64
	for _, e := range m.rows {
		n += e.n
	}
	return n
}

// Each calls fn for every distinct row in a deterministic order.
func (m *Multiset) Each(fn func(r Row, n int64)) {
	keys := make([]string, 0, len(m.rows))
	for k := range m.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(m.rows[k].row, m.rows[k].n)
	}
}

// Negative returns a row whose count is below zero, if any.
func (m *Multiset) Negative() (Row, int64, bool) {
	for _, e := range m.rows {
		if e.n < 0 {
			return e.row, e.n, true
		}
	}
	return nil, 0, false
}

// Clone copies m.
func (m *Multiset) Clone() *Multiset {
	c := NewMultiset()
	for k, e := range m.rows {
		c.rows[k] = &entry{row: e.row, n: e.n}
	}
	return c
}

// Diff compares got with want under RelTol and returns "" when they are
// equal, otherwise the rows only in one of them, one a line.
func Diff(got, want *Multiset, gotName, wantName string) string {
	// Exact matches first, then rows of the same shape within the tolerance.
	left := map[string][]*entry{}
	right := map[string][]*entry{}
	for k, g := range got.rows {
		n := g.n
		if w, ok := want.rows[k]; ok {
			n -= w.n
		}
		if n > 0 {
			left[g.row.shape()] = append(left[g.row.shape()], &entry{g.row, n})
		}
	}
	for k, w := range want.rows {
		n := w.n
		if g, ok := got.rows[k]; ok {
			n -= g.n
		}
		if n > 0 {
			right[w.row.shape()] = append(right[w.row.shape()], &entry{w.row, n})
		}
	}
	var only []string
	for s, ls := range left {
		rs := right[s]
		for _, l := range ls {
			for _, r := range rs {
				if l.n == 0 {
					break
				}
				if r.n > 0 && rowsMatch(l.row, r.row) {
					k := min(l.n, r.n)
					l.n -= k
					r.n -= k
				}
			}
			if l.n > 0 {
				only = append(only, fmt.Sprintf("  only in %s (x%d): %s", gotName, l.n, l.row))
			}
		}
	}
	for _, rs := range right {
		for _, r := range rs {
			if r.n > 0 {
				only = append(only, fmt.Sprintf("  only in %s (x%d): %s", wantName, r.n, r.row))
			}
		}
	}
	sort.Strings(only)
	if len(only) > 40 {
		only = append(only[:40], fmt.Sprintf("  ... and %d more", len(only)-40))
	}
	return strings.Join(only, "\n")
}
