package schema

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/engine/core"
)

func TestCoerce(t *testing.T) {
	day := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		typ  core.Type
		in   any
		want any // a string starting with "error" expects an error
	}{
		{"text bigint", core.Bigint, "42", int64(42)},
		{"text negative bigint", core.Bigint, " -9223372036854775808 ", int64(-9223372036854775808)},
		{"int to bigint", core.Bigint, 7, int64(7)},
		{"integral float to bigint", core.Bigint, 7.0, int64(7)},
		{"fractional float to bigint", core.Bigint, 7.5, "error"},
		{"int to integer", core.Integer, int64(-3), int32(-3)},
		{"overflowing integer", core.Integer, int64(1) << 40, "error"},
		{"text integer overflow", core.Integer, "4294967296", "error"},
		{"text double", core.Double, "-1.5e3", -1500.0},
		{"int to double", core.Double, 2, 2.0},
		{"text boolean", core.Boolean, "TRUE", true},
		{"text boolean f", core.Boolean, "f", false},
		{"bad boolean", core.Boolean, "maybe", "error"},
		{"varchar keeps text", core.Varchar, "NULL", "NULL"},
		{"bytes to varchar", core.Varchar, []byte("ab"), "ab"},
		{"hex bytea", core.Bytea, `\x00ff`, []byte{0, 0xff}},
		{"raw bytea", core.Bytea, "ab", []byte("ab")},
		{"bad hex bytea", core.Bytea, `\xzz`, "error"},
		{"text date", core.Date, "2024-01-31", day},
		{"time to date keeps the calendar day", core.Date, time.Date(2024, 1, 31, 23, 0, 0, 0, time.FixedZone("x", -5*3600)), day},
		{"text timestamp", core.Timestamp, "2024-01-31 12:00:00.5", day.Add(12*time.Hour + 500*time.Millisecond)},
		{"rfc3339 timestamp", core.Timestamp, "2024-01-31T13:00:00+01:00", day.Add(12 * time.Hour)},
		{"timestamp truncates to micros", core.Timestamp, day.Add(1500 * time.Nanosecond), day.Add(time.Microsecond)},
		{"nil", core.Bigint, nil, nil},
		{"wrong Go type", core.Bigint, true, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Coerce(tc.typ, tc.in)
			if s, ok := tc.want.(string); ok && strings.HasPrefix(s, "error") {
				if err == nil {
					t.Fatalf("Coerce(%s, %#v) = %#v, want an error", tc.typ.Name, tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
				t.Fatalf("Coerce(%s, %#v) = %#v, want %#v", tc.typ.Name, tc.in, got, tc.want)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	err := Validate(core.ViewDef{Columns: []core.Column{
		{Name: "a", Type: core.Bigint}, {Name: "a", Type: core.Varchar}, {Name: "_weight", Type: core.Bigint}, {Name: "t"},
	}, Key: []string{"z", "a", "a"}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"empty view name", `duplicate column "a"`, "_weight is reserved", `"t" has no type`, `"z" is not a column`, `"a" repeats`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
