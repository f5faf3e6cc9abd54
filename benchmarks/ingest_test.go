package benchmarks

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratadb/strata/backends"
	_ "github.com/stratadb/strata/backends/all"
	"github.com/stratadb/strata/connect"
	_ "github.com/stratadb/strata/connect/all"
	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
	"github.com/stratadb/strata/plans"
)

var bidCols = []core.Column{
	{Name: "auction", Type: core.Bigint},
	{Name: "bidder", Type: core.Bigint},
	{Name: "price", Type: core.Bigint},
	{Name: "date_time", Type: core.Timestamp},
}

// BenchmarkIngest: datagen -> SELECT auction, count(*), sum(price) .. GROUP BY
// auction -> the named backends, end to end through the epoch protocol.
func BenchmarkIngest(b *testing.B) {
	const rows = 1_000_000
	for _, storage := range [][]string{{"pebble"}, {"duckdb"}, {"pebble", "duckdb"}} {
		for _, card := range []int{1000, 100_000} {
			b.Run(fmt.Sprintf("storage=%s/groups=%d", strings.Join(storage, "+"), card), func(b *testing.B) {
				ctx := context.Background()
				mem := testutil.Alloc(b)
				for b.Loop() {
					dir := b.TempDir()
					src, err := connect.OpenSource(ctx, "datagen", connect.SourceConfig{
						Name: "bids", Columns: bidCols, Alloc: mem, BatchRows: 8192,
						Options: map[string]any{"rows": rows, "seed": 1, "cardinality": card},
					})
					if err != nil {
						b.Fatal(err)
					}
					p, err := plans.Plan("SELECT auction, count(*) AS n, sum(price) AS total FROM bids WHERE price > 10 GROUP BY auction", plans.Catalog{"bids": bidCols})
					if err != nil {
						b.Fatal(err)
					}
					flow, err := p.Build(mem)
					if err != nil {
						b.Fatal(err)
					}
					opts := []engine.Option{engine.WithAllocator(mem), engine.WithDataDir(dir), engine.WithMaxEpochRows(65536),
						engine.WithSource("bids", src),
						engine.WithView(engine.ViewSpec{Def: core.ViewDef{Name: "per_auction", Columns: p.Columns, Key: p.Key}, Flow: flow, Storage: storage})}
					var bs []core.Backend
					for _, s := range storage {
						be, err := backends.Open(ctx, s, backends.Config{Dir: filepath.Join(dir, s), Alloc: mem})
						if err != nil {
							b.Fatal(err)
						}
						bs = append(bs, be)
						opts = append(opts, engine.WithBackend(be))
					}
					eng, err := engine.New(opts...)
					if err != nil {
						b.Fatal(err)
					}
					if err := eng.Run(ctx, true); err != nil {
						b.Fatal(err)
					}
					if got := eng.Stats().RowsIn; got != rows {
						b.Fatalf("read %d rows, want %d", got, rows)
					}
					eng.Close()
					src.Close()
					for _, be := range bs {
						be.Close()
					}
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
