package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/backends"
	_ "github.com/stratadb/strata/backends/all"
	"github.com/stratadb/strata/connect"
	_ "github.com/stratadb/strata/connect/all"
	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/plans"
)

// deployment is a loaded, validated and planned deployment file.
type deployment struct {
	cfg   *config.Deployment
	plans map[string]*plans.ViewPlan
	udfs  *udfSet
	// wrapSource, when set, wraps each source start opens (the benchmark
	// watches what its sources propose).
	wrapSource func(config.Source, core.Source) core.Source
}

// connectorSpecs lets config validate connector names and options against
// the registry.
func connectorSpecs(kind, name string) ([]config.OptionSpec, bool) {
	if kind != "source" {
		return nil, false
	}
	c, ok := connect.LookupSource(name)
	if !ok {
		return nil, false
	}
	out := make([]config.OptionSpec, len(c.Options))
	for i, o := range c.Options {
		out[i] = config.OptionSpec{Name: o.Name, Kind: o.Kind, Required: o.Required, Default: o.Default, Doc: o.Doc}
	}
	return out, true
}

// load reads, validates and plans a deployment file. Every problem found is
// returned at once as config.Problems, each with file:line:col.
func load(path string) (*deployment, error) {
	cfg, err := config.Load(path, config.WithConnectors(connectorSpecs), config.WithStorages(backends.Names()),
		config.WithConnectorNames("source", connect.SourceNames()), config.WithSchemas(connect.SourceSchema))
	var problems config.Problems
	if err != nil && !errors.As(err, &problems) {
		return nil, err
	}
	if cfg == nil {
		return nil, err
	}
	d := &deployment{cfg: cfg, plans: map[string]*plans.ViewPlan{}}
	var udfProblems config.Problems
	d.udfs, udfProblems = readUDFs(cfg)
	problems = append(problems, udfProblems...)
	cat := plans.Catalog{}
	for _, s := range cfg.Sources {
		cat[s.Name] = s.Schema
	}
	broken := brokenSources(cfg, problems)
	// Views may read views: plan in rounds, each view once the relations
	// it reads are known; what never plans reports its own error.
	pending := []config.View{}
	for _, v := range cfg.Views {
		if v.SQL == "" {
			continue
		}
		if src := readsBroken(v.SQL, broken); src != "" {
			// Its schema is already reported; planning against what is
			// left would add confusing follow-up errors.
			continue
		}
		pending = append(pending, v)
	}
	for len(pending) > 0 {
		var next []config.View
		var failed []config.View
		var errs []error
		for _, v := range pending {
			p, perr := plans.Plan(v.SQL, cat, plans.WithFunctions(d.udfs.fns))
			if perr != nil {
				failed, errs = append(failed, v), append(errs, perr)
				continue
			}
			if len(v.PrimaryKey) > 0 {
				if msg := checkKey(v.PrimaryKey, p.Columns); msg != "" {
					problems = append(problems, config.Problem{Pos: v.PrimaryKeyPos, Msg: "view " + v.Name + ": " + msg,
						Hint: "name columns of the view's select list"})
				}
				p.Key = v.PrimaryKey
			}
			d.plans[v.Name] = p
			cat[v.Name] = p.Columns
		}
		if len(failed) == len(pending) {
			for i, v := range failed {
				problems = append(problems, sqlProblem(v, errs[i]))
			}
			break
		}
		next = append(next, failed...)
		pending = next
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool {
			a, b := problems[i].Pos, problems[j].Pos
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return d, problems
	}
	return d, nil
}

// checkKey reports a primary_key column the view does not have.
func checkKey(key []string, cols []core.Column) string {
	var bad []string
	for _, k := range key {
		found := false
		for _, c := range cols {
			found = found || c.Name == k
		}
		if !found {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return fmt.Sprintf("primary_key column(s) %s are not columns of the view (it has %s)", strings.Join(bad, ", "), strings.Join(names, ", "))
}

// sqlProblem places a planning error in the deployment file.
func sqlProblem(v config.View, perr error) config.Problem {
	var pe *plans.Error
	pos := v.Pos
	msg, hint := perr.Error(), ""
	if errors.As(perr, &pe) {
		if pe.Pos >= 0 {
			pos = v.SQLPos(pe.Pos)
		}
		msg, hint = "view "+v.Name+": "+pe.Msg, pe.Hint
	}
	return config.Problem{Pos: pos, Msg: msg, Hint: hint}
}

// storages lists the backends the deployment needs: those its views name,
// plus duckdb, which always holds dead_letters and answers `strata query`.
func (d *deployment) storages() []string {
	set := map[string]bool{"duckdb": true}
	for _, v := range d.cfg.Views {
		for _, s := range v.Storage {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func (d *deployment) backendDir(name string) string {
	return filepath.Join(d.cfg.DataDir, name)
}

// openBackends opens every backend the deployment uses. On error, what was
// opened is closed.
func (d *deployment) openBackends(ctx context.Context, mem memory.Allocator, readOnly bool) (map[string]core.Backend, error) {
	out := map[string]core.Backend{}
	for _, name := range d.storages() {
		b, err := backends.Open(ctx, name, backends.Config{Dir: d.backendDir(name), ReadOnly: readOnly, Alloc: mem})
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

func closeAll(bs map[string]core.Backend) error {
	var errs []error
	for _, b := range bs {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}

// udfPollInterval is how often a running deployment looks for new builds
// of its UDF modules.
const udfPollInterval = 500 * time.Millisecond

// running is a deployment wired for `strata run`.
type running struct {
	eng      *engine.Engine
	sources  map[string]core.Source
	backends map[string]core.Backend
	udfs     *udfSet
	stop     context.CancelFunc // stops the udf watcher
}

func (r *running) Close() error {
	var errs []error
	if r.stop != nil {
		r.stop()
	}
	if r.eng != nil {
		errs = append(errs, r.eng.Close())
	}
	for _, s := range r.sources {
		errs = append(errs, s.Close())
	}
	errs = append(errs, closeAll(r.backends))
	errs = append(errs, r.udfs.Close())
	return errors.Join(errs...)
}

// start opens sources and backends and builds the engine.
func (d *deployment) start(ctx context.Context, mem memory.Allocator, log *slog.Logger, onEpoch func(core.Epoch), onChanges func(core.Epoch, map[string][]arrow.RecordBatch)) (_ *running, err error) {
	r := &running{sources: map[string]core.Source{}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if err := d.udfs.open(ctx, d.cfg.DataDir); err != nil {
		return nil, err
	}
	r.udfs = d.udfs
	if len(d.cfg.UDFs) > 0 {
		wctx, stop := context.WithCancel(ctx)
		r.stop = stop
		go d.udfs.watch(wctx, log, udfPollInterval)
	}
	r.backends, err = d.openBackends(ctx, mem, false)
	if err != nil {
		return nil, err
	}
	for _, b := range r.backends {
		if err := d.udfs.register(ctx, b); err != nil {
			return nil, err
		}
	}
	opts := []engine.Option{
		engine.WithAllocator(mem),
		engine.WithDataDir(d.cfg.DataDir),
		engine.WithLogger(log),
		engine.WithOnEpoch(onEpoch),
		engine.WithOnChanges(onChanges),
		engine.WithBeforeEpoch(d.udfs.swap),
	}
	if d.cfg.Engine.MaxEpochRows > 0 {
		opts = append(opts, engine.WithMaxEpochRows(d.cfg.Engine.MaxEpochRows))
	}
	if d.cfg.Engine.MaxStateKeys > 0 {
		opts = append(opts, engine.WithMaxStateKeys(d.cfg.Engine.MaxStateKeys))
	}
	if d.cfg.Engine.EpochInterval > 0 {
		opts = append(opts, engine.WithEpochInterval(d.cfg.Engine.EpochInterval))
	}
	for _, s := range d.cfg.Sources {
		src, err := connect.OpenSource(ctx, s.Connector, connect.SourceConfig{
			Name: s.Name, Options: s.Options, Format: s.Format, Columns: s.Schema,
			BaseDir: d.cfg.Dir, Alloc: mem,
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Pos, err)
		}
		r.sources[s.Name] = src
		if d.wrapSource != nil {
			src = d.wrapSource(s, src)
		}
		opts = append(opts, engine.WithSource(s.Name, src))
		if et := s.EventTime; et != nil {
			opts = append(opts, engine.WithEventTime(s.Name, et.Column, et.WatermarkDelay))
		}
	}
	for _, b := range r.backends {
		opts = append(opts, engine.WithBackend(b))
	}
	for _, v := range d.cfg.Views {
		p := d.plans[v.Name]
		flow, err := p.Build(mem)
		if err != nil {
			return nil, fmt.Errorf("%s: view %s: %w", v.Pos, v.Name, err)
		}
		opts = append(opts, engine.WithView(engine.ViewSpec{
			Def:     core.ViewDef{Name: v.Name, Columns: p.Columns, Key: p.Key},
			Flow:    flow,
			Storage: v.Storage,
		}))
	}
	r.eng, err = engine.New(opts...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (d *deployment) openOne(ctx context.Context, name string, readOnly bool) (core.Backend, error) {
	return backends.Open(ctx, name, backends.Config{Dir: d.backendDir(name), ReadOnly: readOnly, Alloc: memory.NewGoAllocator()})
}

// brokenSources names the sources a problem was reported in (by line range
// of the source's entry in the file).
func brokenSources(cfg *config.Deployment, problems config.Problems) map[string]bool {
	broken := map[string]bool{}
	for i, src := range cfg.Sources {
		end := 1 << 30
		if i+1 < len(cfg.Sources) {
			end = cfg.Sources[i+1].Pos.Line
		} else if len(cfg.Views) > 0 && cfg.Views[0].Pos.Line > src.Pos.Line {
			end = cfg.Views[0].Pos.Line
		}
		for _, p := range problems {
			if p.Pos.Line >= src.Pos.Line && p.Pos.Line < end {
				broken[src.Name] = true
			}
		}
	}
	return broken
}

// readsBroken returns the broken source a view's SQL names, if any (a
// token match is enough: it only suppresses follow-up errors).
func readsBroken(sql string, broken map[string]bool) string {
	for _, f := range strings.FieldsFunc(strings.ToLower(sql), func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if broken[f] {
			return f
		}
	}
	return ""
}
