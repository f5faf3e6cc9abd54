package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/plans"
	"github.com/stratadb/strata/udf"
)

// udfSet is a deployment's WebAssembly modules. Planning needs only their
// manifests; the hosts (one per module, each with its own sandbox limits)
// compile and run them once open is called.
type udfSet struct {
	cfg   []config.UDF
	fns   plans.Functions
	owner map[string]string // function -> module

	mu    sync.RWMutex
	hosts map[string]*udf.Host // by module name, after open
}

// readUDFs reads every module's manifest and returns the functions views
// may call, with a problem (file:line:col) for each bad module.
func readUDFs(cfg *config.Deployment) (*udfSet, config.Problems) {
	s := &udfSet{cfg: cfg.UDFs, fns: plans.Functions{}, owner: map[string]string{}, hosts: map[string]*udf.Host{}}
	var problems config.Problems
	for _, u := range cfg.UDFs {
		if u.Path == "" || u.Name == "" {
			continue
		}
		wasm, err := os.ReadFile(u.Path)
		if err != nil {
			continue // config already reported a missing file
		}
		man, err := udf.ReadManifest(wasm)
		if err != nil {
			problems = append(problems, config.Problem{Pos: u.PathPos, Msg: fmt.Sprintf("udf %s: %s: %v", u.Name, filepath.Base(u.Path), err),
				Hint: "build the module with `strata udf build DIR`, which embeds its manifest"})
			continue
		}
		for _, fs := range man.Functions {
			if plans.IsBuiltinFunction(fs.Name) {
				problems = append(problems, config.Problem{Pos: u.NamePos, Msg: fmt.Sprintf("udf %s: function %s has the name of a built-in function", u.Name, fs.Name),
					Hint: "rename it in the module's strata.json and rebuild"})
				continue
			}
			if prev, ok := s.owner[fs.Name]; ok {
				problems = append(problems, config.Problem{Pos: u.NamePos, Msg: fmt.Sprintf("udf %s: function %s is also defined by udf %s", u.Name, fs.Name, prev),
					Hint: "rename one of them"})
				continue
			}
			s.owner[fs.Name] = u.Name
			f := &plans.Function{Name: fs.Name, Kind: plans.FunctionKind(fs.Kind), Deterministic: fs.Deterministic,
				Policy: core.ErrorPolicy(u.OnError), Scalar: &lazyScalar{set: s, name: fs.Name}}
			for _, a := range fs.Args {
				t, _ := udf.ParseType(a)
				f.Args = append(f.Args, t)
			}
			f.Returns, _ = udf.ParseType(fs.Returns)
			s.fns[fs.Name] = f
		}
	}
	return s, problems
}

// open compiles and instantiates every module (compiled code is cached
// under data_dir/udf-cache).
func (s *udfSet) open(ctx context.Context, dataDir string) error {
	var errs []error
	for _, u := range s.cfg {
		if _, ok := s.host(u.Name); ok {
			continue
		}
		h, err := udf.New(ctx, udf.WithCacheDir(filepath.Join(dataDir, "udf-cache")),
			udf.WithMemoryLimit(u.MemoryLimit), udf.WithDeadline(u.Deadline))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: udf %s: %w", u.Pos, u.Name, err))
			continue
		}
		var g udf.Grants
		for _, x := range u.Grants {
			switch x {
			case "clock":
				g.Clock = true
			case "random":
				g.Random = true
			case "stderr":
				g.Stderr = true
			}
		}
		if _, err := h.LoadFile(ctx, u.Name, u.Path, udf.WithGrants(g)); err != nil {
			_ = h.Close(ctx)
			errs = append(errs, fmt.Errorf("%s: %w", u.Pos, err))
			continue
		}
		s.mu.Lock()
		s.hosts[u.Name] = h
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (s *udfSet) host(module string) (*udf.Host, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, ok := s.hosts[module]
	return h, ok
}

// Close closes every host.
func (s *udfSet) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	hosts := s.hosts
	s.hosts = map[string]*udf.Host{}
	s.mu.Unlock()
	var errs []error
	for _, h := range hosts {
		errs = append(errs, h.Close(context.Background()))
	}
	return errors.Join(errs...)
}

// register makes every scalar UDF callable from b's SQL, if b runs SQL.
func (s *udfSet) register(ctx context.Context, b core.Backend) error {
	reg, ok := b.(core.FunctionRegistry)
	if !ok || s == nil {
		return nil
	}
	names := make([]string, 0, len(s.fns))
	for n := range s.fns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := s.fns[n]
		if f.Kind != plans.ScalarFunction {
			continue
		}
		if err := reg.RegisterFunction(ctx, core.FunctionDef{Name: f.Name, Args: f.Args, Returns: f.Returns, Fn: f.Scalar, Policy: f.Policy}); err != nil {
			return fmt.Errorf("udf %s: register in %s: %w", f.Name, b.Name(), err)
		}
	}
	return nil
}

// stats lists every function's counters, for /metrics.
func (s *udfSet) stats() map[string]udf.Stats {
	out := map[string]udf.Stats{}
	if s == nil {
		return out
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, h := range s.hosts {
		for _, f := range h.Functions() {
			out[f.Name] = f.Stats()
		}
	}
	return out
}

// lazyScalar calls a function of whichever host defines it when the call
// happens, so planning needs no compiled module.
type lazyScalar struct {
	set  *udfSet
	name string
}

func (l *lazyScalar) FunctionName() string { return l.name }

func (l *lazyScalar) CallBatch(ctx context.Context, mem memory.Allocator, args []arrow.Array) (arrow.Array, []core.RowError, error) {
	h, ok := l.set.host(l.set.owner[l.name])
	if !ok {
		return nil, nil, fmt.Errorf("udf %s: module %s is not loaded", l.name, l.set.owner[l.name])
	}
	return h.Scalar(l.name).CallBatch(ctx, mem, args)
}
