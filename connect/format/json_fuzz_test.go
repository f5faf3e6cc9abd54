package format

import (
	"testing"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// FuzzJSONDecode feeds random records to the JSON decoder. Properties:
//   - Append never panics, whatever the bytes;
//   - a record either decodes to exactly one row (every column builder and
//     the weight column grow by one) or returns an error and appends nothing;
//   - Flush returns a well-formed changelog batch of exactly the rows
//     appended, and nothing leaks (checked allocator).
func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{
		`{"b": true, "i": 1, "l": 2, "d": 1.5, "s": "x", "y": "yy", "dt": "2024-01-02", "ts": "2024-01-02 03:04:05"}`,
		`{"i": 2147483648}`, `{"i": -2147483648}`, `{"l": 1e3}`, `{"l": 9223372036854775807}`,
		`{"l": 9.3e18}`, `{"d": 1e400}`, `{"ts": 1700000000000}`, `{"ts": "2024-01-02T03:04:05.123456Z"}`,
		`{"ts": 9223372036854775807}`, `{"dt": "2024-02-30"}`, `{"s": "\ud800"}`, `{"s": 1}`,
		`{"b": null, "i": null}`, `{"i": 1, "i": "x"}`, `{}`, `[]`, `{`, `{"a":`, ``, `   `, "\x00",
		`{"b": tru}`, `{"s": "x"} trailing`, `{"y": "\u0000"}`, `{"nested": {"i": [1, {"x": 2}]}}`,
	} {
		f.Add([]byte(s))
	}
	cols := []core.Column{
		{Name: "b", Type: core.Boolean}, {Name: "i", Type: core.Integer}, {Name: "l", Type: core.Bigint},
		{Name: "d", Type: core.Double}, {Name: "s", Type: core.Varchar}, {Name: "y", Type: core.Bytea},
		{Name: "dt", Type: core.Date}, {Name: "ts", Type: core.Timestamp},
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d := NewJSON(cols, testutil.Alloc(t))
		defer d.Release()
		rows := 0
		// Append the record twice, around a known-good one, so a failed
		// Append that left partial state would show in the batch.
		for _, rec := range [][]byte{raw, []byte(`{"i": 7}`), raw} {
			before := d.Len()
			err := d.Append(rec)
			want := before
			if err == nil {
				want++
				rows++
			} else if err.Error() == "" {
				t.Fatal("error without a reason")
			}
			if d.Len() != want {
				t.Fatalf("Append(%q) = %v: Len %d -> %d", rec, err, before, d.Len())
			}
			for i := range cols {
				if n := d.b.Field(i).Len(); n != want {
					t.Fatalf("Append(%q) = %v: column %s has %d values, want %d", rec, err, cols[i].Name, n, want)
				}
			}
		}
		b := d.Flush()
		if b == nil {
			t.Fatal("Flush returned nil after a good record")
		}
		defer b.Release()
		if err := core.CheckChangelog(b); err != nil {
			t.Fatal(err)
		}
		if b.NumRows() != int64(rows) {
			t.Fatalf("batch has %d rows, want %d", b.NumRows(), rows)
		}
		if d.Len() != 0 {
			t.Fatalf("Len %d after Flush", d.Len())
		}
	})
}
