package format

import (
	"fmt"
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

// FuzzJSONFastPath: the one-pass decoder and the encoding/json decoder
// accept exactly the same records, with the same values, and reject the
// same ones.
func FuzzJSONFastPath(f *testing.F) {
	for _, s := range []string{
		`{"b": true, "i": 1, "l": 2, "d": 1.5, "s": "x", "y": "yy", "dt": "2024-01-02", "ts": "2024-01-02 03:04:05"}`,
		`{"ts": "2024-01-02T03:04:05.1234567"}`, `{"ts": "2024-02-30 00:00:00"}`, `{"ts": "2024-01-02 24:00:00"}`,
		`{"l": 01}`, `{"l": -0}`, `{"l": 1.}`, `{"d": .5}`, `{"d": 1e}`, `{"s": "a\"b"}`, `{"s": "é"}`, "{\"s\": \"\xff\"}",
		`{"i": 1,}`, `{,}`, `{"i" 1}`, `{"i": 1} `, ` {"i":1}`, `{"l": 1e3}`, `{"ts": -1}`, `{"b": nul}`,
	} {
		f.Add([]byte(s))
	}
	cols := []core.Column{
		{Name: "b", Type: core.Boolean}, {Name: "i", Type: core.Integer}, {Name: "l", Type: core.Bigint},
		{Name: "d", Type: core.Double}, {Name: "s", Type: core.Varchar}, {Name: "y", Type: core.Bytea},
		{Name: "dt", Type: core.Date}, {Name: "ts", Type: core.Timestamp},
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		mem := testutil.Alloc(t)
		fast, slow := NewJSON(cols, mem), NewJSON(cols, mem)
		slow.slow = true
		defer fast.Release()
		defer slow.Release()
		ef, es := fast.Append(raw), slow.Append(raw)
		if (ef == nil) != (es == nil) {
			t.Fatalf("%q: fast path says %v, encoding/json says %v", raw, ef, es)
		}
		if ef != nil {
			if ef.Error() != es.Error() {
				t.Fatalf("%q: errors differ: %v vs %v", raw, ef, es)
			}
			return
		}
		bf, bs := fast.Flush(), slow.Flush()
		defer bf.Release()
		defer bs.Release()
		for c := range cols {
			if g, w := core.FormatValue(core.ValueAt(bf.Column(c), 0)), core.FormatValue(core.ValueAt(bs.Column(c), 0)); g != w {
				t.Fatalf("%q: column %s: fast %s, encoding/json %s", raw, cols[c].Name, g, w)
			}
		}
	})
}

// BenchmarkJSON decodes a typical event line.
func BenchmarkJSON(b *testing.B) {
	cols := []core.Column{{Name: "auction", Type: core.Bigint}, {Name: "bidder", Type: core.Varchar},
		{Name: "price", Type: core.Bigint}, {Name: "date_time", Type: core.Timestamp}}
	line := []byte(`{"auction": 1042, "bidder": "user_17", "price": 3150, "date_time": "2026-11-25 10:31:07.250", "extra": "ignored"}`)
	for _, slow := range []bool{false, true} {
		b.Run(fmt.Sprintf("slow=%v", slow), func(b *testing.B) {
			mem := testutil.Alloc(b)
			d := NewJSON(cols, mem)
			d.slow = slow
			defer d.Release()
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if err := d.Append(line); err != nil {
					b.Fatal(err)
				}
				if n++; n%4096 == 0 {
					d.Flush().Release()
				}
			}
			if r := d.Flush(); r != nil {
				r.Release()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
