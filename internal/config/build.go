package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stratadb/strata/engine/core"
)

// builder turns the checked value tree into a Deployment and checks what
// the spec cannot express: identifiers, namespaces, cross references, types,
// paths, addresses and connector options.
type builder struct {
	d   *decoder
	o   options
	dep *Deployment
	// relations is the namespace sources and views share: lower-cased name
	// to where it is first defined.
	relations map[string]Pos
	sources   map[string]bool
	views     []string
}

func (b *builder) add(p Pos, hint, format string, args ...any) { b.d.add(p, hint, format, args...) }

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ident checks that name is an identifier and returns it folded to lower
// case. what names the thing for messages ("source name").
func (b *builder) ident(name string, p Pos, what string) (string, bool) {
	if identRE.MatchString(name) {
		return strings.ToLower(name), true
	}
	fix := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, name)
	hint := "use letters, digits and _, not starting with a digit"
	if fix != "" && identRE.MatchString(fix) && len(fix) <= 63 {
		hint += fmt.Sprintf(", e.g. %q", strings.ToLower(fix))
	}
	b.add(p, hint, "%s %q is not a valid identifier", what, truncate(name, 60))
	return strings.ToLower(name), false
}

func (b *builder) build(top *object) {
	b.relations = map[string]Pos{}
	b.sources = map[string]bool{}
	dep := b.dep

	dataDir := top.str("data_dir")
	if top != nil && top.get("data_dir") != nil && strings.TrimSpace(dataDir) == "" {
		b.add(top.at("data_dir"), "leave data_dir out to use "+defaultDataDir, "data_dir is empty")
	}
	if strings.TrimSpace(dataDir) == "" { // empty, or the file did not parse
		dataDir = defaultDataDir
	}
	dep.DataDir = b.path(dataDir)

	srv := top.obj("server")
	dep.Server = Server{
		HTTP: srv.str("http"), Postgres: srv.str("postgres"),
		Pos: top.at("server"), HTTPPos: srv.at("http"), PostgresPos: srv.at("postgres"),
	}
	b.hostPort(dep.Server.HTTP, dep.Server.HTTPPos, "server: http", "127.0.0.1:7070")
	b.hostPort(dep.Server.Postgres, dep.Server.PostgresPos, "server: postgres", "127.0.0.1:6875")
	if dep.Server.HTTP != "" && dep.Server.HTTP == dep.Server.Postgres {
		b.add(dep.Server.PostgresPos, "give each endpoint its own port", "server: http and postgres both listen on %s", dep.Server.HTTP)
	}

	b.engine(top.obj("engine"))
	if top != nil {
		dep.Engine.Pos = top.at("engine")
	}
	for _, u := range top.objs("udfs") {
		b.udf(u)
	}
	for _, s := range top.objs("sources") {
		b.source(s)
	}
	for _, v := range top.objs("views") {
		b.view(v)
	}
	for _, s := range top.objs("sinks") {
		b.sink(s)
	}
}

// path resolves p against the deployment's directory.
func (b *builder) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(b.dep.Dir, p)
}

func (b *builder) hostPort(addr string, p Pos, what, example string) {
	if addr == "" {
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		b.add(p, "write host:port, e.g. "+example, "%s: invalid address %q", what, truncate(addr, 60))
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		b.add(p, "the port is a number from 0 to 65535, e.g. "+example, "%s: invalid port %q", what, truncate(port, 20))
	}
}

func (b *builder) engine(e *object) {
	eng := &b.dep.Engine
	eng.EpochInterval, eng.MaxEpochRows = defaultEpochTick, defaultEpochRows
	if v := e.get("epoch_interval"); v != nil {
		if v.d <= 0 {
			b.add(v.pos, "use a positive duration like 1s or 200ms", "engine: epoch_interval must be positive")
		} else {
			eng.EpochInterval = v.d
		}
	}
	if v := e.get("max_epoch_rows"); v != nil {
		if v.i <= 0 {
			b.add(v.pos, fmt.Sprintf("use a positive number; the default is %d", defaultEpochRows), "engine: max_epoch_rows must be positive, got %d", v.i)
		} else {
			eng.MaxEpochRows = v.i
		}
	}
	if v := e.get("max_state_keys"); v != nil {
		if v.i < 0 {
			b.add(v.pos, "use 0 (all in memory) or a positive number", "engine: max_state_keys cannot be negative, got %d", v.i)
		} else {
			eng.MaxStateKeys = v.i
		}
	}
}

func (b *builder) udf(o *object) {
	u := UDF{Pos: o.pos, NamePos: o.at("name"), PathPos: o.at("path")}
	if o.get("name") != nil {
		u.Name, _ = b.ident(o.str("name"), u.NamePos, "udf name")
	}
	for _, prev := range b.dep.UDFs {
		if prev.Name == u.Name && u.Name != "" {
			b.add(u.NamePos, fmt.Sprintf("rename one; the first is at line %d", prev.NamePos.Line), "udf %q is defined twice", u.Name)
		}
	}
	if raw := o.str("path"); raw != "" {
		u.Path = b.path(raw)
		switch st, err := os.Stat(u.Path); {
		case err != nil:
			b.add(u.PathPos, "looked for "+u.Path+"; relative paths start at the deployment file's directory",
				"%s: module %s does not exist", o.label, raw)
		case st.IsDir():
			b.add(u.PathPos, "name the .wasm file, not its directory", "%s: %s is a directory", o.label, raw)
		}
	}
	u.OnError = o.str("on_error")
	if _, given := o.keyPos["on_error"]; given && o.vals["on_error"] == nil {
		u.OnError = "null" // on_error: null, which YAML reads as no value
	}
	u.MemoryLimit, u.Deadline = defaultUDFMemory, defaultUDFDeadline
	if v := o.get("memory_limit"); v != nil {
		if v.i < 1<<16 || v.i > 4<<30 {
			b.add(v.pos, "use a size between 65536 (64 KiB) and 4294967296 (4 GiB); the default is 67108864 (64 MiB)", "%s: memory_limit %d is out of range", o.label, v.i)
		} else {
			u.MemoryLimit = int64(v.i)
		}
	}
	if v := o.get("deadline"); v != nil {
		if v.d <= 0 {
			b.add(v.pos, "use a positive duration like 1s or 200ms", "%s: deadline must be positive", o.label)
		} else {
			u.Deadline = v.d
		}
	}
	grants, gpos := o.strs("grants")
	for i, g := range grants {
		switch g {
		case "clock", "random", "stderr":
			u.Grants = append(u.Grants, g)
		default:
			b.add(gpos[i], suggest(g, []string{"clock", "random", "stderr"}, "grants"), "%s: unknown grant %q (grants: clock, random, stderr)", o.label, g)
		}
	}
	b.dep.UDFs = append(b.dep.UDFs, u)
}

// relation defines a source or view name in the shared namespace.
func (b *builder) relation(o *object, what string) string {
	if o.get("name") == nil {
		return ""
	}
	p := o.at("name")
	name, ok := b.ident(o.str("name"), p, what+" name")
	if !ok {
		return name
	}
	if name == reservedDeadLetters {
		b.add(p, "pick another name", "%s name %q is reserved for the dead-letter view", what, name)
		return name
	}
	if prev, dup := b.relations[name]; dup {
		b.add(p, fmt.Sprintf("rename one; sources and views share one namespace, and %q is first defined at line %d", name, prev.Line),
			"duplicate %s name %q", what, name)
		return name
	}
	b.relations[name] = p
	return name
}

func (b *builder) source(o *object) {
	s := Source{
		Pos: o.pos, NamePos: o.at("name"), ConnectorPos: o.at("connector"), FormatPos: o.at("format"),
		SchemaPos: o.at("schema"), KindPos: o.at("kind"), PrimaryKeyPos: o.at("primary_key"),
		Connector: o.str("connector"), Format: o.str("format"), Kind: o.str("kind"),
	}
	s.Name = b.relation(o, "source")
	if s.Name != "" {
		b.sources[s.Name] = true
	}
	label := o.label
	if s.Format != "" && !contains(b.o.formats, strings.ToLower(s.Format)) {
		b.add(s.FormatPos, suggest(s.Format, b.o.formats, "known formats"), "%s: unknown format %q", label, s.Format)
	}
	s.Format = strings.ToLower(s.Format)
	s.Options, s.OptionPos = b.connector("source", o, label, s.Connector)

	cols := map[string]Pos{}
	var colNames []string
	known := true // every column has a valid name: references can be checked
	for _, c := range o.objs("schema") {
		if c.get("name") == nil {
			known = false
			continue
		}
		name, ok := b.ident(c.str("name"), c.at("name"), label+": column name")
		if !ok {
			known = false
			continue
		}
		if prev, dup := cols[name]; dup {
			b.add(c.at("name"), fmt.Sprintf("rename or remove one; the first is at line %d", prev.Line), "%s: duplicate column %q", label, name)
			continue
		}
		cols[name] = c.at("name")
		colNames = append(colNames, name)
		if c.get("type") == nil {
			continue
		}
		typ, err := core.ParseType(c.str("type"))
		if err != nil {
			hint := "known types: " + strings.Join(core.TypeNames(), ", ")
			if best, ok := closest(c.str("type"), core.TypeNames()); ok {
				hint = fmt.Sprintf("did you mean %q? %s", best, hint)
			}
			b.add(c.at("type"), hint, "%s: column %s has unknown type %q", label, name, c.str("type"))
			continue
		}
		s.Schema = append(s.Schema, core.Column{Name: name, Type: typ})
		s.ColumnPos = append(s.ColumnPos, c.pos)
	}
	declared := o.get("schema") != nil && len(o.get("schema").list) > 0
	if !declared && b.o.schemas != nil && s.Connector != "" {
		// A connector with fixed tables gives the columns itself.
		fixed, ok, err := b.o.schemas(s.Connector, s.Options)
		declared = ok
		switch {
		case err != nil:
			at := o.at("options")
			if o.get("options") == nil {
				at = s.Pos
			}
			b.add(at, "or declare the columns: schema: [{name: id, type: bigint}, ...]", "%s: %v", label, err)
		case ok:
			for _, c := range fixed {
				cols[c.Name] = s.Pos
				colNames = append(colNames, c.Name)
				s.Schema = append(s.Schema, c)
				s.ColumnPos = append(s.ColumnPos, s.Pos)
			}
		}
	}
	if !declared && (s.Format == "json" || s.Format == "csv") {
		b.add(s.SchemaPos, "declare the columns: schema: [{name: id, type: bigint}, ...]", "%s: the %s format needs a schema", label, s.Format)
	}

	if et := o.obj("event_time"); et != nil {
		e := &EventTime{Pos: o.at("event_time"), ColumnPos: et.at("column"), WatermarkDelayPos: et.at("watermark_delay")}
		if et.get("column") != nil {
			e.Column, _ = b.ident(et.str("column"), e.ColumnPos, label+": event_time column")
			if _, ok := cols[e.Column]; !ok && known {
				b.add(e.ColumnPos, suggest(e.Column, colNames, "schema columns"), "%s: event_time column %q is not in the schema", label, e.Column)
			}
		}
		if v := et.get("watermark_delay"); v != nil {
			e.WatermarkDelay = v.d
		}
		s.EventTime = e
	}

	pk, pkPos := o.strs("primary_key")
	s.PrimaryKey = b.keyColumns(pk, pkPos, s.PrimaryKeyPos, label, cols, colNames, known)
	switch {
	case s.Kind == KindTable && len(s.PrimaryKey) == 0 && o.get("primary_key") == nil:
		b.add(s.KindPos, "add primary_key: [col, ...] naming the key columns", "%s: a table source needs a primary_key", label)
	case s.Kind == KindStream && o.get("primary_key") != nil:
		b.add(s.PrimaryKeyPos, "set kind: table for keyed rows, or remove primary_key", "%s: primary_key applies only to table sources", label)
	}
	b.dep.Sources = append(b.dep.Sources, s)
}

// keyColumns checks a primary key: identifiers, no repeats, and, when cols
// is given, each a column of the schema.
func (b *builder) keyColumns(pk []string, pos []Pos, at Pos, label string, cols map[string]Pos, colNames []string, checkCols bool) []string {
	if pk == nil {
		return nil
	}
	out := make([]string, 0, len(pk))
	seen := map[string]bool{}
	for i, k := range pk {
		name, ok := b.ident(k, pos[i], label+": primary_key column")
		if !ok {
			continue
		}
		if seen[name] {
			b.add(pos[i], "list each key column once", "%s: primary_key names %q twice", label, name)
			continue
		}
		seen[name] = true
		if cols != nil && checkCols {
			if _, ok := cols[name]; !ok {
				b.add(pos[i], suggest(name, colNames, "schema columns"), "%s: primary_key column %q is not in the schema", label, name)
			}
		}
		out = append(out, name)
	}
	if len(pk) == 0 {
		b.add(at, "name at least one column", "%s: primary_key is empty", label)
	}
	return out
}

func (b *builder) view(o *object) {
	v := View{Pos: o.pos, NamePos: o.at("name"), StoragePos: o.at("storage"), PrimaryKeyPos: o.at("primary_key")}
	v.Name = b.relation(o, "view")
	if v.Name != "" {
		b.views = append(b.views, v.Name)
	}
	label := o.label
	if sv := o.get("sql"); sv != nil {
		v.SQL = sv.s
		v.sql = b.sqlText(sv)
		if strings.TrimSpace(v.SQL) == "" {
			b.add(sv.pos, "write the query, e.g. sql: SELECT ... FROM source", "%s: sql is empty", label)
		}
	}
	storage, spos := o.strs("storage")
	seen := map[string]bool{}
	for i, s := range storage {
		if spos == nil { // the default
			v.Storage = append(v.Storage, s)
			continue
		}
		ls := strings.ToLower(s)
		switch {
		case !contains(b.o.storages, ls):
			b.add(spos[i], suggest(s, b.o.storages, "known storages"), "%s: unknown storage %q", label, s)
		case seen[ls]:
			b.add(spos[i], "list each storage once", "%s: storage %q is listed twice", label, ls)
		default:
			seen[ls] = true
			v.Storage = append(v.Storage, ls)
		}
	}
	if sv := o.get("storage"); sv != nil && sv.node.Kind == yaml.SequenceNode && len(sv.node.Content) == 0 {
		b.add(v.StoragePos, "name at least one: storage: [duckdb]", "%s: storage is empty", label)
	}
	if v.Storage == nil {
		v.Storage = []string{}
	}
	pk, pkPos := o.strs("primary_key")
	if pk != nil && len(pk) == 0 {
		b.add(v.PrimaryKeyPos, "name the key columns, or leave primary_key out to infer it", "%s: primary_key is empty", label)
	} else {
		v.PrimaryKey = b.keyColumns(pk, pkPos, v.PrimaryKeyPos, label, nil, nil, false)
	}
	b.dep.Views = append(b.dep.Views, v)
}

func (b *builder) sink(o *object) {
	s := Sink{Pos: o.pos, NamePos: o.at("name"), FromPos: o.at("from"), ConnectorPos: o.at("connector"), Connector: o.str("connector")}
	label := o.label
	if o.get("name") != nil {
		s.Name, _ = b.ident(o.str("name"), s.NamePos, "sink name")
		for _, prev := range b.dep.Sinks {
			if prev.Name == s.Name {
				b.add(s.NamePos, fmt.Sprintf("rename one; the first is at line %d", prev.NamePos.Line), "duplicate sink name %q", s.Name)
			}
		}
	}
	if o.get("from") != nil {
		from, ok := b.ident(o.str("from"), s.FromPos, label+": from")
		s.From = from
		switch {
		case !ok, from == reservedDeadLetters || contains(b.views, from):
		case b.sources[from]:
			b.add(s.FromPos, fmt.Sprintf("add a view, e.g. sql: SELECT * FROM %s, and write that", from), "%s: from names source %q, but sinks write views", label, from)
		default:
			b.add(s.FromPos, suggest(from, b.views, "views"), "%s: from names %q, which is not a view", label, from)
		}
	}
	s.Options, s.OptionPos = b.connector("sink", o, label, s.Connector)
	b.dep.Sinks = append(b.dep.Sinks, s)
}

// connector checks a connector name and its options against the lookup
// given with WithConnectors, and returns the options.
func (b *builder) connector(kind string, o *object, label, name string) (map[string]any, map[string]Pos) {
	opts, keyPos, valPos := map[string]any{}, map[string]Pos{}, map[string]Pos{}
	if v := o.get("options"); v != nil {
		opts, keyPos, valPos = v.m, v.mpos, v.vpos
	}
	if b.o.connectors == nil || name == "" {
		return opts, keyPos
	}
	specs, ok := b.o.connectors(kind, name)
	if !ok {
		known := b.o.connectorNames[kind]
		hint := "check the spelling; the connectors built into this binary are in docs/config.md"
		if known != nil {
			hint = suggest(name, known, "known "+kind+" connectors")
		}
		b.add(o.at("connector"), hint, "%s: unknown %s connector %q", label, kind, name)
		return opts, keyPos
	}
	names := make([]string, len(specs))
	byName := map[string]OptionSpec{}
	for i, sp := range specs {
		names[i] = sp.Name
		byName[sp.Name] = sp
	}
	for _, k := range sorted(mapKeys(opts)) {
		sp, ok := byName[k]
		if !ok {
			b.add(keyPos[k], suggest(k, names, name+" options"), "%s: unknown %s option %q", label, name, truncate(k, 60))
			continue
		}
		if msg, hint := checkOptionKind(sp, opts[k]); msg != "" {
			b.add(valPos[k], hint, "%s: option %s %s", label, k, msg)
		}
	}
	for _, sp := range specs {
		if _, set := opts[sp.Name]; !sp.Required || set && opts[sp.Name] != nil {
			continue
		}
		where := o.at("options")
		if _, set := opts[sp.Name]; set {
			where = keyPos[sp.Name]
		}
		what := sp.Doc
		if what == "" {
			what = sp.Kind
		}
		hint := fmt.Sprintf("add %s: <%s> under options", sp.Name, what)
		b.add(where, hint, "%s: %s connector needs option %q", label, name, sp.Name)
	}
	return opts, keyPos
}

func mapKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// checkOptionKind checks an option value against its declared kind. It
// returns an empty message when the value fits.
func checkOptionKind(sp OptionSpec, v any) (msg, hint string) {
	if v == nil {
		return "", ""
	}
	got := func() string {
		switch x := v.(type) {
		case string:
			return strconv.Quote(truncate(x, 40))
		case []any:
			return "a list"
		case map[string]any:
			return "a mapping"
		}
		return fmt.Sprint(v)
	}
	switch sp.Kind {
	case "string":
		if _, ok := v.(string); !ok {
			return "must be a string, got " + got(), "quote it: \"...\""
		}
	case "int":
		switch v.(type) {
		case int, int64, uint64:
		default:
			return "must be an integer, got " + got(), "write a whole number like 100"
		}
	case "bool":
		if _, ok := v.(bool); !ok {
			return "must be true or false, got " + got(), "write true or false"
		}
	case "duration":
		s, ok := v.(string)
		if !ok {
			return "must be a duration, got " + got(), "write a number with a unit: 500ms, 5s, 1m"
		}
		if _, err := time.ParseDuration(s); err != nil {
			return "is not a duration: " + strconv.Quote(truncate(s, 40)), "write a number with a unit: 500ms, 5s, 1m"
		}
	case "list":
		switch v.(type) {
		case []any, string:
		default:
			return "must be a list, got " + got(), "write [a, b]"
		}
	case "map":
		if _, ok := v.(map[string]any); !ok {
			return "must be a mapping, got " + got(), "write {key: value}"
		}
	}
	return "", ""
}
