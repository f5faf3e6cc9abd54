package config_test

import (
	"errors"
	"fmt"

	"github.com/stratadb/strata/internal/config"
)

func ExampleParse() {
	src := []byte(`sources:
  - name: bids
    connector: datagen
    schema: [{name: auction, type: bigintt}]
views:
  - name: per_auction
    sql: SELECT auction, count(*) FROM bids GROUP BY auction
    storag: [pebble]
`)
	_, err := config.Parse("strata.yaml", src)
	var problems config.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Println(p)
		}
	}
	// Output:
	// strata.yaml:4:36: source "bids": column auction has unknown type "bigintt" (did you mean "bigint"? known types: boolean, integer, bigint, double, varchar, bytea, date, timestamp, timestamptz, interval, decimal(p,s))
	// strata.yaml:8:5: unknown key "storag" in view "per_auction" (did you mean "storage"?)
}

func ExampleView_SQLPos() {
	src := []byte(`views:
  - name: v
    sql: |
      SELECT price
      FROM bids
`)
	d, _ := config.Parse("strata.yaml", src)
	v := d.Views[0]
	fmt.Println(v.SQLPos(len("SELECT price\n")))
	// Output:
	// strata.yaml:5:7
}

func ExampleWithConnectors() {
	lookup := func(kind, name string) ([]config.OptionSpec, bool) {
		if kind == "source" && name == "file" {
			return []config.OptionSpec{{Name: "path", Kind: "string", Required: true, Doc: "file to read"}}, true
		}
		return nil, false
	}
	src := []byte(`sources:
  - {name: logs, connector: file, options: {pth: app.jsonl}, schema: [{name: line, type: text}]}
`)
	_, err := config.Parse("strata.yaml", src, config.WithConnectors(lookup))
	fmt.Println(err)
	// Output:
	// strata.yaml:2:44: source "logs": file connector needs option "path" (add path: <file to read> under options)
	// strata.yaml:2:45: source "logs": unknown file option "pth" (did you mean "path"?)
}
