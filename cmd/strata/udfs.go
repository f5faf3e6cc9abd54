package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

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
	cfg     []config.UDF
	dataDir string
	fns     plans.Functions
	owner   map[string]udfRef // "module.function" -> where it lives

	mu       sync.RWMutex
	hosts    map[string]*udf.Host // by module name, after open
	versions map[string]string    // module -> version serving (hash of its bytes)
	pending  map[string]*staged   // module -> a checked new build, swapped in before the next epoch
	refused  map[string]string    // module -> version -> why the last new build was refused
	swapped  map[string]int       // module -> how many builds were swapped in
}

// staged is a new build of a module, compiled and checked, waiting for
// the next epoch.
type staged struct {
	host    *udf.Host
	version string
}

// readUDFs reads every module's manifest and returns the functions views
// may call, with a problem (file:line:col) for each bad module.
func readUDFs(cfg *config.Deployment) (*udfSet, config.Problems) {
	s := &udfSet{cfg: cfg.UDFs, fns: plans.Functions{}, owner: map[string]udfRef{}, hosts: map[string]*udf.Host{},
		versions: map[string]string{}, pending: map[string]*staged{}, refused: map[string]string{}, swapped: map[string]int{}}
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
			hint := "build the module with `strata udf build DIR`, which embeds its manifest"
			if strings.Contains(err.Error(), "strata udf build") {
				hint = "" // the error says it already
			}
			problems = append(problems, config.Problem{Pos: u.PathPos, Msg: fmt.Sprintf("udf %s: %s: %v", u.Name, filepath.Base(u.Path), err), Hint: hint})
			continue
		}
		for _, fs := range man.Functions {
			if plans.IsBuiltinFunction(fs.Name) {
				problems = append(problems, config.Problem{Pos: u.NamePos, Msg: fmt.Sprintf("udf %s: function %s has the name of a built-in function", u.Name, fs.Name),
					Hint: "rename it in the module's strata.json and rebuild"})
				continue
			}
			ref := udfRef{module: u.Name, fn: fs.Name}
			s.owner[ref.qualified()] = ref
			lazy := &lazyScalar{set: s, ref: ref}
			f := &plans.Function{Name: ref.qualified(), Kind: plans.FunctionKind(fs.Kind), Deterministic: fs.Deterministic,
				Policy: core.ErrorPolicy(u.OnError), Scalar: lazy, Table: lazy, Aggregate: lazy}
			for _, a := range fs.Args {
				t, _ := udf.ParseType(a)
				f.Args = append(f.Args, t)
			}
			f.Returns, _ = udf.ParseType(fs.Returns)
			s.fns[ref.qualified()] = f
			// Unqualified too, unless another module defines the name.
			if prev, ok := s.fns[fs.Name]; ok {
				amb := &plans.Function{Name: fs.Name, Ambiguous: append(prev.Ambiguous, ref.qualified())}
				if len(prev.Ambiguous) == 0 {
					amb.Ambiguous = []string{prev.Scalar.(*lazyScalar).ref.qualified(), ref.qualified()}
				}
				s.fns[fs.Name] = amb
				continue
			}
			g := *f
			g.Name = fs.Name
			s.fns[fs.Name] = &g
		}
	}
	return s, problems
}

// open compiles and instantiates every module (compiled code is cached
// under data_dir/udf-cache).
func (s *udfSet) open(ctx context.Context, dataDir string) error {
	s.dataDir = dataDir
	var errs []error
	for _, u := range s.cfg {
		if _, ok := s.host(u.Name); ok {
			continue
		}
		wasm, err := os.ReadFile(u.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: udf %s: %w", u.Pos, u.Name, err))
			continue
		}
		h, err := s.compile(ctx, u, wasm)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", u.Pos, err))
			continue
		}
		s.mu.Lock()
		s.hosts[u.Name] = h
		s.versions[u.Name] = moduleVersion(wasm)
		s.mu.Unlock()
	}
	return errors.Join(errs...)
}

// compile makes a host running one build of module u.
func (s *udfSet) compile(ctx context.Context, u config.UDF, wasm []byte) (*udf.Host, error) {
	h, err := udf.New(ctx, udf.WithCacheDir(filepath.Join(s.dataDir, "udf-cache")),
		udf.WithMemoryLimit(u.MemoryLimit), udf.WithDeadline(u.Deadline))
	if err != nil {
		return nil, fmt.Errorf("udf %s: %w", u.Name, err)
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
	if _, err := h.Load(ctx, u.Name, u.Path, wasm, udf.WithGrants(g)); err != nil {
		_ = h.Close(ctx)
		return nil, err
	}
	return h, nil
}

// moduleVersion names a build of a module: a hash of its bytes.
func moduleVersion(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:6])
}

// compatible reports why a new build cannot replace module u's current
// one: every function the deployment knows from it must keep its kind and
// signature, since planned views call them.
func (s *udfSet) compatible(u config.UDF, h *udf.Host) error {
	var errs []error
	for q, ref := range s.owner {
		if ref.module != u.Name {
			continue
		}
		old, name := s.fns[q], ref.fn
		f, ok := h.Lookup(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("function %s is gone", name))
		case string(f.Kind) != string(old.Kind) || !sameTypes(f.Args, old.Args) || f.Returns.Name != old.Returns.Name:
			ts := make([]string, len(f.Args))
			for i, a := range f.Args {
				ts[i] = a.Name
			}
			errs = append(errs, fmt.Errorf("function %s changed from %s %s to %s %s(%s) -> %s", name, old.Kind, old.Signature(), f.Kind, name, strings.Join(ts, ", "), f.Returns.Name))
		case f.Deterministic != old.Deterministic:
			errs = append(errs, fmt.Errorf("function %s changed its determinism", name))
		}
	}
	return errors.Join(errs...)
}

func sameTypes(a, b []core.Type) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// watch polls the modules' files and stages each new build that compiles
// and is compatible; a bad build is refused, logged, and the old one keeps
// serving. It returns when ctx is done.
func (s *udfSet) watch(ctx context.Context, log *slog.Logger, every time.Duration) {
	type seen struct {
		mod  time.Time
		size int64
	}
	last := map[string]seen{}
	for _, u := range s.cfg {
		if st, err := os.Stat(u.Path); err == nil {
			last[u.Name] = seen{st.ModTime(), st.Size()}
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, u := range s.cfg {
			st, err := os.Stat(u.Path)
			if err != nil || (seen{st.ModTime(), st.Size()}) == last[u.Name] {
				continue
			}
			last[u.Name] = seen{st.ModTime(), st.Size()}
			s.consider(ctx, log, u)
		}
	}
}

// consider checks a new build of module u and stages or refuses it.
func (s *udfSet) consider(ctx context.Context, log *slog.Logger, u config.UDF) {
	wasm, err := os.ReadFile(u.Path)
	if err != nil {
		return
	}
	v := moduleVersion(wasm)
	s.mu.RLock()
	cur, p := s.versions[u.Name], s.pending[u.Name]
	s.mu.RUnlock()
	if v == cur || p != nil && p.version == v {
		return
	}
	h, err := s.compile(ctx, u, wasm)
	if err == nil {
		if err = s.compatible(u, h); err != nil {
			_ = h.Close(ctx)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.refused[u.Name] = v + ": " + err.Error()
		log.Warn("new build of a udf module refused; the old one keeps serving", "udf", u.Name, "version", v, "serving", cur, "reason", err)
		return
	}
	if old := s.pending[u.Name]; old != nil {
		_ = old.host.Close(ctx)
	}
	s.pending[u.Name] = &staged{host: h, version: v}
	delete(s.refused, u.Name)
	log.Info("new build of a udf module staged for the next epoch", "udf", u.Name, "version", v, "serving", cur)
}

// swap puts the staged builds in service; the engine calls it between
// epochs (engine.WithBeforeEpoch). It returns the versions serving, for
// the epoch log. Old hosts close after a grace period, since ad-hoc
// queries may still be calling them.
func (s *udfSet) swap() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, p := range s.pending {
		old := s.hosts[name]
		s.hosts[name], s.versions[name] = p.host, p.version
		s.swapped[name]++
		delete(s.pending, name)
		if old != nil {
			time.AfterFunc(10*time.Second, func() { _ = old.Close(context.Background()) })
		}
	}
	names := make([]string, 0, len(s.versions))
	for n := range s.versions {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("udf:" + n + "=" + s.versions[n])
	}
	return b.String()
}

// udfStatus is one module's state, as GET /v1/udfs reports it.
type udfStatus struct {
	Name      string   `json:"name"`
	Path      string   `json:"path"`
	Version   string   `json:"version"`
	Pending   string   `json:"pending,omitempty"`
	Refused   string   `json:"refused,omitempty"`
	Swaps     int      `json:"swaps"`
	Functions []string `json:"functions"`
}

func (s *udfSet) status() []udfStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []udfStatus{}
	for _, u := range s.cfg {
		st := udfStatus{Name: u.Name, Path: u.Path, Version: s.versions[u.Name], Refused: s.refused[u.Name], Swaps: s.swapped[u.Name], Functions: []string{}}
		if p := s.pending[u.Name]; p != nil {
			st.Pending = p.version
		}
		for q, ref := range s.owner {
			if ref.module == u.Name {
				st.Functions = append(st.Functions, s.fns[q].Signature())
			}
		}
		sort.Strings(st.Functions)
		out = append(out, st)
	}
	return out
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
	for _, p := range s.pending {
		hosts["pending "+p.version] = p.host
	}
	s.pending = map[string]*staged{}
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
		// DuckDB reads a.b(x) as a schema-qualified name: register each
		// function by its bare name, where that name is not ambiguous.
		if f.Kind != plans.ScalarFunction || strings.Contains(n, ".") {
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
	for module, h := range s.hosts {
		for _, f := range h.Functions() {
			out[module+"."+f.Name] = f.Stats()
		}
	}
	return out
}

// udfRef names a function of a module.
type udfRef struct{ module, fn string }

func (r udfRef) qualified() string { return r.module + "." + r.fn }

// lazyScalar calls a function of whichever host runs its module when the
// call happens, so planning needs no compiled module and a swapped build
// serves the next call.
type lazyScalar struct {
	set *udfSet
	ref udfRef
}

func (l *lazyScalar) FunctionName() string { return l.ref.fn }

func (l *lazyScalar) host() (*udf.Host, error) {
	h, ok := l.set.host(l.ref.module)
	if !ok {
		return nil, fmt.Errorf("udf %s: module %s is not loaded", l.ref.fn, l.ref.module)
	}
	return h, nil
}

func (l *lazyScalar) CallBatch(ctx context.Context, mem memory.Allocator, args []arrow.Array) (arrow.Array, []core.RowError, error) {
	h, err := l.host()
	if err != nil {
		return nil, nil, err
	}
	return h.Scalar(l.ref.fn).CallBatch(ctx, mem, args)
}

func (l *lazyScalar) CallTable(ctx context.Context, mem memory.Allocator, args []arrow.Array) (arrow.Array, []int32, []core.RowError, error) {
	h, err := l.host()
	if err != nil {
		return nil, nil, nil, err
	}
	return h.Table(l.ref.fn).CallTable(ctx, mem, args)
}

func (l *lazyScalar) Fold(ctx context.Context, mem memory.Allocator, states arrow.Array, groups []int32, args []arrow.Array, retract bool) (arrow.Array, []core.RowError, error) {
	h, err := l.host()
	if err != nil {
		return nil, nil, err
	}
	return h.Aggregate(l.ref.fn).Fold(ctx, mem, states, groups, args, retract)
}

func (l *lazyScalar) Finish(ctx context.Context, mem memory.Allocator, states arrow.Array) (arrow.Array, []core.RowError, error) {
	h, err := l.host()
	if err != nil {
		return nil, nil, err
	}
	return h.Aggregate(l.ref.fn).Finish(ctx, mem, states)
}
