package backends

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
)

// Backend is the storage contract every implementation satisfies. It is an
// alias of core.Backend, which lives in the leaf package so that the engine
// never imports a concrete backend; see there for the full contract.
type Backend = core.Backend

// Config is what Open passes to an implementation.
type Config struct {
	// Dir is the backend's own directory; it is created if missing. Two
	// backends never share a directory.
	Dir string
	// ReadOnly opens existing data for reading only, so that another process
	// (the CLI) can serve queries and lookups while no engine runs. Apply and
	// EnsureView then fail with core.ErrReadOnly.
	ReadOnly bool
	// Alloc allocates the Arrow memory the backend creates. Nil means a Go
	// allocator.
	Alloc memory.Allocator
	// Options holds implementation-specific settings (documented by each
	// implementation). Unknown options are an error.
	Options map[string]any
}

// OpenFunc opens one backend. It is registered under a name with Register.
type OpenFunc func(ctx context.Context, cfg Config) (core.Backend, error)

var registry struct {
	sync.RWMutex
	open map[string]OpenFunc
}

// Register makes a backend available under name. It is called from the init
// function of each implementation and panics if name is empty, open is nil or
// name is already registered: all three are programming errors.
func Register(name string, open OpenFunc) {
	if name == "" || open == nil {
		panic(fmt.Sprintf("backends: Register(%q) with an empty name or a nil OpenFunc", name))
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.open == nil {
		registry.open = make(map[string]OpenFunc)
	}
	if _, dup := registry.open[name]; dup {
		panic(fmt.Sprintf("backends: Register called twice for %q", name))
	}
	registry.open[name] = open
}

// Open opens the backend registered under name. The caller must Close it.
func Open(ctx context.Context, name string, cfg Config) (core.Backend, error) {
	registry.RLock()
	open, ok := registry.open[name]
	registry.RUnlock()
	if !ok {
		known := Names()
		if len(known) == 0 {
			return nil, fmt.Errorf("backends: unknown backend %q (none is registered; import backends/all)", name)
		}
		return nil, fmt.Errorf("backends: unknown backend %q (known: %s)", name, strings.Join(known, ", "))
	}
	b, err := open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("backends: open %s in %s: %w", name, cfg.Dir, err)
	}
	return b, nil
}

// Names returns the registered backend names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.open))
	for n := range registry.open {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
