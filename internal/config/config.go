package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stratadb/strata/engine/core"
)

// Deployment is a checked deployment file. Names of sources, views, sinks,
// UDFs and columns are folded to lower case, as Postgres folds unquoted
// identifiers, so they match the names SQL uses. Paths are absolute.
type Deployment struct {
	// File is the path the deployment was loaded from, as given.
	File string
	// Dir is the absolute directory of File; relative paths in the file
	// (data_dir, udf paths, connector options) are resolved against it.
	Dir string
	// DataDir is the absolute data directory.
	DataDir string
	Server  Server
	Engine  Engine
	UDFs    []UDF
	Sources []Source
	Views   []View
	Sinks   []Sink
}

// Server holds the network endpoints; an empty address is not served.
type Server struct {
	HTTP        string // host:port
	Postgres    string // host:port
	Pos         Pos
	HTTPPos     Pos
	PostgresPos Pos
}

// Engine holds the tuning of the epoch coordinator.
type Engine struct {
	EpochInterval time.Duration
	MaxEpochRows  int
	MaxStateKeys  int // 0: all state in memory
	Pos           Pos
}

// UDF is a WebAssembly module views may call.
type UDF struct {
	Name string
	// Path is the absolute path of the .wasm file.
	Path string
	// OnError is fail, null or dead_letter.
	OnError string
	// MemoryLimit caps each instance's memory, in bytes.
	MemoryLimit int64
	// Deadline bounds one call.
	Deadline time.Duration
	// Grants lists capabilities: clock, random, stderr.
	Grants  []string
	Pos     Pos
	NamePos Pos
	PathPos Pos
}

// Source is one input.
type Source struct {
	Name      string
	Connector string
	// Options are the connector's options as plain Go values: string, int
	// (int64 or uint64 when too large for int), float64, bool, nil, []any,
	// map[string]any. ${VAR} references are expanded.
	Options map[string]any
	// OptionPos is where each option's key is written.
	OptionPos map[string]Pos
	Format    string
	// Schema are the declared columns. A column with an unknown type or a
	// repeated name is reported and left out.
	Schema []core.Column
	// ColumnPos is where each column of Schema is declared.
	ColumnPos []Pos
	// EventTime is nil when the source declares none.
	EventTime *EventTime
	// Kind is KindStream or KindTable.
	Kind string
	// PrimaryKey names the key columns of a table.
	PrimaryKey []string

	Pos           Pos
	NamePos       Pos
	ConnectorPos  Pos
	FormatPos     Pos
	SchemaPos     Pos
	KindPos       Pos
	PrimaryKeyPos Pos
}

// EventTime names a stream's event-time column and its watermark delay.
type EventTime struct {
	Column            string
	WatermarkDelay    time.Duration
	Pos               Pos
	ColumnPos         Pos
	WatermarkDelayPos Pos
}

// View is a SQL view kept up to date.
type View struct {
	Name string
	// SQL is the query text as written; SQLPos maps offsets in it back to
	// the file.
	SQL string
	// Storage names the backends that store the view.
	Storage []string
	// PrimaryKey overrides the key inferred from the query; nil when not
	// given.
	PrimaryKey []string

	Pos           Pos
	NamePos       Pos
	StoragePos    Pos
	PrimaryKeyPos Pos

	sql sqlText
}

// Sink writes the changes of a view to a connector.
type Sink struct {
	Name      string
	From      string
	Connector string
	// Options and OptionPos are as in Source.
	Options   map[string]any
	OptionPos map[string]Pos

	Pos          Pos
	NamePos      Pos
	FromPos      Pos
	ConnectorPos Pos
}

// Load reads and checks the deployment file at path. On success the error
// is nil. When the file has problems, Load returns the Deployment as far as
// it could be built together with a Problems error listing every problem
// found, sorted by position. Any other error (the file cannot be read) comes
// with a nil Deployment.
func Load(path string, opts ...Option) (*Deployment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: reading deployment: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse checks a deployment held in data; file names it in positions and
// locates the directory relative paths are resolved against. Its results
// are those of Load.
func Parse(file string, data []byte, opts ...Option) (*Deployment, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt.apply(&o)
	}
	dir := filepath.Dir(file)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	d := &decoder{file: file, src: data, env: o.env}
	b := &builder{d: d, o: o, dep: &Deployment{File: file, Dir: dir}}
	var top *object
	if root := d.parse(); root != nil {
		switch root = d.resolve(root); {
		case root == nil, isNull(root):
			d.add(Pos{File: file, Line: 1, Col: 1}, "add sources and views; see docs/config.md", "deployment file is empty")
		case root.Kind != yaml.MappingNode:
			d.add(d.pos(root), "start with keys like sources: and views:", "a deployment file is a mapping of keys, got %s", describe(root))
		default:
			top = d.checkObject(spec, root, "")
		}
	}
	b.build(top)
	if len(d.problems) == 0 {
		return b.dep, nil
	}
	d.problems.Sort()
	return b.dep, d.problems
}
