package nexmark

import (
	"strings"
	"testing"
	"time"
)

func num(f float64) Value  { return Value{Kind: KindNumber, Num: f} }
func str(s string) Value   { return Value{Kind: KindString, Str: s} }
func ts(us int64) Value    { return Value{Kind: KindTime, Int: us} }
func null() Value          { return Value{Kind: KindNull} }
func rows(rs ...Row) []Row { return rs }

func TestDiff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		got, want []Row
		diff      string // substring of the difference; "" when equal
	}{
		{name: "equal in another order", got: rows(Row{num(1), str("a")}, Row{num(2), str("b")}),
			want: rows(Row{num(2), str("b")}, Row{num(1), str("a")})},
		{name: "multiset", got: rows(Row{num(1)}, Row{num(1)}), want: rows(Row{num(1)}),
			diff: "extra row (1)"},
		{name: "missing", got: rows(Row{num(1)}), want: rows(Row{num(1)}, Row{num(2)}),
			diff: "missing row (2)"},
		{name: "decimal vs double", got: rows(Row{num(0.908 * 12345)}), want: rows(Row{num(11209.26)})},
		{name: "beyond tolerance", got: rows(Row{num(11209.26)}), want: rows(Row{num(11209.27)}), diff: "2 differences"},
		{name: "null", got: rows(Row{null(), num(1)}), want: rows(Row{null(), num(1)})},
		{name: "null is not zero", got: rows(Row{null()}), want: rows(Row{num(0)}), diff: "extra row (NULL)"},
		{name: "timestamps", got: rows(Row{ts(5)}), want: rows(Row{ts(6)}), diff: "1970-01-01 00:00:00.000005"},
		{name: "empty", got: nil, want: nil},
	} {
		t.Run("case="+strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			d := Diff(tc.got, tc.want)
			if tc.diff == "" && d != "" || tc.diff != "" && !strings.Contains(d, tc.diff) {
				t.Errorf("Diff = %q, want %q", d, tc.diff)
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 1, 0, 0, 1, 5000, time.UTC)
	for _, tc := range []struct {
		in   any
		want Value
	}{
		{nil, null()}, {int32(7), num(7)}, {int64(7), num(7)}, {uint64(7), num(7)}, {7.5, num(7.5)},
		{"x", str("x")}, {true, Value{Kind: KindBool, Bool: true}}, {at, ts(at.UnixMicro())},
	} {
		if got := normalise(tc.in); compareValue(got, tc.want) != 0 || got.Kind != tc.want.Kind {
			t.Errorf("normalise(%#v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
