package config

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stratadb/strata/engine/core"
)

// fakeConnectors is a connector registry for tests.
var fakeConnectors = map[string]map[string][]OptionSpec{
	"source": {
		"kafka": {
			{Name: "brokers", Kind: "list", Required: true, Doc: "seed brokers, host:port"},
			{Name: "topic", Kind: "string", Required: true, Doc: "topic to read"},
			{Name: "poll", Kind: "duration", Default: "100ms"},
			{Name: "start", Kind: "string", Default: "earliest"},
		},
		"file": {
			{Name: "path", Kind: "string", Required: true, Doc: "file or glob to read"},
			{Name: "follow", Kind: "bool", Default: false},
		},
		"datagen": {
			{Name: "rows", Kind: "int"},
			{Name: "seed", Kind: "int", Default: 1},
			{Name: "cardinality", Kind: "int"},
			{Name: "fields", Kind: "map"},
		},
		"nexmark": { // its columns follow from its table: see fakeSchemas
			{Name: "table", Kind: "string", Required: true},
		},
	},
	"sink": {
		"kafka": {
			{Name: "brokers", Kind: "list"},
			{Name: "topic", Kind: "string", Required: true},
		},
		"file": {
			{Name: "path", Kind: "string", Required: true},
		},
	},
}

func fakeLookup(kind, name string) ([]OptionSpec, bool) {
	s, ok := fakeConnectors[kind][name]
	return s, ok
}

// fakeSchemas gives the fake nexmark connector fixed tables, like the real
// one: person (id, name, date_time) and bid (auction, price, date_time).
func fakeSchemas(connector string, options map[string]any) ([]core.Column, bool, error) {
	if connector != "nexmark" {
		return nil, false, nil
	}
	ts := core.Column{Name: "date_time", Type: core.Timestamp}
	switch options["table"] {
	case nil:
		return nil, true, nil
	case "person":
		return []core.Column{{Name: "id", Type: core.Bigint}, {Name: "name", Type: core.Varchar}, ts}, true, nil
	case "bid":
		return []core.Column{{Name: "auction", Type: core.Bigint}, {Name: "price", Type: core.Bigint}, ts}, true, nil
	}
	return nil, true, fmt.Errorf("nexmark: option table must be person or bid, got %q", options["table"])
}

func fakeNames(kind string) []string {
	var out []string
	for n := range fakeConnectors[kind] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// testOptions are the options most tests load with: the fake connector
// registry and an environment holding BROKERS and TOPIC only.
func testOptions() []Option {
	return []Option{
		WithConnectors(fakeLookup),
		WithConnectorNames("source", fakeNames("source")),
		WithConnectorNames("sink", fakeNames("sink")),
		WithSchemas(fakeSchemas),
		WithEnv(fakeEnv(map[string]string{"BROKERS": "10.0.0.1:9092", "TOPIC": "bids"})),
	}
}

func fakeEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// problemsOf returns the problems of err, failing t on any other error.
func problemsOf(t testing.TB, err error) Problems {
	t.Helper()
	if err == nil {
		return nil
	}
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	return ps
}

// printDeployment renders a deployment deterministically, paths relative
// to its directory.
func printDeployment(d *Deployment) string {
	var b strings.Builder
	rel := func(p string) string {
		if r, err := filepath.Rel(d.Dir, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	pos := func(p Pos) string { return fmt.Sprintf("@%d:%d", p.Line, p.Col) }
	fmt.Fprintf(&b, "data_dir: %s\n", rel(d.DataDir))
	if d.Server.HTTP != "" || d.Server.Postgres != "" {
		fmt.Fprintf(&b, "server: http=%q postgres=%q\n", d.Server.HTTP, d.Server.Postgres)
	}
	fmt.Fprintf(&b, "engine: epoch_interval=%s max_epoch_rows=%d\n", d.Engine.EpochInterval, d.Engine.MaxEpochRows)
	for _, u := range d.UDFs {
		fmt.Fprintf(&b, "udf %s %s path=%s\n", u.Name, pos(u.Pos), rel(u.Path))
	}
	for _, s := range d.Sources {
		fmt.Fprintf(&b, "source %s %s connector=%s format=%s kind=%s\n", s.Name, pos(s.Pos), s.Connector, s.Format, s.Kind)
		if len(s.Options) > 0 {
			keys := sorted(mapKeys(s.Options))
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s=%s%s", k, printValue(s.Options[k]), pos(s.OptionPos[k]))
			}
			fmt.Fprintf(&b, "  options: %s\n", strings.Join(parts, " "))
		}
		if len(s.Schema) > 0 {
			parts := make([]string, len(s.Schema))
			for i, c := range s.Schema {
				parts[i] = c.Name + " " + c.Type.Name + pos(s.ColumnPos[i])
			}
			fmt.Fprintf(&b, "  schema: %s\n", strings.Join(parts, ", "))
		}
		if e := s.EventTime; e != nil {
			fmt.Fprintf(&b, "  event_time: %s watermark_delay=%s\n", e.Column, e.WatermarkDelay)
		}
		if s.PrimaryKey != nil {
			fmt.Fprintf(&b, "  primary_key: %s\n", strings.Join(s.PrimaryKey, ", "))
		}
	}
	for _, v := range d.Views {
		fmt.Fprintf(&b, "view %s %s storage=[%s]\n", v.Name, pos(v.Pos), strings.Join(v.Storage, " "))
		if v.PrimaryKey != nil {
			fmt.Fprintf(&b, "  primary_key: %s\n", strings.Join(v.PrimaryKey, ", "))
		}
		fmt.Fprintf(&b, "  sql: %q %s\n", v.SQL, pos(v.SQLPos(0)))
	}
	for _, s := range d.Sinks {
		fmt.Fprintf(&b, "sink %s %s from=%s connector=%s\n", s.Name, pos(s.Pos), s.From, s.Connector)
		if len(s.Options) > 0 {
			keys := sorted(mapKeys(s.Options))
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s=%s", k, printValue(s.Options[k]))
			}
			fmt.Fprintf(&b, "  options: %s\n", strings.Join(parts, " "))
		}
	}
	return b.String()
}

// printValue prints an option value with its Go type, so tests pin down
// the plain-Go decoding.
func printValue(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = printValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := sorted(mapKeys(x))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + printValue(x[k])
		}
		return "{" + strings.Join(parts, " ") + "}"
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "nil"
	}
	return fmt.Sprintf("%v(%T)", v, v)
}
