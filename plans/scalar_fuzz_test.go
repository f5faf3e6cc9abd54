package plans

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

// FuzzScalar feeds SQL built around the scalar constructs to the front end
// and runs what plans over a small batch of edge values (NULLs, extremes,
// empty and multi-byte strings). Properties: Plan never panics and fails
// only with an *Error whose position lies in the text; evaluation never
// panics and releases every buffer (the checked allocator), whatever it
// returns.
func FuzzScalar(f *testing.F) {
	for _, s := range []string{
		"SELECT CASE WHEN i > 1 THEN s ELSE 'x' END FROM t",
		"SELECT CASE i WHEN 1 THEN 'a' END, coalesce(s, 'n'), nullif(i, 0) FROM t",
		"SELECT i IN (1, 2, NULL), s NOT IN ('a'), i BETWEEN 1 AND 5, i NOT BETWEEN SYMMETRIC 5 AND 1 FROM t",
		"SELECT s LIKE 'a%_', s ILIKE '%B', s NOT LIKE 'x#%' ESCAPE '#' FROM t",
		"SELECT i IS DISTINCT FROM n, b IS NOT TRUE, b IS UNKNOWN FROM t",
		"SELECT lower(s), upper(s), length(s), substr(s, i, n), trim(s), s || i, concat(s, d) FROM t",
		"SELECT replace(s, 'a', 'b'), position('a' in s), left(s, i), right(s, n), split_part(s, ',', i), lpad(s, n, 'x') FROM t",
		"SELECT abs(i), round(d, n), floor(d), ceil(d), sqrt(abs(d)), power(d, n), mod(i, n), greatest(i, n), least(d, i), sign(d) FROM t",
		"SELECT extract(hour from ts), date_part('epoch', ts), date_trunc('week', ts), ts + INTERVAL '5 minutes', ts - ts, dt + n FROM t",
		"SELECT to_timestamp(d), ts::date, dt::timestamp, s::bigint, d::integer, i::varchar, b::integer, s::interval, d::decimal(10,2) FROM t",
		"SELECT k FROM t WHERE s LIKE '%a%' AND coalesce(i, 0) > 0 AND extract(dow from ts) IN (0, 6)",
		"SELECT now(), random() FROM t",
	} {
		f.Add(s)
	}
	cols := []core.Column{{Name: "k", Type: core.Bigint}, {Name: "i", Type: core.Bigint}, {Name: "n", Type: core.Integer}, {Name: "d", Type: core.Double},
		{Name: "s", Type: core.Varchar}, {Name: "b", Type: core.Boolean}, {Name: "ts", Type: core.Timestamp}, {Name: "dt", Type: core.Date}}
	cat := Catalog{"t": cols}
	rows := [][]any{
		{int64(1), int64(math.MaxInt64), int32(math.MinInt32), math.Inf(1), "héllo, wörld", true, time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC()},
		{int64(2), int64(math.MinInt64), int32(0), math.NaN(), "", false, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{int64(3), int64(-1), int32(-5), -0.5, "a%_\\", nil, time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{int64(4), nil, nil, nil, nil, nil, nil, nil},
	}
	f.Fuzz(func(t *testing.T, sql string) {
		p, err := Plan(sql, cat)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Plan(%q) returned %T, want *Error: %v", sql, err, err)
			}
			if pe.Pos < -1 || pe.Pos > len(sql) {
				t.Fatalf("Plan(%q): position %d outside the text", sql, pe.Pos)
			}
			return
		}
		if len(p.Inputs()) != 1 || p.Inputs()[0] != "t" {
			return
		}
		mem := testutil.Alloc(t)
		ch, err := p.Build(mem)
		if err != nil {
			return
		}
		defer ch.Close()
		bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(cols)))
		defer bld.Release()
		for _, row := range rows {
			for c, v := range row {
				core.AppendValue(bld.Field(c), v)
			}
			bld.Field(len(row)).(*array.Int64Builder).Append(1)
		}
		b := bld.NewRecordBatch()
		defer b.Release()
		emit := func(arrow.RecordBatch) error { return nil }
		ctx := context.Background()
		if err := ch.Push(ctx, "t", b, emit); err != nil {
			return
		}
		_ = ch.EndEpoch(ctx, emit)
	})
}
