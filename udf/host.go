package udf

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/stratadb/strata/engine/core"
)

// Defaults of the sandbox.
const (
	DefaultMemoryLimit = 64 << 20
	DefaultDeadline    = time.Second
)

// Option configures a Host.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	cacheDir    string
	memoryLimit int64
	deadline    time.Duration
	maxIdle     int
	interrupt   bool
}

func defaultConfig() config {
	return config{memoryLimit: DefaultMemoryLimit, deadline: DefaultDeadline, maxIdle: runtime.GOMAXPROCS(0), interrupt: true}
}

func (c *config) validate() error {
	var errs []error
	if c.memoryLimit < 1<<16 || c.memoryLimit > 4<<30 {
		errs = append(errs, fmt.Errorf("udf: memory limit %d must be between 64 KiB and 4 GiB", c.memoryLimit))
	}
	if c.deadline <= 0 {
		errs = append(errs, fmt.Errorf("udf: deadline %s must be positive", c.deadline))
	}
	if c.maxIdle < 1 {
		errs = append(errs, fmt.Errorf("udf: max idle instances %d must be at least 1", c.maxIdle))
	}
	return errors.Join(errs...)
}

// WithCacheDir keeps compiled machine code in dir (conventionally
// data_dir/udf-cache), so a module compiles once per host binary version.
func WithCacheDir(dir string) Option { return optionFunc(func(c *config) { c.cacheDir = dir }) }

// WithMemoryLimit caps each instance's linear memory (default 64 MiB),
// rounded down to whole 64 KiB pages.
func WithMemoryLimit(bytes int64) Option {
	return optionFunc(func(c *config) { c.memoryLimit = bytes })
}

// WithDeadline bounds every call (default 1s).
func WithDeadline(d time.Duration) Option { return optionFunc(func(c *config) { c.deadline = d }) }

// WithMaxIdle is how many idle instances each module keeps (default
// GOMAXPROCS); more may exist while calls run.
func WithMaxIdle(n int) Option { return optionFunc(func(c *config) { c.maxIdle = n }) }

// WithInterruptChecks turns the loop checks that make deadlines enforceable
// on or off (default on). Off, a runaway loop cannot be stopped: for
// benchmarks that measure what the checks cost.
func WithInterruptChecks(on bool) Option { return optionFunc(func(c *config) { c.interrupt = on }) }

// Grants are the capabilities a module gets beyond pure computation. The
// zero value grants nothing: no filesystem or network ever (ABI v1 has no
// way to grant them), a clock frozen at the Unix epoch, and a random source
// that always yields the same bytes.
type Grants struct {
	Clock  bool // real wall and monotonic clocks
	Random bool // crypto/rand
	Stderr bool // the guest's stderr goes to the host's stderr (always captured for errors)
}

// LoadOption configures one module.
type LoadOption interface{ applyLoad(*loadConfig) }

type loadOptionFunc func(*loadConfig)

func (f loadOptionFunc) applyLoad(c *loadConfig) { f(c) }

type loadConfig struct{ grants Grants }

// WithGrants grants a module capabilities.
func WithGrants(g Grants) LoadOption { return loadOptionFunc(func(c *loadConfig) { c.grants = g }) }

// Host runs WebAssembly UDFs. It is also the registry of the functions of
// every module it loaded, by name. A Host is safe for concurrent use.
type Host struct {
	cfg     config
	rt      wazero.Runtime
	cache   wazero.CompilationCache
	wasiMu  sync.Mutex
	wasiOn  bool
	mu      sync.RWMutex
	funcs   map[string]*Function
	modules []*Module
	closed  bool
	wd      *watchdog // nil when interrupt checks are off
}

// New creates a host. Close releases it.
func New(ctx context.Context, opts ...Option) (*Host, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(uint32(cfg.memoryLimit >> 16)).
		WithCloseOnContextDone(false). // deadlines: instrumented loops and a watchdog (watchdog.go)
		WithCustomSections(false).
		WithDebugInfoEnabled(false)
	h := &Host{cfg: cfg, funcs: map[string]*Function{}}
	if cfg.cacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.cacheDir)
		if err != nil {
			return nil, fmt.Errorf("udf: compilation cache %s: %w", cfg.cacheDir, err)
		}
		h.cache = c
		rc = rc.WithCompilationCache(c)
	}
	h.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if cfg.interrupt {
		h.wd = newWatchdog(cfg.deadline)
	}
	return h, nil
}

// Close closes every module and the runtime. It is idempotent.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	mods := h.modules
	h.modules, h.funcs = nil, nil
	h.mu.Unlock()
	for _, m := range mods {
		m.closeInstances(ctx)
	}
	err := h.rt.Close(ctx)
	if h.wd != nil {
		h.wd.close()
	}
	if h.cache != nil {
		err = errors.Join(err, h.cache.Close(ctx))
	}
	return err
}

// Lookup returns a loaded function by name.
func (h *Host) Lookup(name string) (*Function, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	f, ok := h.funcs[name]
	return f, ok
}

// Functions lists every loaded function, sorted by name.
func (h *Host) Functions() []*Function {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Function, 0, len(h.funcs))
	for _, f := range h.funcs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Call runs the scalar function fn over one batch; see Function.Call.
func (h *Host) Call(ctx context.Context, fn string, args []arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	f, ok := h.Lookup(fn)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownFunction, fn)
	}
	return f.Call(ctx, args, mem)
}

// LoadFile reads, checks and compiles the module at path and registers its
// functions. name is the module's name in the deployment (for errors).
func (h *Host) LoadFile(ctx context.Context, name, path string, opts ...LoadOption) (*Module, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("udf: module %s: %w", name, err)
	}
	return h.Load(ctx, name, path, wasm, opts...)
}

// Load checks and compiles a module from its bytes and registers its
// functions; path names it in errors. Errors name the module and say what
// to fix.
func (h *Host) Load(ctx context.Context, name, path string, wasm []byte, opts ...LoadOption) (*Module, error) {
	var lc loadConfig
	for _, o := range opts {
		o.applyLoad(&lc)
	}
	fail := func(err error) error { return fmt.Errorf("udf: module %s (%s): %w", name, path, err) }
	man, err := ReadManifest(wasm)
	if err != nil {
		return nil, fail(err)
	}
	if h.wd != nil {
		if wasm, _, err = instrumentInterrupts(wasm); err != nil {
			return nil, fail(fmt.Errorf("cannot add interrupt checks to its loops (needed to enforce the deadline): %w", err))
		}
	}
	cm, err := h.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fail(fmt.Errorf("does not compile: %w", err))
	}
	m := &Module{Name: name, Path: path, Manifest: man, host: h, compiled: cm, grants: lc.grants}
	if err := m.check(); err != nil {
		_ = cm.Close(ctx)
		return nil, fail(err)
	}
	if m.usesWASI {
		if err := h.ensureWASI(ctx); err != nil {
			_ = cm.Close(ctx)
			return nil, fail(err)
		}
	}
	// Instantiate once now: a module that cannot start is refused at load.
	inst, err := m.newInstance(ctx)
	if err != nil {
		_ = cm.Close(ctx)
		return nil, fail(err)
	}
	m.put(ctx, inst)

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		m.closeInstances(ctx)
		return nil, ErrClosed
	}
	var errs []error
	for _, fs := range man.Functions {
		if prev, ok := h.funcs[fs.Name]; ok {
			errs = append(errs, fmt.Errorf("function %s is already defined by module %s (%s)", fs.Name, prev.Module.Name, prev.Module.Path))
		}
	}
	if err := errors.Join(errs...); err != nil {
		m.closeInstances(ctx)
		return nil, fail(err)
	}
	for _, fs := range man.Functions {
		f := newFunction(m, fs)
		m.Funcs = append(m.Funcs, f)
		h.funcs[f.Name] = f
	}
	h.modules = append(h.modules, m)
	return m, nil
}

func (h *Host) ensureWASI(ctx context.Context) error {
	h.wasiMu.Lock()
	defer h.wasiMu.Unlock()
	if h.wasiOn {
		return nil
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, h.rt); err != nil {
		return err
	}
	h.wasiOn = true
	return nil
}

// Signature is a function's SQL signature.
type Signature struct {
	Args    []core.Type
	Returns core.Type
}

// Function is one function of a loaded module. It is safe for concurrent
// use: each call borrows an instance of its module for its duration.
type Function struct {
	Name          string
	Kind          Kind
	Deterministic bool
	Signature
	Module *Module
	spec   FunctionSpec
	stats  stats
}

func newFunction(m *Module, fs FunctionSpec) *Function {
	f := &Function{Name: fs.Name, Kind: fs.Kind, Deterministic: fs.Deterministic, Module: m, spec: fs}
	for _, a := range fs.Args {
		t, _ := ParseType(a)
		f.Args = append(f.Args, t)
	}
	f.Returns, _ = ParseType(fs.Returns)
	return f
}

// Module is a loaded, compiled module and its pool of instances.
type Module struct {
	Name     string
	Path     string
	Manifest *Manifest
	Funcs    []*Function

	host     *Host
	compiled wazero.CompiledModule
	grants   Grants
	usesWASI bool
	hasInit  bool

	mu     sync.Mutex
	idle   []*instance
	closed bool
}

// allowedWASI is what a module may import from wasi_snapshot_preview1.
// Filesystem calls are allowed as imports (language runtimes link them) but
// there is no preopened directory, so they fail with EBADF; sockets are
// refused outright.
func allowedImport(module, name string) bool {
	if module != wasi_snapshot_preview1.ModuleName {
		return false
	}
	switch name {
	case "sock_accept", "sock_recv", "sock_send", "sock_shutdown":
		return false
	}
	return true
}

// check verifies imports and exports against the manifest.
func (m *Module) check() error {
	var errs []error
	for _, d := range m.compiled.ImportedFunctions() {
		mod, n, _ := d.Import()
		if !allowedImport(mod, n) {
			errs = append(errs, fmt.Errorf("imports %s.%s, which the sandbox does not provide (only WASI preview 1 without sockets)", mod, n))
		}
		m.usesWASI = true
	}
	if len(m.compiled.ImportedMemories()) > 0 {
		errs = append(errs, errors.New("imports its memory; it must define and export one"))
	}
	exp := m.compiled.ExportedFunctions()
	need := func(name string, params, results []api.ValueType) {
		d, ok := exp[name]
		if !ok {
			errs = append(errs, fmt.Errorf("does not export function %q", name))
			return
		}
		if !sameTypes(d.ParamTypes(), params) || !sameTypes(d.ResultTypes(), results) {
			errs = append(errs, fmt.Errorf("export %q has type %v -> %v; ABI v1 wants %v -> %v", name, d.ParamTypes(), d.ResultTypes(), params, results))
		}
	}
	i32 := api.ValueTypeI32
	need("strata_alloc", []api.ValueType{i32}, []api.ValueType{i32})
	for _, f := range m.Manifest.Functions {
		for _, e := range f.exports() {
			need(e, []api.ValueType{i32}, []api.ValueType{i32})
		}
	}
	if _, ok := m.compiled.ExportedMemories()["memory"]; !ok {
		errs = append(errs, errors.New(`does not export its memory as "memory"`))
	}
	_, m.hasInit = exp["_initialize"]
	return errors.Join(errs...)
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// newInstance instantiates the module and runs its initializer.
func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	stderr := &tailBuffer{max: 4096}
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions().WithStderr(stderr)
	if m.grants.Stderr {
		mc = mc.WithStderr(teeWriter{stderr, os.Stderr})
	}
	if m.grants.Clock {
		mc = mc.WithSysWalltime().WithSysNanotime().WithSysNanosleep()
	}
	if m.grants.Random {
		mc = mc.WithRandSource(rand.Reader)
	}
	mod, err := m.host.rt.InstantiateModule(ctx, m.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("cannot instantiate: %w%s", err, stderr.suffix())
	}
	inst := &instance{mod: mod, mem: mod.Memory(), stderr: stderr, fns: map[string]api.Function{}}
	if m.hasInit {
		if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("_initialize failed: %w%s", err, stderr.suffix())
		}
	}
	if wd := m.host.wd; wd != nil {
		g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
		if !ok {
			_ = mod.Close(ctx)
			return nil, fmt.Errorf("the instrumented module does not export the mutable global %s", interruptExport)
		}
		inst.intr = g
		wd.add(inst)
	}
	inst.alloc = mod.ExportedFunction("strata_alloc")
	inst.free = mod.ExportedFunction("strata_free")
	for _, f := range m.Manifest.Functions {
		for _, e := range f.exports() {
			inst.fns[e] = mod.ExportedFunction(e)
		}
	}
	return inst, nil
}

// get borrows an idle instance or makes a new one.
func (m *Module) get(ctx context.Context) (*instance, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(m.idle); n > 0 {
		inst := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return inst, nil
	}
	m.mu.Unlock()
	return m.newInstance(ctx)
}

// put returns a healthy instance to the pool.
func (m *Module) put(ctx context.Context, inst *instance) {
	m.mu.Lock()
	if !m.closed && len(m.idle) < m.host.cfg.maxIdle {
		m.idle = append(m.idle, inst)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	m.closeInstance(ctx, inst)
}

// discard drops an instance that failed: its memory may be corrupt.
func (m *Module) discard(ctx context.Context, inst *instance) { m.closeInstance(ctx, inst) }

func (m *Module) closeInstance(ctx context.Context, inst *instance) {
	if m.host.wd != nil {
		m.host.wd.remove(inst)
	}
	_ = inst.mod.Close(ctx)
}

func (m *Module) closeInstances(ctx context.Context) {
	m.mu.Lock()
	idle := m.idle
	m.idle, m.closed = nil, true
	m.mu.Unlock()
	for _, inst := range idle {
		m.closeInstance(ctx, inst)
	}
	_ = m.compiled.Close(ctx)
}

// Idle reports how many idle instances the pool holds (for tests and metrics).
func (m *Module) Idle() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.idle)
}

// instance is one instantiation of a module, used by one goroutine at a time.
type instance struct {
	mod         api.Module
	mem         api.Memory
	alloc, free api.Function
	fns         map[string]api.Function
	stderr      *tailBuffer
	arena       uint32 // host-owned input region in guest memory
	arenaCap    uint32
	stack       [2]uint64
	intr        api.MutableGlobal // the interrupt global (watchdog.go)
	started     atomic.Int64      // when the running call began (watchdog.now); 0 when idle
	fired       bool              // the watchdog interrupted the running call; guarded by the watchdog's mu
}

// tailBuffer keeps the last max bytes written to it (a guest's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) suffix() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.b) == 0 {
		return ""
	}
	return "; guest stderr: " + strings.TrimRight(string(t.b), "\n")
}

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (w teeWriter) Write(p []byte) (int, error) {
	_, _ = w.a.Write(p)
	return w.b.Write(p)
}
