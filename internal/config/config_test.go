package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stratadb/strata/engine/core"
)

// parseTest parses src as testdata/strata.yaml with the test options.
func parseTest(t *testing.T, src string, opts ...Option) (*Deployment, Problems) {
	t.Helper()
	d, err := Parse(filepath.Join("testdata", "strata.yaml"), []byte(src), append(testOptions(), opts...)...)
	if d == nil {
		t.Fatalf("Parse returned no deployment (err %v)", err)
	}
	return d, problemsOf(t, err)
}

// TestRules has one case per validation rule: the input, and the problem it
// must produce as "line:col: message fragment" plus a fragment of the hint.
func TestRules(t *testing.T) {
	const src = "sources: [{name: s, connector: datagen, schema: [{name: a, type: bigint}, {name: ts, type: timestamp}]}]\n"
	for _, tc := range []struct {
		name string
		yaml string
		at   string // line:col
		msg  string
		hint string
	}{
		{"syntax", "views:\n  - name: v\n   sql: x\n", "3:1", "yaml: did not find expected '-' indicator", "indentation"},
		{"syntax/tab", "views:\n\t- name: v\n", "2:1", "cannot start any token", "spaces, not tabs"},
		{"unknown-key", "views:\n  - {name: v, sql: SELECT 1, storag: [duckdb]}\n", "2:30", `unknown key "storag" in view "v"`, `did you mean "storage"?`},
		{"unknown-key/top", "source: []\n", "1:1", `unknown top-level key "source"`, `did you mean "sources"?`},
		{"unknown-key/far", "views:\n  - {name: v, sql: SELECT 1, qqqqqq: 1}\n", "2:30", `unknown key "qqqqqq"`, "known keys: name, primary_key, sql, storage"},
		{"duplicate-key", "data_dir: a\ndata_dir: b\n", "2:1", `key "data_dir" is set twice`, "first is at line 1"},
		{"kind/list-for-map", "server: [a]\n", "1:9", "server must be a mapping, got a list", "example: server:"},
		{"kind/map-for-list", "views: {name: v}\n", "1:8", "views must be a list of views, got a mapping", "example"},
		{"kind/int", "engine: {max_epoch_rows: lots}\n", "1:26", "max_epoch_rows must be an integer", "50000"},
		{"kind/element", "sources: [5]\n", "1:11", "source #1 must be a mapping, got the number 5", "example"},
		{"required/name", "views: [{sql: SELECT 1}]\n", "1:9", `view #1: missing required key "name"`, "add name:"},
		{"required/connector", "sources: [{name: s, schema: [{name: a, type: int}]}]\n", "1:11", `source "s": missing required key "connector"`, "add connector: kafka"},
		{"required/sql", "views: [{name: v}]\n", "1:9", `view "v": missing required key "sql"`, "add sql:"},
		{"required/from", src + "sinks: [{name: k, connector: file, options: {path: x}}]\n", "2:9", `missing required key "from"`, "add from:"},
		{"required/empty", "views: [{name: v, sql: }]\n", "1:19", "sql is empty", "write sql:"},
		{"name/duplicate-view", src + "views: [{name: v, sql: SELECT 1}, {name: v, sql: SELECT 2}]\n", "2:42", `duplicate view name "v"`, "first defined at line 2"},
		{"name/view-shadows-source", src + "views: [{name: S, sql: SELECT 1}]\n", "2:16", `duplicate view name "s"`, "share one namespace"},
		{"name/reserved", "views: [{name: dead_letters, sql: SELECT 1}]\n", "1:16", `"dead_letters" is reserved`, "another name"},
		{"name/identifier", "views: [{name: my-view, sql: SELECT 1}]\n", "1:16", `view name "my-view" is not a valid identifier`, `"my_view"`},
		{"name/column-identifier", "sources: [{name: s, connector: datagen, schema: [{name: 2a, type: int}]}]\n", "1:57", `column name "2a" is not a valid identifier`, "not starting with a digit"},
		{"schema/unknown-type", "sources: [{name: s, connector: datagen, schema: [{name: a, type: bigintt}]}]\n", "1:66", `column a has unknown type "bigintt"`, "did you mean \"bigint\"? known types: boolean, integer, bigint"},
		{"schema/duplicate-column", "sources: [{name: s, connector: datagen, schema: [{name: a, type: int}, {name: A, type: int}]}]\n", "1:79", `duplicate column "a"`, "first is at line 1"},
		{"schema/needed", "sources: [{name: s, connector: datagen, format: csv}]\n", "1:11", "the csv format needs a schema", "schema: [{name:"},
		{"event-time/column", "sources: [{name: s, connector: datagen, schema: [{name: ts, type: timestamp}], event_time: {column: tss}}]\n", "1:101", `event_time column "tss" is not in the schema`, `did you mean "ts"?`},
		{"duration", "sources: [{name: s, connector: datagen, schema: [{name: ts, type: timestamp}], event_time: {column: ts, watermark_delay: 5 parsecs}}]\n", "1:122", `invalid duration "5 parsecs"`, "500ms, 5s"},
		{"duration/negative", "engine: {epoch_interval: -2s}\n", "1:26", "duration -2s is negative", "0s or more"},
		{"duration/zero-interval", "engine: {epoch_interval: 0s}\n", "1:26", "epoch_interval must be positive", "1s"},
		{"storage/unknown", "views: [{name: v, sql: SELECT 1, storage: [pebbles]}]\n", "1:44", `unknown storage "pebbles"`, `did you mean "pebble"?`},
		{"storage/duplicate", "views: [{name: v, sql: SELECT 1, storage: [duckdb, duckdb]}]\n", "1:52", `storage "duckdb" is listed twice`, "once"},
		{"sink/from-source", src + "sinks: [{name: k, from: s, connector: file, options: {path: x}}]\n", "2:25", `from names source "s", but sinks write views`, "SELECT * FROM s"},
		{"sink/from-unknown", src + "views: [{name: per_s, sql: SELECT 1}]\nsinks: [{name: k, from: per_ss, connector: file, options: {path: x}}]\n", "3:25", `from names "per_ss", which is not a view`, `did you mean "per_s"?`},
		{"udf/missing", "udfs: [{name: f, path: nope.wasm}]\n", "1:24", "module nope.wasm does not exist", "looked for"},
		{"udf/grant", "udfs: [{name: f, path: udfs/fx.wasm, grants: [clok]}]\n", "1:47", `unknown grant "clok"`, `did you mean "clock"?`},
		{"udf/memory", "udfs: [{name: f, path: udfs/fx.wasm, memory_limit: 1024}]\n", "1:52", "memory_limit 1024 is out of range", "64 KiB"},
		{"udf/deadline", "udfs: [{name: f, path: udfs/fx.wasm, deadline: 0s}]\n", "1:48", "deadline must be positive", "200ms"},
		{"udf/on-error", "udfs: [{name: f, path: udfs/fx.wasm, on_error: skip}]\n", "1:48", `on_error must be fail, null or dead_letter, got "skip"`, ""},
		{"server/host-port", "server: {http: 7070}\n", "1:16", `invalid address "7070"`, "host:port"},
		{"server/port", "server: {postgres: \"localhost:x\"}\n", "1:20", `invalid port "x"`, "0 to 65535"},
		{"kind/enum", "sources: [{name: s, connector: datagen, kind: tabel, schema: [{name: a, type: int}]}]\n", "1:47", `kind must be stream or table, got "tabel"`, `did you mean "table"?`},
		{"table/primary-key", "sources: [{name: s, connector: datagen, kind: table, schema: [{name: a, type: int}]}]\n", "1:47", "a table source needs a primary_key", "primary_key: [col"},
		{"table/key-column", "sources: [{name: s, connector: datagen, kind: table, primary_key: [b], schema: [{name: a, type: int}]}]\n", "1:68", `primary_key column "b" is not in the schema`, "schema columns: a"},
		{"connector/unknown", "sources: [{name: s, connector: kafak, schema: [{name: a, type: int}]}]\n", "1:32", `unknown source connector "kafak"`, `did you mean "kafka"?`},
		{"connector/option", "sources: [{name: s, connector: file, options: {pth: x, path: y}, schema: [{name: a, type: int}]}]\n", "1:48", `unknown file option "pth"`, `did you mean "path"?`},
		{"connector/required", "sources: [{name: s, connector: file, options: {follow: true}, schema: [{name: a, type: int}]}]\n", "1:47", `file connector needs option "path"`, "add path: <file or glob to read> under options"},
		{"connector/kind", "sources: [{name: s, connector: datagen, options: {rows: many}, schema: [{name: a, type: int}]}]\n", "1:57", "option rows must be an integer", "whole number"},
		{"env/unset", "data_dir: ${NOPE}\n", "1:11", "environment variable NOPE is not set", "${NOPE:-value}"},
	} {
		t.Run("rule="+tc.name, func(t *testing.T) {
			t.Parallel()
			_, ps := parseTest(t, tc.yaml)
			for _, p := range ps {
				at := strings.TrimPrefix(p.Pos.String(), filepath.Join("testdata", "strata.yaml")+":")
				if at == tc.at && strings.Contains(p.Msg, tc.msg) && strings.Contains(p.Hint, tc.hint) {
					return
				}
			}
			t.Errorf("want %s: %s (%s...), got:\n%v", tc.at, tc.msg, tc.hint, ps)
		})
	}
}

// TestValidInputsPass: inputs close to the rules above that are fine.
func TestValidInputsPass(t *testing.T) {
	for _, tc := range []struct{ name, yaml string }{
		{"empty-lists", "sources: []\nviews: []\n"},
		{"sink-dead-letters", "views: [{name: v, sql: SELECT 1}]\nsinks: [{name: k, from: dead_letters, connector: file, options: {path: x}}]\n"},
		{"mixed-case", "sources: [{name: Bids, connector: datagen, schema: [{name: A, type: INT}]}]\nviews: [{name: V, sql: SELECT a FROM bids}]\n"},
		{"table", "sources: [{name: t, connector: datagen, kind: table, primary_key: [a], schema: [{name: a, type: int}]}]\n"},
		{"server-any-host", "server: {http: \":7070\", postgres: \"[::1]:6875\"}\n"},
		{"env-default", "data_dir: ${NOPE:-./d}\n"},
		{"x-extension", "x-shared: &s {connector: datagen}\nsources: [{<<: *s, name: a, schema: [{name: a, type: int}]}]\n"},
		{"scalar-storage", "views: [{name: v, sql: SELECT 1, storage: pebble}]\n"},
		{"null-values", "server:\nengine:\nudfs:\nsources:\nviews:\nsinks:\n"},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			t.Parallel()
			if _, ps := parseTest(t, tc.yaml); len(ps) > 0 {
				t.Errorf("unexpected problems:\n%v", ps)
			}
		})
	}
}

// TestFiveMistakes: one file, five different mistakes, five problems, each
// on its own line, in file order.
func TestFiveMistakes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	src := `data_dir: ./state
sources:
  - name: bids
    connector: file
    options: {path: "x.jsonl"}
    schema:
      - {name: auction, type: bigintt}
      - {name: date_time, type: timestamp}
    event_time: {column: date_time, watermark_delay: 5 parsecs}
views:
  - name: v1
    sql: SELECT auction, count(*) FROM bids GROUP BY auction
    storag: [duckdb]
  - name: v1
    sql: SELECT 1
  - name: v2
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Load(path, testOptions()...)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Load error %v, want Problems", err)
	}
	if d == nil {
		t.Fatal("Load returned no deployment with its problems")
	}
	want := []struct {
		line int
		msg  string
	}{
		{7, `unknown type "bigintt"`},
		{9, `invalid duration "5 parsecs"`},
		{13, `unknown key "storag"`},
		{14, `duplicate view name "v1"`},
		{16, `missing required key "sql"`},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(want), ps)
	}
	for i, w := range want {
		p := ps[i]
		if p.Pos.File != path || p.Pos.Line != w.line || !strings.Contains(p.Msg, w.msg) || p.Hint == "" {
			t.Errorf("problem %d = %v, want %s:%d: ...%s... with a hint", i, p, path, w.line, w.msg)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], path+":7:") {
		t.Errorf("Error() = %q, want five lines, the first at line 7", err.Error())
	}
	// The parts without problems are still there.
	if len(d.Sources) != 1 || d.Sources[0].Name != "bids" || len(d.Views) != 3 || d.DataDir != filepath.Join(dir, "state") {
		t.Errorf("partial deployment = %+v", d)
	}
}

// TestRoundTrip: the DESIGN.md example, loaded, is exactly this Deployment.
func TestRoundTrip(t *testing.T) {
	src := `data_dir: ./data
server: {http: 127.0.0.1:7070, postgres: 127.0.0.1:6875}
udfs:
  - {name: fx, path: udfs/fx.wasm}
sources:
  - name: bids
    connector: kafka
    options: {brokers: [127.0.0.1:9092], topic: bids}
    format: json
    schema: [{name: auction, type: bigint}, {name: date_time, type: timestamp}]
    event_time: {column: date_time, watermark_delay: 5s}
views:
  - name: hot_auctions
    sql: |
      SELECT auction, count(*) AS bids
      FROM bids GROUP BY auction
    storage: [pebble, duckdb]
sinks:
  - {name: hot_out, from: hot_auctions, connector: kafka, options: {topic: hot}}
`
	d, ps := parseTest(t, src)
	if len(ps) > 0 {
		t.Fatalf("problems:\n%v", ps)
	}
	f := filepath.Join("testdata", "strata.yaml")
	dir, _ := filepath.Abs("testdata")
	at := func(line, col int) Pos { return Pos{File: f, Line: line, Col: col} }
	want := &Deployment{
		File: f, Dir: dir, DataDir: filepath.Join(dir, "data"),
		Server: Server{HTTP: "127.0.0.1:7070", Postgres: "127.0.0.1:6875", Pos: at(2, 9), HTTPPos: at(2, 16), PostgresPos: at(2, 42)},
		// Positions of keys left out are those of the enclosing item.
		Engine: Engine{EpochInterval: time.Second, MaxEpochRows: 100000, Pos: at(1, 1)},
		UDFs:   []UDF{{Name: "fx", Path: filepath.Join(dir, "udfs", "fx.wasm"), OnError: "fail", MemoryLimit: 64 << 20, Deadline: time.Second, Pos: at(4, 5), NamePos: at(4, 12), PathPos: at(4, 22)}},
		Sources: []Source{{
			Name: "bids", Connector: "kafka",
			Options:   map[string]any{"brokers": []any{"127.0.0.1:9092"}, "topic": "bids"},
			OptionPos: map[string]Pos{"brokers": at(8, 15), "topic": at(8, 42)},
			Format:    "json",
			Schema:    []core.Column{{Name: "auction", Type: core.Bigint}, {Name: "date_time", Type: core.Timestamp}},
			ColumnPos: []Pos{at(10, 14), at(10, 45)},
			EventTime: &EventTime{Column: "date_time", WatermarkDelay: 5 * time.Second, Pos: at(11, 17), ColumnPos: at(11, 26), WatermarkDelayPos: at(11, 54)},
			Kind:      KindStream,
			Pos:       at(6, 5), NamePos: at(6, 11), ConnectorPos: at(7, 16), FormatPos: at(9, 13), SchemaPos: at(10, 13),
			KindPos: at(6, 5), PrimaryKeyPos: at(6, 5),
		}},
		Views: []View{{
			Name: "hot_auctions", SQL: "SELECT auction, count(*) AS bids\nFROM bids GROUP BY auction\n",
			Storage: []string{"pebble", "duckdb"},
			Pos:     at(13, 5), NamePos: at(13, 11), StoragePos: at(17, 14), PrimaryKeyPos: at(13, 5),
		}},
		Sinks: []Sink{{
			Name: "hot_out", From: "hot_auctions", Connector: "kafka",
			Options: map[string]any{"topic": "hot"}, OptionPos: map[string]Pos{"topic": at(19, 69)},
			Pos: at(19, 5), NamePos: at(19, 12), FromPos: at(19, 27), ConnectorPos: at(19, 52),
		}},
	}
	got := *d
	got.Views = append([]View(nil), d.Views...)
	for i := range got.Views {
		got.Views[i].sql = sqlText{}
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("got  %+v\nwant %+v", &got, want)
		for i := range got.Sources {
			if !reflect.DeepEqual(got.Sources[i], want.Sources[i]) {
				t.Errorf("source %d:\n got %+v\nwant %+v", i, got.Sources[i], want.Sources[i])
			}
		}
	}
	if p := d.Views[0].SQLPos(strings.Index(d.Views[0].SQL, "FROM")); p != at(16, 7) {
		t.Errorf("SQLPos(FROM) = %v, want %v", p, at(16, 7))
	}
}

// TestQuickstartLoads: the example deployment shipped in the repository is valid.
func TestQuickstartLoads(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "quickstart", "strata.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the quickstart example is missing: %v", err)
	}
	d, err := Load(path, testOptions()...)
	if err != nil {
		t.Fatalf("quickstart:\n%v", err)
	}
	if len(d.Sources) == 0 || len(d.Views) == 0 {
		t.Errorf("quickstart loaded as %+v", d)
	}
}

func TestLoadMissingFile(t *testing.T) {
	d, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	var ps Problems
	if d != nil || err == nil || errors.As(err, &ps) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, %v; want nil and an os.ErrNotExist that is not Problems", d, err)
	}
}

// TestEnvDefault: without WithEnv, ${VAR} reads the process environment.
func TestEnvDefault(t *testing.T) {
	t.Setenv("STRATA_CONFIG_TEST_DIR", "from-env")
	d, err := Parse("x/strata.yaml", []byte("data_dir: ${STRATA_CONFIG_TEST_DIR}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(d.DataDir) != "from-env" {
		t.Errorf("DataDir = %s", d.DataDir)
	}
}

func TestProblemsFormatAndOrder(t *testing.T) {
	ps := Problems{
		{Pos: Pos{"f.yaml", 9, 2}, Msg: "late"},
		{Pos: Pos{"f.yaml", 2, 7}, Msg: "second", Hint: "fix it"},
		{Pos: Pos{"f.yaml", 2, 3}, Msg: "first"},
	}
	ps.Sort()
	want := "f.yaml:2:3: first\nf.yaml:2:7: second (fix it)\nf.yaml:9:2: late"
	if got := ps.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if got := (Pos{File: "f.yaml"}).String(); got != "f.yaml" {
		t.Errorf("Pos without line = %q", got)
	}
	var err error = ps
	var back Problems
	if !errors.As(err, &back) || len(back) != 3 {
		t.Errorf("errors.As lost the problems")
	}
}

// TestBadBytes: problems yaml.v3 reports without a line get one anyway.
func TestBadBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		line int
	}{
		{"invalid-utf8", "views: []\nsources: [\xff]\n", 2},
		{"control-char", "views: []\n\ndata_dir: a\x01b\n", 3},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			_, ps := parseTest(t, tc.src)
			if len(ps) == 0 || ps[0].Pos.Line != tc.line {
				t.Errorf("problems %v, want one at line %d", ps, tc.line)
			}
		})
	}
}

// TestAliasBomb: nested aliases cannot make the decoder walk an
// exponentially large tree.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("x-a" + string(rune('0'+i%10)) + string(rune('a'+i)) + ": &a" + string(rune('a'+i)) + " [")
		prev := "a0"
		if i > 1 {
			prev = "a" + string(rune('a'+i-1))
		}
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
	}
	b.WriteString("sources: [{name: s, connector: datagen, options: {bomb: *al}, schema: [{name: a, type: int}]}]\n")
	done := make(chan Problems, 1)
	go func() {
		_, err := Parse("bomb.yaml", []byte(b.String()), WithEnv(fakeEnv(nil)))
		ps, _ := err.(Problems)
		done <- ps
	}()
	select {
	case ps := <-done:
		if !strings.Contains(ps.Error(), "too many YAML alias references") {
			t.Errorf("problems %v, want the alias limit", ps)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("alias bomb took over 10s")
	}
}

func TestSQLPos(t *testing.T) {
	for _, tc := range []struct {
		name   string
		src    string
		find   string
		line   int
		col    int
		offset int // used when find is empty
	}{
		{name: "literal", src: "views:\n  - name: v\n    sql: |\n      SELECT a\n      FROM t\n", find: "FROM", line: 5, col: 7},
		{name: "literal-crlf", src: "views:\r\n  - name: v\r\n    sql: |\r\n      SELECT a\r\n      FROM t\r\n", find: "FROM", line: 5, col: 7},
		{name: "literal-keep", src: "views:\n  - name: v\n    sql: |+\n      SELECT a\n\n      FROM t\n\n", find: "FROM", line: 6, col: 7},
		{name: "plain", src: "views:\n  - name: v\n    sql: SELECT prize FROM bids\n", find: "prize", line: 3, col: 17},
		{name: "double-quoted", src: "views: [{name: v, sql: \"SELECT 1 AS x\"}]\n", find: "x", line: 1, col: 37},
		{name: "single-quoted", src: "views: [{name: v, sql: 'SELECT 1 AS x'}]\n", find: "x", line: 1, col: 37},
		{name: "offset-zero", src: "views:\n  - name: v\n    sql: |\n      SELECT 1\n", offset: 0, line: 4, col: 7},
		{name: "offset-past-end", src: "views:\n  - name: v\n    sql: SELECT 1\n", offset: 1000, line: 3, col: 18},
		{name: "offset-negative", src: "views:\n  - name: v\n    sql: SELECT 1\n", offset: -5, line: 3, col: 10},
	} {
		t.Run("case="+tc.name, func(t *testing.T) {
			d, ps := parseTest(t, tc.src)
			if len(ps) > 0 || len(d.Views) != 1 {
				t.Fatalf("problems:\n%v", ps)
			}
			v := d.Views[0]
			off := tc.offset
			if tc.find != "" {
				off = strings.Index(v.SQL, tc.find)
			}
			if p := v.SQLPos(off); p.Line != tc.line || p.Col != tc.col {
				t.Errorf("SQLPos(%d) in %q = %d:%d, want %d:%d", off, v.SQL, p.Line, p.Col, tc.line, tc.col)
			}
		})
	}
	// A View not built by Parse maps to its Pos.
	v := View{SQL: "SELECT 1", Pos: Pos{"f", 3, 4}}
	if p := v.SQLPos(3); p != v.Pos {
		t.Errorf("SQLPos of a bare View = %v", p)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"sources", "views", "sinks", "data_dir"}
	for _, tc := range []struct{ in, want string }{
		{"source", `did you mean "sources"?`},
		{"VIEWS", `did you mean "views"?`},
		{"datadir", `did you mean "data_dir"?`},
		{"x", "known: data_dir, sinks, sources, views"},
		{"completely_different", "known: data_dir, sinks, sources, views"},
	} {
		if got := suggest(tc.in, known, "known"); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSyntaxErrorLine: the line of a syntax error is the offending line,
// not the start of the enclosing list, even deep into a long file.
func TestSyntaxErrorLine(t *testing.T) {
	var b strings.Builder
	b.WriteString("views:\n")
	for i := 0; i < 3000; i++ {
		b.WriteString("  - {name: v" + strings.Repeat("x", i%7) + ", sql: SELECT 1}\n")
	}
	b.WriteString("   - name: bad\n") // line 3002
	for i := 0; i < 100; i++ {
		b.WriteString("  - {name: w, sql: SELECT 1}\n")
	}
	start := time.Now()
	_, ps := parseTest(t, b.String())
	if len(ps) != 1 || ps[0].Pos.Line != 3002 {
		t.Errorf("problems %v, want one at line 3002", ps)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("took %v", el)
	}
}

// TestSyntaxErrorStillDefaults: a file that does not parse still yields a
// Deployment with the defaults filled in.
func TestSyntaxErrorStillDefaults(t *testing.T) {
	d, ps := parseTest(t, "views: [\n")
	if len(ps) != 1 {
		t.Fatalf("problems %v", ps)
	}
	if filepath.Base(d.DataDir) != "data" || d.Engine.EpochInterval != time.Second || d.Engine.MaxEpochRows != 100000 {
		t.Errorf("defaults missing: %+v", d)
	}
}
