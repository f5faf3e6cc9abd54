package connect

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// OptionSpec declares one option of a connector, for validation and docs.
type OptionSpec struct {
	Name     string
	Kind     string // string, int, bool, duration, list, map
	Required bool
	Default  any
	Doc      string
}

// SourceConfig is what a source connector is opened with.
type SourceConfig struct {
	// Name is the source's name in the deployment.
	Name string
	// Options are the connector's options from the deployment file.
	Options map[string]any
	// Format names the record format (json); connectors that generate Arrow
	// themselves ignore it.
	Format string
	// Columns is the declared schema.
	Columns []core.Column
	// BaseDir resolves relative paths (the deployment file's directory).
	BaseDir string
	// Alloc allocates every Arrow buffer the source builds.
	Alloc memory.Allocator
	// BatchRows bounds the rows of one emitted batch (default 4096).
	BatchRows int
}

// Source describes a source connector.
type Source struct {
	Name    string
	Doc     string
	Options []OptionSpec
	// Formats lists the record formats the connector accepts; nil means it
	// produces typed rows itself (datagen).
	Formats []string
	Open    func(ctx context.Context, cfg SourceConfig) (core.Source, error)
	// Schema, when set, says the connector's columns follow from its
	// options (a generator with fixed tables, such as nexmark), so a
	// deployment need not declare them. It returns nil columns when the
	// options do not tell yet (a required option is missing) and an error
	// for options that cannot have columns.
	Schema func(options map[string]any) ([]core.Column, error)
}

var registry = struct {
	sync.RWMutex
	sources map[string]Source
}{sources: map[string]Source{}}

// RegisterSource makes a source connector available by name. It is meant to
// be called from init; registering a name twice is a programming error.
func RegisterSource(s Source) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.sources[s.Name]; dup {
		panic(fmt.Sprintf("connect: source connector %q registered twice", s.Name))
	}
	registry.sources[s.Name] = s
}

// LookupSource returns the source connector registered under name.
func LookupSource(name string) (Source, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.sources[name]
	return s, ok
}

// SourceNames lists the registered source connectors, sorted.
func SourceNames() []string {
	registry.RLock()
	defer registry.RUnlock()
	ns := make([]string, 0, len(registry.sources))
	for n := range registry.sources {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// SourceSchema returns the columns the named connector produces with these
// options when it has a fixed schema; ok is false for a connector without
// one (its columns are declared) and for an unknown connector.
func SourceSchema(connector string, options map[string]any) (cols []core.Column, ok bool, err error) {
	c, found := LookupSource(connector)
	if !found || c.Schema == nil {
		return nil, false, nil
	}
	cols, err = c.Schema(options)
	return cols, true, err
}

// OpenSource opens a source with the named connector.
func OpenSource(ctx context.Context, connector string, cfg SourceConfig) (core.Source, error) {
	c, ok := LookupSource(connector)
	if !ok {
		return nil, fmt.Errorf("connect: unknown source connector %q (known: %s)", connector, strings.Join(SourceNames(), ", "))
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 4096
	}
	if cfg.Alloc == nil {
		return nil, fmt.Errorf("connect: source %q: no allocator given", cfg.Name)
	}
	src, err := c.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: source %q (%s): %w", cfg.Name, connector, err)
	}
	return src, nil
}
