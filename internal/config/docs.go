package config

import (
	"fmt"
	"strings"
)

// Example is a complete deployment file using every section. The reference
// shows it, and tests check that it loads without problems.
const Example = `# strata.yaml
data_dir: ./data
server: {http: 127.0.0.1:7070, postgres: 127.0.0.1:6875}
engine: {epoch_interval: 1s, max_epoch_rows: 100000}
udfs:
  - {name: fx, path: udfs/fx.wasm}
sources:
  - name: bids
    connector: kafka
    options: {brokers: ["${KAFKA_BROKERS:-127.0.0.1:9092}"], topic: bids}
    format: json
    schema: [{name: auction, type: bigint}, {name: price, type: bigint}, {name: date_time, type: timestamp}]
    event_time: {column: date_time, watermark_delay: 5s}
  - name: auctions
    connector: postgres
    options: {dsn: "postgres://127.0.0.1:5432/shop", table: auctions}
    kind: table
    primary_key: [id]
    schema: [{name: id, type: bigint}, {name: category, type: varchar}]
views:
  - name: hot_auctions
    sql: |
      SELECT auction, window_start, count(*) AS bids, max(price) AS top
      FROM TUMBLE(bids, date_time, INTERVAL '10' SECOND)
      GROUP BY auction, window_start
    storage: [pebble, duckdb]
sinks:
  - {name: hot_out, from: hot_auctions, connector: kafka, options: {topic: hot}}
`

// reference renders docs/config.md from the spec.
func reference() string {
	var b strings.Builder
	b.WriteString(`# Deployment file reference

<!-- Generated from internal/config/spec.go by ` + "`go test ./internal/config -rewrite`" + `. Do not edit. -->

A deployment is one YAML file, usually ` + "`strata.yaml`" + `. ` + "`strata validate -c FILE`" + ` checks it
and reports every problem as ` + "`file:line:col: message (hint)`" + `; ` + "`strata run`" + ` refuses
to start until there are none.

## Example

` + "```yaml\n" + Example + "```" + `

## Conventions

- Unknown keys are errors, with the closest known key as a hint. Top-level keys starting
  with ` + "`x-`" + ` are ignored, to hold blocks that anchors (` + "`&name`" + `) and merge keys
  (` + "`<<: *name`" + `) share.
- Names of sources, views, sinks, UDFs and columns are identifiers: letters, digits and
  ` + "`_`" + `, not starting with a digit. They are folded to lower case, as Postgres folds
  unquoted identifiers. Sources and views share one namespace; ` + "`dead_letters`" + ` is reserved.
- Relative paths are resolved against the directory of the deployment file.
- Durations are a number with a unit: ` + "`500ms`, `5s`, `1m30s`, `2h`" + `.
- String values may read the environment: ` + "`${NAME}`" + `, or ` + "`${NAME:-default}`" + ` when
  it may be unset; ` + "`$${`" + ` is a literal ` + "`${`" + `. SQL text is never expanded.
- A key with an empty value is the same as a key left out.
`)
	section(&b, "Top level", spec)
	var walk func(path string, f *field)
	walk = func(path string, f *field) {
		for _, c := range f.fields {
			p := path + c.name
			switch {
			case c.kind == kindObject:
				section(&b, "`"+p+"`", c)
				walk(p+".", c)
			case c.kind == kindList && c.elem.kind == kindObject:
				section(&b, "`"+p+"[]`", c.elem)
				walk(p+"[].", c.elem)
			}
		}
	}
	walk("", spec)
	return b.String()
}

// section writes the table of an object's keys.
func section(b *strings.Builder, title string, f *field) {
	fmt.Fprintf(b, "\n## %s\n\n", title)
	b.WriteString("| Key | Kind | Required | Default | Example | Since | Description |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, c := range f.fields {
		req := ""
		if c.required {
			req = "yes"
		}
		def := c.defString()
		if def != "" {
			def = "`" + def + "`"
		}
		doc := c.doc
		if c.enum != nil {
			doc += " One of " + orList(c.enum) + "."
		}
		if c.kind == kindList && c.scalarList {
			doc += " A single value may be written without brackets."
		}
		ex := c.example
		if ex != "" {
			ex = "`" + ex + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s |\n",
			c.name, c.kindName(), req, def, cell(ex), c.since, cell(doc))
	}
}

// cell escapes a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
