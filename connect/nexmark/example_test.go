package nexmark_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/connect/nexmark"
	"github.com/stratadb/strata/engine/core"
)

// The generator used in-process: the bids among the first 100 events of the
// default stream, the same rows a "nexmark" source with table: bid reads.
func ExampleGenerator() {
	g, err := nexmark.NewGenerator(nexmark.WithSeed(1))
	if err != nil {
		panic(err)
	}
	mem := memory.NewGoAllocator()
	b, err := g.NewRecordBatch(mem, nexmark.Bid, 0, 100)
	if err != nil {
		panic(err)
	}
	defer b.Release()
	fmt.Println(b.NumRows(), "bids,", g.Count(nexmark.Person, 0, 100), "persons,", g.Count(nexmark.Auction, 0, 100), "auctions")
	for i := range 3 {
		fmt.Println(b.Column(0).(*array.Int64).Value(i), b.Column(1).(*array.Int64).Value(i),
			b.Column(2).(*array.Int64).Value(i), core.FormatValue(core.ValueAt(b.Column(5), i)))
	}
	// Output:
	// 92 bids, 2 persons, 6 auctions
	// 1006 1001 122859 2024-01-01 00:00:00.0004
	// 1000 1001 7647074 2024-01-01 00:00:00.0005
	// 1001 1001 19883418 2024-01-01 00:00:00.0006
}

// A projection generates only the columns asked for, here with the
// changelog weight column a core.Source emits.
func ExampleNewProjection() {
	g, _ := nexmark.NewGenerator()
	cols := []core.Column{{Name: "category", Type: core.Bigint}, {Name: "id", Type: core.Bigint}}
	p, err := nexmark.NewProjection(nexmark.Auction, core.ChangelogSchema(core.ArrowSchema(cols)))
	if err != nil {
		panic(err)
	}
	b, err := g.NewProjectedBatch(memory.NewGoAllocator(), p, 0, 100)
	if err != nil {
		panic(err)
	}
	defer b.Release()
	fmt.Println(b.Schema().Field(0).Name, b.Schema().Field(1).Name, b.Schema().Field(2).Name, b.NumRows())
	// Output:
	// category id _weight 6
}
