package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/pebble/v2"
	"github.com/stratadb/strata/engine/core"
)

// ViewSpec is a view as the engine runs it: a dataflow reading sources and
// other views, whose output is stored in the named backends.
type ViewSpec struct {
	Def     core.ViewDef
	Flow    *Dataflow // the view's operators; its output schema matches Def
	Storage []string  // names of the backends storing the view
}

type config struct {
	mem           memory.Allocator
	dataDir       string
	sources       map[string]core.Source
	backends      []core.Backend
	views         []ViewSpec
	maxEpochRows  int
	epochInterval time.Duration
	log           *slog.Logger
	onEpoch       func(core.Epoch)
	beforeEpoch   func() string
	onChanges     func(core.Epoch, map[string][]arrow.RecordBatch)
	eventTime     map[string]eventTime
	maxStateKeys  int
}

// WithMaxStateKeys bounds the keys (groups) a stateful operator keeps in
// memory between epochs; the rest stay in the Pebble state store and are
// read back when a row needs them. 0 keeps everything in memory.
func WithMaxStateKeys(n int) Option { return optionFunc(func(c *config) { c.maxStateKeys = n }) }

// WithOnChanges registers a function that receives, after every epoch all
// backends committed, each view's changelog batches of that epoch (borrowed:
// valid during the call). It feeds push subscriptions.
func WithOnChanges(fn func(core.Epoch, map[string][]arrow.RecordBatch)) Option {
	return optionFunc(func(c *config) { c.onChanges = fn })
}

type eventTime struct {
	column string
	delay  int64 // microseconds
}

// WithEventTime declares the event-time column of a source and its
// watermark delay: the source's watermark is the largest event time read so
// far minus the delay. Windows close by watermark.
func WithEventTime(source, column string, delay time.Duration) Option {
	return optionFunc(func(c *config) {
		c.eventTime[source] = eventTime{column: column, delay: delay.Microseconds()}
	})
}

// Option configures an Engine.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithAllocator sets the allocator of every batch the engine builds.
func WithAllocator(mem memory.Allocator) Option {
	return optionFunc(func(c *config) { c.mem = mem })
}

// WithDataDir sets the directory of the epoch log (dir/epochs).
func WithDataDir(dir string) Option { return optionFunc(func(c *config) { c.dataDir = dir }) }

// WithSource adds a source under name. The caller keeps ownership and closes it.
func WithSource(name string, s core.Source) Option {
	return optionFunc(func(c *config) { c.sources[name] = s })
}

// WithBackend adds a backend. The caller keeps ownership and closes it.
func WithBackend(b core.Backend) Option {
	return optionFunc(func(c *config) { c.backends = append(c.backends, b) })
}

// WithView adds a view. The engine closes its operators.
func WithView(v ViewSpec) Option { return optionFunc(func(c *config) { c.views = append(c.views, v) }) }

// WithMaxEpochRows bounds the records one source contributes to one epoch.
func WithMaxEpochRows(n int) Option { return optionFunc(func(c *config) { c.maxEpochRows = n }) }

// WithEpochInterval sets how long a live deployment waits between epochs
// when it is not catching up on a backlog.
func WithEpochInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.epochInterval = d })
}

// WithLogger sets the structured logger.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.log = l }) }

// WithBeforeEpoch registers a function the engine calls on its own
// goroutine before each new epoch, when no epoch is running: the place to
// swap what views call (a new build of a UDF module). It returns a tag for
// the epoch log (e.g. the module versions), recorded whenever it changes.
func WithBeforeEpoch(fn func() string) Option {
	return optionFunc(func(c *config) { c.beforeEpoch = fn })
}

// WithOnEpoch registers a function called after every committed epoch.
func WithOnEpoch(fn func(core.Epoch)) Option { return optionFunc(func(c *config) { c.onEpoch = fn }) }

func defaultConfig() config {
	return config{
		sources:       map[string]core.Source{},
		eventTime:     map[string]eventTime{},
		maxEpochRows:  100_000,
		epochInterval: time.Second,
		log:           slog.New(slog.DiscardHandler),
	}
}

// Engine runs a deployment's views epoch by epoch. See doc.go for the epoch
// protocol.
type Engine struct {
	cfg     config
	log     *EpochLog
	readers map[string][]*ViewSpec // relation (source or view) -> views reading it
	order   []*ViewSpec            // views, each after the views it reads
	storage map[string][]string    // backend name -> views it stores

	lastTag     string // the last tag WithBeforeEpoch gave, as logged
	epoch       atomic.Uint64
	rowsIn      atomic.Int64
	deadLetters atomic.Int64

	state   *StateStore // operator checkpoints; nil when some operator cannot checkpoint
	metrics *metrics
	maxTime map[string]int64    // per source with event time: the largest seen (µs)
	srcOf   map[string][]string // view -> the sources with event time it reads, transitively
	final   bool                // the last logged epoch was final
}

// Stats are the engine's counters.
type Stats struct {
	Epoch       core.Epoch // the last epoch committed to every backend
	RowsIn      int64      // records read by this process (including replay)
	DeadLetters int64      // records sent to dead_letters by this process (excluding replay)
}

// New validates the configuration and opens the epoch log.
func New(opts ...Option) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	var errs []error
	if cfg.mem == nil {
		errs = append(errs, errors.New("engine: no allocator (WithAllocator)"))
	}
	if cfg.dataDir == "" {
		errs = append(errs, errors.New("engine: no data directory (WithDataDir)"))
	}
	if cfg.maxEpochRows <= 0 {
		errs = append(errs, fmt.Errorf("engine: max epoch rows must be positive, got %d", cfg.maxEpochRows))
	}
	e := &Engine{cfg: cfg, readers: map[string][]*ViewSpec{}, storage: map[string][]string{},
		maxTime: map[string]int64{}, srcOf: map[string][]string{}, metrics: newMetrics()}
	known := map[string]bool{}
	for _, b := range cfg.backends {
		known[b.Name()] = true
		e.storage[b.Name()] = []string{core.DeadLetterView}
	}
	views := map[string]*ViewSpec{}
	for i := range cfg.views {
		v := &cfg.views[i]
		if v.Flow == nil {
			errs = append(errs, fmt.Errorf("engine: view %q has no dataflow", v.Def.Name))
			continue
		}
		views[v.Def.Name] = v
	}
	for _, v := range views {
		for _, rel := range v.Flow.Inputs() {
			_, isSource := cfg.sources[rel]
			if _, isView := views[rel]; !isSource && !isView {
				errs = append(errs, fmt.Errorf("engine: view %q reads %q, which is neither a source nor a view", v.Def.Name, rel))
			}
			e.readers[rel] = append(e.readers[rel], v)
		}
		for _, s := range v.Storage {
			if !known[s] {
				errs = append(errs, fmt.Errorf("engine: view %q is stored in %q, which is not open", v.Def.Name, s))
			}
			e.storage[s] = append(e.storage[s], v.Def.Name)
		}
	}
	order, err := topoViews(views)
	if err != nil {
		errs = append(errs, err)
	}
	e.order = order
	for _, v := range order { // inputs first, so srcOf of upstream views is known
		set := map[string]bool{}
		for _, rel := range v.Flow.Inputs() {
			if _, ok := cfg.eventTime[rel]; ok {
				set[rel] = true
			}
			for _, s := range e.srcOf[rel] {
				set[s] = true
			}
		}
		for s := range set {
			e.srcOf[v.Def.Name] = append(e.srcOf[v.Def.Name], s)
		}
		sort.Strings(e.srcOf[v.Def.Name])
	}
	for src, et := range cfg.eventTime {
		s, ok := cfg.sources[src]
		if !ok {
			errs = append(errs, fmt.Errorf("engine: event time declared for unknown source %q", src))
			continue
		}
		if f, ok := s.Schema().FieldsByName(et.column); !ok || len(f) == 0 || f[0].Type.ID() != arrow.TIMESTAMP {
			errs = append(errs, fmt.Errorf("engine: source %q: event-time column %q must be a timestamp column", src, et.column))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, list := range e.readers {
		sort.Slice(list, func(i, j int) bool { return list[i].Def.Name < list[j].Def.Name })
	}
	log, err := OpenEpochLog(filepath.Join(cfg.dataDir, "epochs"), false)
	if err != nil {
		return nil, err
	}
	e.log = log
	if e.checkpointable() {
		if e.state, err = OpenStateStore(filepath.Join(cfg.dataDir, "state")); err != nil {
			log.Close()
			return nil, err
		}
		for _, v := range cfg.views {
			for i, op := range v.Flow.Operators() {
				if sp, ok := op.(Spiller); ok {
					sp.AttachState(prefixReader{db: e.state.db, prefix: opPrefix(v.Def.Name, i)}, cfg.maxStateKeys)
				}
			}
		}
	}
	return e, nil
}

// Stats returns the engine's counters. It is safe to call concurrently.
func (e *Engine) Stats() Stats {
	return Stats{Epoch: core.Epoch(e.epoch.Load()), RowsIn: e.rowsIn.Load(), DeadLetters: e.deadLetters.Load()}
}

// Close closes the epoch log and the views' operators. Sources and backends
// belong to the caller.
func (e *Engine) Close() error {
	for _, v := range e.cfg.views {
		if v.Flow != nil {
			v.Flow.Close()
		}
	}
	return errors.Join(e.state.Close(), e.log.Close())
}

// DeadLetterDef is the definition of the dead-letter view.
func DeadLetterDef() core.ViewDef {
	return core.ViewDef{Name: core.DeadLetterView, Columns: core.DeadLetterColumns, Key: core.DeadLetterKey}
}

// Run recovers, then runs epochs until ctx is done or, with untilIdle, until
// every source has nothing more to read; the last epoch is committed before
// it returns.
func (e *Engine) Run(ctx context.Context, untilIdle bool) error {
	defs := map[string]core.ViewDef{core.DeadLetterView: DeadLetterDef()}
	for _, v := range e.cfg.views {
		defs[v.Def.Name] = v.Def
	}
	for _, b := range e.cfg.backends {
		for _, name := range e.storage[b.Name()] {
			if err := b.EnsureView(ctx, defs[name]); err != nil {
				return fmt.Errorf("engine: view %q in %s: %w", name, b.Name(), err)
			}
		}
	}
	last, err := e.recover(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(e.cfg.sources))
	for n := range e.cfg.sources {
		names = append(names, n)
	}
	sort.Strings(names)
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		start := time.Now()
		offs := core.Offsets{}
		backlog := false
		for _, n := range names {
			r, err := e.cfg.sources[n].Next(ctx, e.cfg.maxEpochRows)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("engine: source %q: %w", n, err)
			}
			nonEmpty := core.Ranges{}
			total := int64(0)
			for p, x := range r {
				if !x.Empty() {
					nonEmpty[p] = x
					total += x.To - x.From
				}
			}
			if len(nonEmpty) > 0 {
				offs[n] = nonEmpty
			}
			if total >= int64(e.cfg.maxEpochRows) {
				backlog = true
			}
		}
		if len(offs) == 0 {
			if untilIdle {
				if e.needsFinal() {
					// Bounded inputs are drained: close every window.
					ep := last + 1
					if err := e.log.AppendFinal(ep); err != nil {
						return err
					}
					e.final = true
					if err := e.runEpoch(ctx, ep, core.Offsets{}, e.cfg.backends, true); err != nil {
						return err
					}
					if err := e.checkpoint(ep); err != nil {
						return err
					}
					last = ep
				}
				e.cfg.log.Info("sources idle; stopping", "epoch", last)
				return nil
			}
			if !sleep(ctx, e.cfg.epochInterval/4) {
				return nil
			}
			continue
		}
		ep := last + 1
		tag := ""
		if e.cfg.beforeEpoch != nil {
			if t := e.cfg.beforeEpoch(); t != e.lastTag {
				tag, e.lastTag = t, t
			}
		}
		if err := e.log.AppendTagged(ep, offs, tag); err != nil {
			return err
		}
		e.final = false
		if err := e.runEpoch(ctx, ep, offs, e.cfg.backends, true); err != nil {
			if ctx.Err() != nil {
				// Shutting down mid-epoch is a clean stop: the epoch is in
				// the log and recovery finishes it.
				return nil
			}
			return err
		}
		if err := e.checkpoint(ep); err != nil {
			return err
		}
		last = ep
		e.final = false
		if !untilIdle && !backlog {
			if !sleep(ctx, e.cfg.epochInterval-time.Since(start)) {
				return nil
			}
		}
	}
}

// watermark returns a view's watermark: the smallest of its event-time
// sources' watermarks; +infinity in a final epoch.
func (e *Engine) watermark(v *ViewSpec) int64 {
	if e.final {
		return math.MaxInt64
	}
	wm := int64(math.MaxInt64)
	for _, s := range e.srcOf[v.Def.Name] {
		t, ok := e.maxTime[s]
		if !ok {
			return NoWatermark
		}
		wm = min(wm, t-e.cfg.eventTime[s].delay)
	}
	if wm == math.MaxInt64 {
		return NoWatermark
	}
	return wm
}

// observe advances a source's largest event time with a batch.
func (e *Engine) observe(src string, b arrow.RecordBatch) {
	et, ok := e.cfg.eventTime[src]
	if !ok {
		return
	}
	idx := b.Schema().FieldIndices(et.column)
	if len(idx) == 0 {
		return
	}
	col := b.Column(idx[0]).(*array.Timestamp)
	w := core.Weights(b)
	cur, seen := e.maxTime[src]
	for i, t := range col.TimestampValues() {
		if col.IsNull(i) || w.Value(i) <= 0 {
			continue
		}
		if !seen || int64(t) > cur {
			cur, seen = int64(t), true
		}
	}
	if seen {
		e.maxTime[src] = cur
	}
}

// needsFinal reports whether an exhausted deployment must run a final epoch
// to close its windows.
func (e *Engine) needsFinal() bool {
	if e.final {
		return false
	}
	for _, v := range e.order {
		if v.Flow.HoldsWindows() {
			return true
		}
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// recover replays the epoch log: epochs a backend lacks are applied to it,
// and, when a view keeps state, every logged epoch is re-run to rebuild that
// state. It positions the sources after the last logged epoch and returns it.
func (e *Engine) recover(ctx context.Context) (core.Epoch, error) {
	last, err := e.log.Last()
	if err != nil {
		return 0, err
	}
	committed := make(map[string]core.Epoch, len(e.cfg.backends))
	minC := last
	for _, b := range e.cfg.backends {
		c, _, err := b.Committed(ctx)
		if err != nil {
			return 0, fmt.Errorf("engine: recover: %s: %w", b.Name(), err)
		}
		if c > last {
			return 0, fmt.Errorf("engine: recover: backend %s committed epoch %d but the epoch log ends at %d; the data directory was mixed from different runs (delete it to rebuild)", b.Name(), c, last)
		}
		committed[b.Name()] = c
		minC = min(minC, c)
	}
	stateful := false
	for _, v := range e.cfg.views {
		stateful = stateful || v.Flow.Stateful()
	}
	ckpt, err := e.restore(minC, last)
	if err != nil {
		return 0, err
	}
	pos := map[string]core.Positions{}
	err = e.log.Each(func(ep core.Epoch, offs core.Offsets) error {
		for s, p := range offs.End() {
			if pos[s] == nil {
				pos[s] = core.Positions{}
			}
			for part, x := range p {
				pos[s][part] = x
			}
		}
		final, err := e.log.Final(ep)
		if err != nil {
			return err
		}
		if ep <= ckpt {
			return nil // the restored checkpoint covers it
		}
		e.final = final
		if ep <= minC && !stateful {
			return nil
		}
		var targets []core.Backend
		for _, b := range e.cfg.backends {
			if committed[b.Name()] < ep {
				targets = append(targets, b)
			}
		}
		if err := e.runEpoch(ctx, ep, offs, targets, len(targets) > 0); err != nil {
			return err
		}
		return e.checkpoint(ep)
	})
	if err != nil {
		return 0, fmt.Errorf("engine: recover: %w", err)
	}
	for name, src := range e.cfg.sources {
		if err := src.Seek(ctx, pos[name]); err != nil {
			return 0, fmt.Errorf("engine: recover: seek source %q: %w", name, err)
		}
	}
	// Logged always (also with nothing to recover): operators and tests
	// watch for it to know the engine is past recovery.
	e.cfg.log.Info("recovered", "epoch", last, "checkpoint", ckpt, "min_committed", minC)
	e.epoch.Store(uint64(last))
	return last, nil
}

// runEpoch reads exactly offs, runs every view's dataflow over it, and
// applies the output to targets. count says whether dead letters count in
// Stats (not for pure state rebuilds).
func (e *Engine) runEpoch(ctx context.Context, ep core.Epoch, offs core.Offsets, targets []core.Backend, count bool) error {
	outputs := map[string][]arrow.RecordBatch{}
	defer func() {
		for _, bs := range outputs {
			for _, b := range bs {
				b.Release()
			}
		}
	}()
	// emitFor collects a view's output for the backends and forwards it to
	// the views that read it.
	var emitFor func(v *ViewSpec) Emit
	var dispatch func(rel string, b arrow.RecordBatch) error
	emitFor = func(v *ViewSpec) Emit {
		return func(b arrow.RecordBatch) error {
			if b.NumRows() == 0 {
				return nil
			}
			b.Retain()
			outputs[v.Def.Name] = append(outputs[v.Def.Name], b)
			return dispatch(v.Def.Name, b)
		}
	}
	dispatch = func(rel string, b arrow.RecordBatch) error {
		for _, v := range e.readers[rel] {
			if err := v.Flow.Push(ctx, rel, b, emitFor(v)); err != nil {
				return fmt.Errorf("view %q: %w", v.Def.Name, err)
			}
		}
		return nil
	}
	start := time.Now()
	sample := epochSample{records: map[string]int64{}, apply: map[string]time.Duration{}, out: outputs}
	var dead []core.DeadLetter
	ctx = WithDeadLetters(ctx, func(d core.DeadLetter) { dead = append(dead, d) })
	for _, v := range e.order {
		v.Flow.SetWatermark(e.watermark(v))
	}
	for _, name := range offs.Sources() {
		src, ok := e.cfg.sources[name]
		if !ok {
			return fmt.Errorf("engine: epoch %d reads source %q, which is no longer in the deployment", ep, name)
		}
		dl, err := src.Read(ctx, offs[name], func(b arrow.RecordBatch) error {
			e.rowsIn.Add(b.NumRows())
			sample.records[name] += b.NumRows()
			if err := dispatch(name, b); err != nil {
				return err
			}
			e.observe(name, b)
			return nil
		})
		if err != nil {
			return fmt.Errorf("engine: epoch %d: source %q: %w", ep, name, err)
		}
		dead = append(dead, dl...)
	}
	for _, v := range e.order {
		v.Flow.SetWatermark(e.watermark(v))
		if err := v.Flow.EndEpoch(ctx, emitFor(v)); err != nil {
			return fmt.Errorf("engine: epoch %d: view %q: %w", ep, v.Def.Name, err)
		}
	}
	// Operators report dead letters without a position (late events):
	// number them within the epoch so each has its own key.
	// Several views dropping the same late event report it once.
	seq := int64(0)
	seen := map[string]bool{}
	kept := dead[:0]
	for _, d := range dead {
		if d.Offset < 0 {
			k := d.Source + "\x00" + d.Reason + "\x00" + string(d.Raw)
			if seen[k] {
				continue
			}
			seen[k] = true
			d.Partition = fmt.Sprintf("epoch %d", ep)
			d.Offset = seq
			seq++
		}
		kept = append(kept, d)
	}
	dead = kept
	if len(dead) > 0 {
		outputs[core.DeadLetterView] = []arrow.RecordBatch{e.deadLetterBatch(dead, ep)}
		if count {
			e.deadLetters.Add(int64(len(dead)))
			e.cfg.log.Warn("records sent to dead_letters", "epoch", ep, "count", len(dead), "first", dead[0].Reason)
		}
	}
	for _, b := range targets {
		ch := &core.EpochChanges{Epoch: ep, Offsets: offs, Changes: map[string][]arrow.RecordBatch{}}
		for _, v := range e.storage[b.Name()] {
			if bs := outputs[v]; len(bs) > 0 {
				ch.Changes[v] = bs
			}
		}
		t0 := time.Now()
		if err := b.Apply(ctx, ch); err != nil {
			return fmt.Errorf("engine: epoch %d: apply to %s: %w", ep, b.Name(), err)
		}
		sample.apply[b.Name()] = time.Since(t0)
	}
	if len(targets) > 0 {
		if uint64(ep) > e.epoch.Load() {
			e.epoch.Store(uint64(ep))
		}
		if count {
			wm := map[string]int64{}
			for src := range e.cfg.eventTime {
				if t, ok := e.maxTime[src]; ok {
					wm[src] = t - e.cfg.eventTime[src].delay
				}
			}
			sample.dur = time.Since(start)
			e.metrics.record(sample, int64(len(dead)), wm, ep)
		}
		if e.cfg.onEpoch != nil {
			e.cfg.onEpoch(ep)
		}
		if e.cfg.onChanges != nil {
			e.cfg.onChanges(ep, outputs)
		}
	}
	return nil
}

func (e *Engine) deadLetterBatch(dead []core.DeadLetter, ep core.Epoch) arrow.RecordBatch {
	schema := core.ChangelogSchema(core.ArrowSchema(core.DeadLetterColumns))
	b := array.NewRecordBuilder(e.cfg.mem, schema)
	defer b.Release()
	for _, d := range dead {
		b.Field(0).(*array.StringBuilder).Append(d.Source)
		b.Field(1).(*array.StringBuilder).Append(d.Partition)
		b.Field(2).(*array.Int64Builder).Append(d.Offset)
		b.Field(3).(*array.StringBuilder).Append(d.Reason)
		b.Field(4).(*array.StringBuilder).Append(strings.ToValidUTF8(string(d.Raw), "\uFFFD"))
		b.Field(5).(*array.Int64Builder).Append(int64(ep))
		b.Field(6).(*array.Int64Builder).Append(1)
	}
	return b.NewRecordBatch()
}

// topoViews orders views so that every view comes after the views it reads,
// and reports a cycle with its members.
func topoViews(byName map[string]*ViewSpec) ([]*ViewSpec, error) {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []*ViewSpec
	var visit func(v *ViewSpec, path []string) error
	visit = func(v *ViewSpec, path []string) error {
		switch state[v.Def.Name] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("engine: views read each other in a cycle: %s", strings.Join(append(path, v.Def.Name), " -> "))
		}
		state[v.Def.Name] = visiting
		for _, rel := range v.Flow.Inputs() {
			if w, ok := byName[rel]; ok {
				if err := visit(w, append(path, v.Def.Name)); err != nil {
					return err
				}
			}
		}
		state[v.Def.Name] = done
		order = append(order, v)
		return nil
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := visit(byName[n], nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// checkpointable reports whether every stateful operator can checkpoint.
func (e *Engine) checkpointable() bool {
	for _, v := range e.cfg.views {
		if v.Flow == nil {
			return false
		}
		for _, op := range v.Flow.Operators() {
			if _, ok := op.(Checkpointer); op.Stateful() && !ok {
				return false
			}
		}
	}
	return true
}

// engineState is the engine's own state in a checkpoint.
type engineState struct {
	MaxTime map[string]int64 `json:"max_time"`
	Final   bool             `json:"final"`
}

// checkpoint saves the state every operator changed, with epoch ep, after
// every backend committed ep.
func (e *Engine) checkpoint(ep core.Epoch) error {
	if e.state == nil {
		return nil
	}
	b := e.state.db.NewBatch()
	defer b.Close()
	for _, v := range e.cfg.views {
		for i, op := range v.Flow.Operators() {
			if c, ok := op.(Checkpointer); ok {
				if err := c.Checkpoint(prefixWriter{b: b, prefix: opPrefix(v.Def.Name, i)}); err != nil {
					return fmt.Errorf("engine: checkpoint view %q: %w", v.Def.Name, err)
				}
			}
		}
	}
	es, _ := json.Marshal(engineState{MaxTime: e.maxTime, Final: e.final})
	_ = b.Set(stateEngKey, es, nil)
	_ = b.Set(stateEpochKey, binary.BigEndian.AppendUint64(nil, uint64(ep)), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("engine: checkpoint epoch %d: %w", ep, err)
	}
	for _, v := range e.cfg.views {
		for _, op := range v.Flow.Operators() {
			if sp, ok := op.(Spiller); ok {
				sp.Checkpointed()
			}
		}
	}
	return nil
}

// restore loads the last checkpoint when it is usable (not ahead of any
// backend, nor of the log) and returns its epoch; 0 means recovery replays
// from the first epoch.
func (e *Engine) restore(minC, last core.Epoch) (core.Epoch, error) {
	if e.state == nil {
		return 0, nil
	}
	s, err := e.state.Epoch()
	if err != nil {
		return 0, fmt.Errorf("engine: read state store: %w", err)
	}
	if s == 0 {
		return 0, nil
	}
	if s > minC || s > last {
		// A backend lost epochs (or the log was replaced): rebuild from
		// the start so the backend gets them again.
		e.cfg.log.Warn("state checkpoint is ahead of a backend; rebuilding state from the epoch log", "checkpoint", s, "min_committed", minC)
		return 0, e.state.Reset()
	}
	for _, v := range e.cfg.views {
		for i, op := range v.Flow.Operators() {
			if c, ok := op.(Checkpointer); ok {
				if err := c.Restore(prefixReader{db: e.state.db, prefix: opPrefix(v.Def.Name, i)}); err != nil {
					return 0, fmt.Errorf("engine: restore view %q: %w", v.Def.Name, err)
				}
			}
		}
	}
	raw, closer, err := e.state.db.Get(stateEngKey)
	if err == nil {
		var es engineState
		jerr := json.Unmarshal(raw, &es)
		closer.Close()
		if jerr != nil {
			return 0, fmt.Errorf("engine: restore engine state: %w", jerr)
		}
		if es.MaxTime != nil {
			e.maxTime = es.MaxTime
		}
		e.final = es.Final
	}
	return s, nil
}

// EpochTag returns the tag (WithBeforeEpoch) in effect at epoch ep, as the
// epoch log recorded it.
func (e *Engine) EpochTag(ep core.Epoch) (string, error) { return e.log.TagAt(ep) }
