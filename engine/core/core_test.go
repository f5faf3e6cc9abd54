package core_test

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

func TestParseType(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"BIGINT", "bigint", false}, {"int8", "bigint", false}, {"text", "varchar", false},
		{" timestamp ", "timestamp", false}, {"double precision", "double", false},
		{"bool", "boolean", false}, {"bigintt", "", true}, {"", "", true},
	} {
		got, err := core.ParseType(tc.in)
		if (err != nil) != tc.err || got.Name != tc.want {
			t.Errorf("ParseType(%q) = %q, %v; want %q, error %v", tc.in, got.Name, err, tc.want, tc.err)
		}
	}
}

func TestOffsets(t *testing.T) {
	o := core.Offsets{"b": {"1": {From: 5, To: 9}, "0": {From: 0, To: 3}}, "a": {"f.jsonl": {From: 2, To: 2}}}
	back, err := core.UnmarshalOffsets(o.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if string(back.Marshal()) != string(o.Marshal()) {
		t.Fatalf("round trip: %s != %s", back.Marshal(), o.Marshal())
	}
	if got := o.Sources(); got[0] != "a" || got[1] != "b" {
		t.Errorf("Sources() = %v, want sorted", got)
	}
	if end := o.End(); end["b"]["1"] != 9 || end["b"]["0"] != 3 {
		t.Errorf("End() = %v", end)
	}
	if !o["a"].Empty() || o["b"].Empty() {
		t.Errorf("Empty: a %v, b %v", o["a"].Empty(), o["b"].Empty())
	}
}

// TestValueRoundTrip: AppendValue then ValueAt gives the value back, for
// every type, with the schema of a changelog batch.
func TestValueRoundTrip(t *testing.T) {
	mem := testutil.Alloc(t)
	ts := time.Date(2026, 11, 25, 10, 30, 0, 123000, time.UTC)
	cols := []core.Column{
		{Name: "b", Type: core.Boolean}, {Name: "i", Type: core.Integer}, {Name: "l", Type: core.Bigint},
		{Name: "d", Type: core.Double}, {Name: "s", Type: core.Varchar}, {Name: "y", Type: core.Bytea},
		{Name: "dt", Type: core.Date}, {Name: "ts", Type: core.Timestamp},
	}
	vals := []any{true, int32(-4), int64(-1 << 40), 2.5, "a\x00b", []byte{0, 1}, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), ts}
	schema := core.ChangelogSchema(core.ArrowSchema(cols))
	if !core.IsChangelog(schema) || core.IsChangelog(core.DataSchema(schema)) {
		t.Fatal("IsChangelog/DataSchema disagree")
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i, v := range vals {
		core.AppendValue(b.Field(i), v)
		core.AppendValue(b.Field(i), nil)
	}
	b.Field(len(cols)).(*array.Int64Builder).AppendValues([]int64{1, -1}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := core.CheckChangelog(rec); err != nil {
		t.Fatal(err)
	}
	for i, want := range vals {
		got := core.ValueAt(rec.Column(i), 0)
		if core.FormatValue(got) != core.FormatValue(want) {
			t.Errorf("column %s: got %v, want %v", cols[i].Name, got, want)
		}
		if core.ValueAt(rec.Column(i), 1) != nil {
			t.Errorf("column %s: NULL lost", cols[i].Name)
		}
	}
}
