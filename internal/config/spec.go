package config

import (
	"fmt"
	"strings"
	"time"
)

// kind is the shape a field's value must have.
type kind string

const (
	kindString   kind = "string"
	kindInt      kind = "int"
	kindBool     kind = "bool"
	kindDuration kind = "duration" // a string like 500ms, 5s, 1m30s
	kindList     kind = "list"     // a sequence of elem
	kindMap      kind = "map"      // free-form: any keys, any values (connector options)
	kindObject   kind = "object"   // a mapping with the declared fields only
)

// field declares one key of the deployment file. The tree of fields rooted
// at spec is the single source of truth: the decoder checks input against it
// (unknown keys, kinds, required keys, enums), fills defaults from it, and
// docs.go renders docs/config.md from it.
type field struct {
	name string
	kind kind
	// elem is the element of a list.
	elem *field
	// fields are the keys of an object.
	fields []*field
	// singular names one element of a list of objects in messages
	// ("source"); elements are labelled by their name key when they have one.
	singular string
	required bool
	// def is the default, as the Go value the decoder yields (string, int,
	// bool, time.Duration, []string); nil means none.
	def any
	// enum restricts a string to these values.
	enum []string
	// scalarList lets a list of scalars be written as a single scalar
	// (storage: duckdb means [duckdb]).
	scalarList bool
	// noEnv keeps ${VAR} references verbatim (SQL text).
	noEnv bool
	// example is a YAML snippet showing the key in use (a value for
	// scalars, a whole line for the docs table).
	example string
	doc     string
	since   string
}

// lookup returns the field called name of an object, or nil.
func (f *field) lookup(name string) *field {
	for _, c := range f.fields {
		if c.name == name {
			return c
		}
	}
	return nil
}

// names lists the keys of an object.
func (f *field) names() []string {
	out := make([]string, len(f.fields))
	for i, c := range f.fields {
		out[i] = c.name
	}
	return out
}

// kindName describes a field's kind for people: "list of strings".
func (f *field) kindName() string {
	switch f.kind {
	case kindList:
		if f.elem.kind == kindObject {
			return "list of " + f.elem.singular + "s"
		}
		return "list of " + string(f.elem.kind) + "s"
	case kindMap:
		return "mapping"
	case kindObject:
		return "mapping"
	}
	return string(f.kind)
}

// defString renders the default for docs and hints.
func (f *field) defString() string {
	switch d := f.def.(type) {
	case nil:
		return ""
	case string:
		if d == "" {
			return `""`
		}
		return d
	case time.Duration:
		return formatDuration(d)
	case []string:
		return "[" + strings.Join(d, ", ") + "]"
	default:
		return fmt.Sprint(d)
	}
}

// formatDuration writes d the way people write it in YAML: 1m, not 1m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Defaults, named because the spec and the code that resolves them share them.
const (
	defaultDataDir      = "./data"
	defaultFormat       = "json"
	defaultEpochRows    = 100000
	defaultEpochTick    = time.Second
	reservedDeadLetters = "dead_letters"
	defaultOnError      = "fail"
	defaultUDFMemory    = 64 << 20
	defaultUDFDeadline  = time.Second
)

// defaultStorage is a view's storage when it names none.
var defaultStorage = []string{"duckdb"}

// Source kinds.
const (
	// KindStream is an append-only source with event time.
	KindStream = "stream"
	// KindTable is a keyed source whose rows are inserted, updated and
	// deleted (CDC, a compacted topic).
	KindTable = "table"
)

const since01 = "0.1"

func str(name, doc, example string) *field {
	return &field{name: name, kind: kindString, doc: doc, example: example, since: since01}
}

func req(f *field) *field { f.required = true; return f }

func identList(name, doc, example string) *field {
	return &field{name: name, kind: kindList, elem: &field{kind: kindString}, scalarList: true, doc: doc, example: example, since: since01}
}

// spec is the deployment file.
var spec = &field{kind: kindObject, singular: "deployment", fields: []*field{
	{name: "data_dir", kind: kindString, def: defaultDataDir, since: since01, example: "./data",
		doc: "Directory for the epoch log and every backend's files. A relative path is resolved against the deployment file's directory."},
	{name: "server", kind: kindObject, since: since01, singular: "server", example: "{http: 127.0.0.1:7070, postgres: 127.0.0.1:6875}",
		doc: "Network endpoints of `strata run`. Each is a host:port; leave it out to not serve it.",
		fields: []*field{
			str("http", "Address of the HTTP API (`/v1/sql`, `/v1/views/...`, `/metrics`, `/healthz`). Empty: no HTTP server.", "127.0.0.1:7070"),
			str("postgres", "Address of the Postgres wire protocol endpoint, for psql and BI tools. Empty: not served.", "127.0.0.1:6875"),
		}},
	{name: "engine", kind: kindObject, since: since01, singular: "engine", example: "{epoch_interval: 1s, max_epoch_rows: 100000}",
		doc: "Tuning of the epoch coordinator.",
		fields: []*field{
			{name: "epoch_interval", kind: kindDuration, def: defaultEpochTick, since: since01, example: "500ms",
				doc: "How often an epoch starts when sources have data. Shorter: fresher views, more commits."},
			{name: "max_epoch_rows", kind: kindInt, def: defaultEpochRows, since: since01, example: "50000",
				doc: "Upper bound on the input rows one epoch reads, across all sources."},
			{name: "max_state_keys", kind: kindInt, def: 0, since: since01, example: "1000000",
				doc: "Keys (groups) an aggregate keeps in memory between epochs; the rest stay in the Pebble state store under data_dir and are read back when needed. 0: all in memory."},
		}},
	{name: "udfs", kind: kindList, since: since01, example: "[{name: fx, path: udfs/fx.wasm}]",
		doc: "WebAssembly modules whose functions views may call.",
		elem: &field{kind: kindObject, singular: "udf", fields: []*field{
			req(str("name", "Name of the module; its functions are called as declared in its manifest.", "fx")),
			req(str("path", "Path of the .wasm file, resolved against the deployment file's directory. It must exist. A new build at this path is checked and swapped in between epochs.", "udfs/fx.wasm")),
			{name: "on_error", kind: kindString, def: defaultOnError, enum: []string{"fail", "null", "dead_letter"}, since: since01, example: "dead_letter",
				doc: "What a row a function of the module fails on becomes: fail stops the view with the error, null makes the value NULL, dead_letter drops the row into dead_letters."},
			{name: "memory_limit", kind: kindInt, def: defaultUDFMemory, since: since01, example: "134217728",
				doc: "Bytes of linear memory each instance of the module may grow to (64 KiB pages); a call that needs more fails."},
			{name: "deadline", kind: kindDuration, def: defaultUDFDeadline, since: since01, example: "200ms",
				doc: "Longest a call over one batch may run; a runaway call is stopped and fails."},
			identList("grants", "Capabilities beyond pure computation: clock (real time), random (crypto-grade randomness), stderr (guest stderr to the log). None by default; there is never filesystem or network access.", "[clock]"),
		}}},
	{name: "sources", kind: kindList, since: since01, example: "[{name: bids, connector: kafka, ...}]",
		doc: "Inputs. Sources and views share one namespace.",
		elem: &field{kind: kindObject, singular: "source", fields: []*field{
			req(str("name", "Name of the source in SQL. Letters, digits and `_`, not starting with a digit; folded to lower case.", "bids")),
			req(str("connector", "Connector that reads the source (kafka, file, datagen, postgres).", "kafka")),
			{name: "options", kind: kindMap, since: since01, example: "{brokers: [127.0.0.1:9092], topic: bids}",
				doc: "Connector options; each connector documents its own. Strings may use ${VAR} to read the environment."},
			{name: "format", kind: kindString, def: defaultFormat, since: since01, example: "json",
				doc: "Record format (json, csv, avro, parquet). Connectors that generate typed rows ignore it."},
			{name: "schema", kind: kindList, since: since01, example: "[{name: auction, type: bigint}, {name: date_time, type: timestamp}]",
				doc: "Columns of the source, in order. Required for the json and csv formats, except from a connector whose columns follow from its options (nexmark), which gives them when none are declared.",
				elem: &field{kind: kindObject, singular: "column", fields: []*field{
					req(str("name", "Column name, folded to lower case.", "auction")),
					req(str("type", "SQL type: boolean, integer, bigint, double, varchar, bytea, date, timestamp (and the usual aliases).", "bigint")),
				}}},
			{name: "event_time", kind: kindObject, since: since01, singular: "event_time", example: "{column: date_time, watermark_delay: 5s}",
				doc: "Event-time column of a stream and how late its events may arrive.",
				fields: []*field{
					req(str("column", "Schema column holding the event time.", "date_time")),
					{name: "watermark_delay", kind: kindDuration, def: time.Duration(0), since: since01, example: "5s",
						doc: "How far the watermark trails the largest event time seen. Events older than the watermark are late."},
				}},
			{name: "kind", kind: kindString, def: KindStream, enum: []string{KindStream, KindTable}, since: since01, example: "table",
				doc: "stream: append-only events. table: keyed rows that are inserted, updated and deleted; needs primary_key."},
			identList("primary_key", "Key columns of a table source.", "[auction]"),
		}}},
	{name: "views", kind: kindList, since: since01, example: "[{name: hot_auctions, sql: SELECT ..., storage: [pebble, duckdb]}]",
		doc: "SQL views kept up to date incrementally.",
		elem: &field{kind: kindObject, singular: "view", fields: []*field{
			req(str("name", "Name of the view in SQL and in the API; shares a namespace with sources. `dead_letters` is reserved.", "hot_auctions")),
			{name: "sql", kind: kindString, required: true, noEnv: true, since: since01, example: "SELECT auction, count(*) AS bids FROM bids GROUP BY auction",
				doc: "The view's query (Postgres dialect). Use a `|` block for several lines."},
			{name: "storage", kind: kindList, elem: &field{kind: kindString}, scalarList: true, def: defaultStorage, since: since01, example: "[pebble, duckdb]",
				doc: "Backends that store the view: pebble (key lookups), duckdb (ad-hoc SQL)."},
			identList("primary_key", "Overrides the key inferred from the query (the GROUP BY columns).", "[auction]"),
		}}},
	{name: "sinks", kind: kindList, since: since01, example: "[{name: hot_out, from: hot_auctions, connector: kafka, options: {topic: hot}}]",
		doc: "Outputs: each writes the changes of one view to a connector.",
		elem: &field{kind: kindObject, singular: "sink", fields: []*field{
			req(str("name", "Name of the sink.", "hot_out")),
			req(str("from", "The view whose changes the sink writes.", "hot_auctions")),
			req(str("connector", "Connector that writes the sink.", "kafka")),
			{name: "options", kind: kindMap, since: since01, example: "{topic: hot}",
				doc: "Connector options; each connector documents its own."},
		}}},
}}

func init() { label(spec) }

// label fills defaults the declarations leave implicit: the since version of
// list elements, so every node of the tree is documented.
func label(f *field) {
	if f.since == "" {
		f.since = since01
	}
	if f.elem != nil {
		label(f.elem)
	}
	for _, c := range f.fields {
		label(c)
	}
}
