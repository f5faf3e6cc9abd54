package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	bench "github.com/stratadb/strata/benchmarks/nexmark"
	"github.com/stratadb/strata/connect"
	gen "github.com/stratadb/strata/connect/nexmark"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/config"
	"github.com/stratadb/strata/plans"
)

// limitQuery names the row that measures the sources alone.
const limitQuery = "limit"

// benchOpts are the flags of `strata bench nexmark`.
type benchOpts struct {
	queries      []string
	events       int64
	rate         int64
	seed         int64
	format       string
	out          string
	maxStateKeys int
	check        bool
	cpuProfile   bool
	verbose      bool
}

// benchResult is one query's measurement, one JSON object of --format json.
type benchResult struct {
	Query           string   `json:"query"`
	Events          int64    `json:"events"`
	Rate            int64    `json:"rate,omitempty"`
	Seconds         float64  `json:"seconds"`
	CPUSeconds      float64  `json:"cpu_seconds"`
	EventsPerSec    float64  `json:"events_per_sec"`
	EventsPerCPUSec float64  `json:"events_per_cpu_sec"`
	P50ms           *float64 `json:"p50_ms"`
	P99ms           *float64 `json:"p99_ms"`
	PeakRSSBytes    int64    `json:"peak_rss_bytes"`
	StartRSSBytes   int64    `json:"start_rss_bytes"` // the peak before the run: start-up and planning
	StateBytes      int64    `json:"state_bytes"`
	Epochs          int64    `json:"epochs"`
	ViewRows        int64    `json:"view_rows"`
	Correct         *bool    `json:"correct"`
	Unsupported     bool     `json:"unsupported,omitempty"`
	Error           string   `json:"error,omitempty"`
	Diff            string   `json:"diff,omitempty"`
}

// failed reports whether r counts against the exit status: an error or a
// wrong result of a query that should run.
func (r benchResult) failed() bool {
	return !r.Unsupported && (r.Error != "" || r.Correct != nil && !*r.Correct)
}

const benchUsage = `usage: strata bench nexmark [--queries limit,q0,q5,..] [--events N] [--rate R] [--seed S]
                           [--format table|json] [--out DIR] [--max-state-keys N] [--check=false] [--cpuprofile]

Runs the Nexmark queries of benchmarks/nexmark, each in a process of its own
over an in-process deployment (nexmark sources, the query as a view stored in
DuckDB), flat out or at --rate events per second, and reports throughput per
wall and per CPU second, latency (with --rate), peak RSS, bytes on disk and
whether the view equals DuckDB running the same query over the same events.
`

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "nexmark" {
		fmt.Fprint(stderr, benchUsage)
		return exitError{2}
	}
	fs := flag.NewFlagSet("bench nexmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	queries := fs.String("queries", "", "comma-separated queries (default: limit and q0..q22)")
	o := benchOpts{}
	fs.Int64Var(&o.events, "events", 1_000_000, "events of the stream (persons, auctions and bids)")
	fs.Int64Var(&o.rate, "rate", 0, "events per second to release (0: as fast as the engine reads); latency is measured only with a rate")
	fs.Int64Var(&o.seed, "seed", 42, "generator seed")
	fs.StringVar(&o.format, "format", "table", "output format: table or json (one object per query)")
	fs.StringVar(&o.out, "out", "", "directory that keeps each query's deployment and data (DIR/qN) and DIR/results.json")
	fs.IntVar(&o.maxStateKeys, "max-state-keys", 0, "engine.max_state_keys of the deployments (0: all state in memory)")
	fs.BoolVar(&o.check, "check", true, "compare each view with DuckDB running the query over the same events")
	fs.BoolVar(&o.cpuProfile, "cpuprofile", false, "write a CPU profile of each run to DIR/qN.cpu.pprof (needs --out)")
	fs.BoolVar(&o.verbose, "v", false, "show the engine's log and each child's stderr")
	child := fs.Bool("child", false, "run one query in this process and print its result as JSON (used by bench itself)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench nexmark: unexpected argument %q\n%s", fs.Arg(0), benchUsage)
	}
	all, err := bench.Queries()
	if err != nil {
		return err
	}
	known := []string{limitQuery}
	for _, q := range all {
		known = append(known, q.Name)
	}
	o.queries = known
	if *queries != "" {
		o.queries = nil
		for _, q := range strings.Split(*queries, ",") {
			q = strings.ToLower(strings.TrimSpace(q))
			if !slices.Contains(known, q) {
				return fmt.Errorf("bench nexmark: unknown query %q (known: %s)", q, strings.Join(known, ", "))
			}
			o.queries = append(o.queries, q)
		}
	}
	var problems []string
	if o.events <= 0 {
		problems = append(problems, fmt.Sprintf("--events must be positive, got %d", o.events))
	}
	if o.rate < 0 {
		problems = append(problems, fmt.Sprintf("--rate must be >= 0, got %d", o.rate))
	}
	if o.format != "table" && o.format != "json" {
		problems = append(problems, fmt.Sprintf("--format must be table or json, got %q", o.format))
	}
	if o.cpuProfile && o.out == "" {
		problems = append(problems, "--cpuprofile needs --out DIR to write the profiles to")
	}
	if *child && len(o.queries) != 1 {
		problems = append(problems, "--child runs exactly one query")
	}
	if len(problems) > 0 {
		return fmt.Errorf("bench nexmark: %s", strings.Join(problems, "; "))
	}
	if o.out != "" {
		if o.out, err = filepath.Abs(o.out); err != nil {
			return err
		}
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
	}
	if *child {
		res := benchOne(ctx, o, o.queries[0], stderr)
		return json.NewEncoder(stdout).Encode(res)
	}
	return benchAll(ctx, o, stdout, stderr)
}

// benchAll runs every query in a child process and reports each result as
// it arrives.
func benchAll(ctx context.Context, o benchOpts, stdout, stderr io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("bench nexmark: find this binary to run the queries with: %w", err)
	}
	var results *os.File
	if o.out != "" {
		if results, err = os.Create(filepath.Join(o.out, "results.json")); err != nil {
			return err
		}
		defer results.Close()
	}
	tw := newBenchTable(stdout)
	if o.format == "table" {
		tw.header(o)
	}
	failed := 0
	for _, q := range o.queries {
		if ctx.Err() != nil {
			break
		}
		res := benchChild(ctx, exe, o, q, stderr)
		if res.failed() {
			failed++
		}
		line, _ := json.Marshal(res)
		if results != nil {
			fmt.Fprintf(results, "%s\n", line)
		}
		if o.format == "json" {
			fmt.Fprintf(stdout, "%s\n", line)
		} else {
			tw.row(res)
		}
	}
	if o.format == "table" {
		tw.footer(o)
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "strata: bench nexmark: %d queries failed or gave a wrong result\n", failed)
		return exitError{1}
	}
	return ctx.Err()
}

// benchChild runs one query in a child process and returns its result; a
// child that dies (a crash, out of memory) is reported as the query's error.
func benchChild(ctx context.Context, exe string, o benchOpts, q string, stderr io.Writer) benchResult {
	args := []string{"bench", "nexmark", "--child", "--queries", q,
		"--events", strconv.FormatInt(o.events, 10), "--rate", strconv.FormatInt(o.rate, 10),
		"--seed", strconv.FormatInt(o.seed, 10), "--max-state-keys", strconv.Itoa(o.maxStateKeys),
		"--check=" + strconv.FormatBool(o.check), "--cpuprofile=" + strconv.FormatBool(o.cpuProfile),
		"-v=" + strconv.FormatBool(o.verbose)}
	if o.out != "" {
		args = append(args, "--out", o.out)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var out bytes.Buffer
	tail := &tailBuffer{max: 4 << 10}
	cmd.Stdout = &out
	cmd.Stderr = tail
	if o.verbose {
		cmd.Stderr = io.MultiWriter(tail, stderr)
	}
	err := cmd.Run()
	var res benchResult
	last := bytes.TrimSpace(out.Bytes())
	if i := bytes.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	if jerr := json.Unmarshal(last, &res); jerr != nil || res.Query == "" {
		res = benchResult{Query: q, Events: o.events, Rate: o.rate}
		msg := "no result"
		if err != nil {
			msg = err.Error()
		}
		res.Error = fmt.Sprintf("child process: %s: %s", msg, strings.TrimSpace(tail.String()))
	}
	return res
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

// benchOne measures one query in this process.
func benchOne(ctx context.Context, o benchOpts, name string, stderr io.Writer) benchResult {
	res := benchResult{Query: name, Events: o.events, Rate: o.rate}
	g, err := gen.NewGenerator(gen.WithSeed(uint64(o.seed)))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	if name == limitQuery {
		if err := benchLimit(ctx, o, g, &res); err != nil {
			res.Error = err.Error()
		}
		return res
	}
	q, ok := bench.Lookup(name)
	if !ok {
		res.Error = "unknown query"
		return res
	}
	if err := benchQuery(ctx, o, g, q, &res, stderr); err != nil {
		res.Error = err.Error()
	}
	return res
}

// benchLimit measures the sources alone: the three nexmark sources, with
// every column, proposing and generating the events [0, events) in the
// batches the engine would get, with no engine behind them.
func benchLimit(ctx context.Context, o benchOpts, g *gen.Generator, res *benchResult) error {
	mem := memory.NewGoAllocator()
	var srcs []core.Source
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	for _, t := range gen.Tables {
		s, err := connect.OpenSource(ctx, gen.Name, connect.SourceConfig{
			Name: t.String(), Alloc: mem, Columns: gen.Columns(t),
			Options: map[string]any{"table": t.String(), "events": o.events, "seed": o.seed},
		})
		if err != nil {
			return err
		}
		srcs = append(srcs, s)
	}
	var rows int64
	u0, t0, err := benchStartClock()
	if err != nil {
		return err
	}
	res.StartRSSBytes = u0.PeakRSS
	for _, s := range srcs {
		for {
			r, err := s.Next(ctx, 100_000)
			if err != nil {
				return err
			}
			if r.Empty() {
				break
			}
			if _, err := s.Read(ctx, r, func(b arrow.RecordBatch) error { rows += b.NumRows(); return nil }); err != nil {
				return err
			}
		}
	}
	if err := benchStopClock(res, u0, t0); err != nil {
		return err
	}
	if want := benchRows(g, o.events, nil); rows != want {
		return fmt.Errorf("generated %d rows, want %d", rows, want)
	}
	return nil
}

// benchRows returns the rows the sources of relations produce for the
// events [0, events); nil means the three tables.
func benchRows(g *gen.Generator, events int64, relations []string) int64 {
	if relations == nil {
		relations = []string{"person", "auction", "bid"}
	}
	var n int64
	for _, rel := range relations {
		if rel == bench.SideInput {
			n += bench.SideInputRows
			continue
		}
		if t, err := gen.ParseTable(rel); err == nil {
			n += g.Count(t, 0, events)
		}
	}
	return n
}

func benchStartClock() (bench.Usage, time.Time, error) {
	u, err := bench.ReadUsage()
	return u, time.Now(), err
}

// benchStopClock fills in the run's wall and CPU time, throughput and peak
// RSS.
func benchStopClock(res *benchResult, u0 bench.Usage, t0 time.Time) error {
	wall := time.Since(t0)
	u1, err := bench.ReadUsage()
	if err != nil {
		return err
	}
	cpu := u1.CPU - u0.CPU
	res.Seconds = wall.Seconds()
	res.CPUSeconds = cpu.Seconds()
	if res.Seconds > 0 {
		res.EventsPerSec = float64(res.Events) / res.Seconds
	}
	if res.CPUSeconds > 0 {
		res.EventsPerCPUSec = float64(res.Events) / res.CPUSeconds
	}
	res.PeakRSSBytes = u1.PeakRSS
	return nil
}

// benchQuery runs q over a fresh deployment, measures it and checks its
// result.
func benchQuery(ctx context.Context, o benchOpts, g *gen.Generator, q bench.Query, res *benchResult, stderr io.Writer) error {
	p, err := plans.Plan(q.SQL, plans.Catalog(bench.Relations()))
	if err != nil {
		var pe *plans.Error
		if errors.As(err, &pe) && q.Unsupported != "" {
			res.Unsupported = true
			if pe.Msg != q.Unsupported {
				return fmt.Errorf("unsupported: %s (the file says %q)", pe.Msg, q.Unsupported)
			}
			return fmt.Errorf("unsupported: %s", pe.Msg)
		}
		return err
	}
	if q.Unsupported != "" {
		return fmt.Errorf("%s.sql says unsupported (%s) but it plans now: remove its status line", q.Name, q.Unsupported)
	}
	inputs := p.Inputs()
	dir := ""
	if o.out != "" {
		dir = filepath.Join(o.out, q.Name)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	} else {
		if dir, err = os.MkdirTemp("", "strata-bench-"+q.Name+"-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	cfgPath, err := writeBenchDeployment(dir, o, q, inputs)
	if err != nil {
		return err
	}
	d, err := loadOrReport(cfgPath)
	if err != nil {
		return err
	}
	logOut := io.Discard
	if o.verbose {
		logOut = stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	mem := memory.NewGoAllocator()
	lat := &bench.Latencies{}
	var r *benchRunning
	r, err = d.startBench(ctx, mem, log, o.rate, func(core.Epoch) { r.epochDone(lat) })
	if err != nil {
		return err
	}
	defer r.Close()

	var prof *os.File
	if o.cpuProfile {
		if prof, err = os.Create(filepath.Join(o.out, q.Name+".cpu.pprof")); err != nil {
			return err
		}
		defer prof.Close()
		if err := pprof.StartCPUProfile(prof); err != nil {
			return err
		}
	}
	u0, t0, err := benchStartClock()
	if err != nil {
		return err
	}
	res.StartRSSBytes = u0.PeakRSS
	runErr := r.eng.Run(ctx, true)
	if err := benchStopClock(res, u0, t0); err != nil {
		return err
	}
	if prof != nil {
		pprof.StopCPUProfile()
	}
	if runErr != nil {
		return runErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if got, want := r.eng.Stats().RowsIn, benchRows(g, o.events, inputs); got != want {
		return fmt.Errorf("the engine stopped after reading %d rows of %d", got, want)
	}
	res.Epochs = int64(r.eng.Stats().Epoch)
	if o.rate > 0 && lat.Count() > 0 {
		p50, p99 := lat.Quantile(0.50).Seconds()*1000, lat.Quantile(0.99).Seconds()*1000
		res.P50ms, res.P99ms = &p50, &p99
	}
	if res.StateBytes, err = dirBytes(filepath.Join(dir, "data")); err != nil {
		return err
	}
	got, err := r.viewRows(ctx, q.Name)
	if err != nil {
		return err
	}
	res.ViewRows = int64(len(got))
	if err := r.Close(); err != nil {
		return err
	}
	if !o.check {
		return nil
	}
	oracle, err := bench.NewOracle(ctx, mem, g, o.events, inputs)
	if err != nil {
		return err
	}
	defer oracle.Close()
	want, err := oracle.Query(ctx, q.OracleSQL())
	if err != nil {
		return err
	}
	res.Diff = bench.Diff(got, want)
	ok := res.Diff == ""
	res.Correct = &ok
	return oracle.Close()
}

// writeBenchDeployment writes dir/strata.yaml: the sources the query reads
// (nexmark tables with all their columns; the side input as a table source
// over a JSON-lines file it writes too) and the query as the view q.Name,
// stored in DuckDB. `strata run -c dir/strata.yaml --until-idle` reproduces
// the run.
func writeBenchDeployment(dir string, o benchOpts, q bench.Query, inputs []string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# strata bench nexmark: %s over %d events (seed %d", q.Name, o.events, o.seed)
	if o.rate > 0 {
		fmt.Fprintf(&b, ", %d events/s", o.rate)
	}
	b.WriteString(")\ndata_dir: ./data\n")
	if o.maxStateKeys > 0 {
		fmt.Fprintf(&b, "engine: {max_state_keys: %d}\n", o.maxStateKeys)
	}
	b.WriteString("sources:\n")
	for _, rel := range inputs {
		if rel == bench.SideInput {
			if err := writeSideInput(filepath.Join(dir, "side_input.jsonl")); err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "  - name: %s\n    connector: file\n    options: {path: side_input.jsonl}\n    format: json\n    kind: table\n    primary_key: [key]\n", rel)
			writeSchema(&b, bench.SideInputColumns)
			continue
		}
		t, err := gen.ParseTable(rel)
		if err != nil {
			return "", fmt.Errorf("%s reads %q, which is neither a nexmark table nor the side input", q.Name, rel)
		}
		fmt.Fprintf(&b, "  - name: %s\n    connector: nexmark\n    options: {table: %s, events: %d, seed: %d", rel, t, o.events, o.seed)
		if o.rate > 0 {
			fmt.Fprintf(&b, ", rate: %d", o.rate)
		}
		b.WriteString("}\n")
		writeSchema(&b, gen.Columns(t))
		// The Flink suite's watermark: 4 seconds behind the event time.
		b.WriteString("    event_time: {column: date_time, watermark_delay: 4s}\n")
	}
	fmt.Fprintf(&b, "views:\n  - name: %s\n    storage: [duckdb]\n    sql: |\n", q.Name)
	for _, l := range strings.Split(q.SQL, "\n") {
		fmt.Fprintf(&b, "      %s\n", l)
	}
	path := filepath.Join(dir, "strata.yaml")
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

func writeSchema(b *strings.Builder, cols []core.Column) {
	b.WriteString("    schema:\n")
	for _, c := range cols {
		fmt.Fprintf(b, "      - {name: %s, type: %s}\n", c.Name, c.Type.Name)
	}
}

// writeSideInput writes the side input's rows, (i, 'i'), as JSON lines.
func writeSideInput(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range bench.SideInputRows {
		fmt.Fprintf(w, "{\"key\": %d, \"value\": \"%d\"}\n", i, i)
	}
	return errors.Join(w.Flush(), f.Close())
}

// dirBytes returns the size of the files under dir.
func dirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			info, err := e.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// benchRunning is a deployment wired for one benchmark run: what start
// builds for `strata run`, minus UDFs and servers, with the nexmark sources
// wrapped to see what each epoch reads.
type benchRunning struct {
	*running
	paced  []*pacedSource
	rate   int64
	closed bool
}

// pacedSource is a nexmark source that remembers the event ranges it
// proposes and when it was first asked: under a rate, event n falls due at
// that moment + (n+1)/rate.
type pacedSource struct {
	core.Source
	first        time.Time
	end, settled int64 // end of the proposals; end when the last epoch committed
}

func (s *pacedSource) Next(ctx context.Context, maxRows int) (core.Ranges, error) {
	if s.first.IsZero() {
		s.first = time.Now()
	}
	r, err := s.Source.Next(ctx, maxRows)
	if x, ok := r[gen.Partition]; ok && !x.Empty() {
		s.end = max64(s.end, x.To)
	}
	return r, err
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// due returns when event n fell due.
func (s *pacedSource) due(n, rate int64) time.Time {
	return s.first.Add(time.Duration(n+1) * time.Second / time.Duration(rate))
}

// epochDone records the latency of the events the committed epoch read:
// from when each fell due to now.
func (r *benchRunning) epochDone(lat *bench.Latencies) {
	if r.rate <= 0 {
		return
	}
	now := time.Now()
	var lo, hi time.Duration
	var n int64
	for _, s := range r.paced {
		if s.end == s.settled {
			continue
		}
		newest, oldest := now.Sub(s.due(s.end-1, r.rate)), now.Sub(s.due(s.settled, r.rate))
		if n == 0 {
			lo, hi = newest, oldest
		}
		lo, hi = min(lo, newest), max(hi, oldest)
		n = max64(n, s.end-s.settled)
		s.settled = s.end
	}
	lat.Add(lo, hi, n)
}

// startBench starts the deployment as `strata run` does, with each
// nexmark source wrapped to see what it proposes, calling onEpoch after
// every committed epoch.
func (d *deployment) startBench(ctx context.Context, mem memory.Allocator, log *slog.Logger, rate int64, onEpoch func(core.Epoch)) (*benchRunning, error) {
	b := &benchRunning{rate: rate}
	d.wrapSource = func(s config.Source, src core.Source) core.Source {
		if s.Connector != gen.Name {
			return src
		}
		ps := &pacedSource{Source: src}
		b.paced = append(b.paced, ps)
		return ps
	}
	r, err := d.start(ctx, mem, log, onEpoch, nil)
	if err != nil {
		return nil, err
	}
	b.running = r
	return b, nil
}

// viewRows reads the view's final content from DuckDB.
func (r *benchRunning) viewRows(ctx context.Context, view string) ([]bench.Row, error) {
	q, ok := r.backends["duckdb"].(core.Querier)
	if !ok {
		return nil, errors.New("the duckdb backend does not answer SQL")
	}
	rd, _, err := q.Query(ctx, "SELECT * FROM "+view)
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	return bench.ReadRows(rd)
}

// Close closes the engine, the sources and the backends. It is idempotent.
func (r *benchRunning) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.running.Close()
}

// benchTable renders results as an aligned table, a row as each arrives.
type benchTable struct{ w io.Writer }

func newBenchTable(w io.Writer) *benchTable { return &benchTable{w: w} }

const benchRowFormat = "%-6s %12s %13s %8s %8s %8s %8s %9s %9s %9s  %s\n"

func (t *benchTable) header(o benchOpts) {
	rate := "flat out"
	if o.rate > 0 {
		rate = fmt.Sprintf("at %s events/s", thousands(float64(o.rate)))
	}
	fmt.Fprintf(t.w, "nexmark: %s events, seed %d, %s\n", thousands(float64(o.events)), o.seed, rate)
	fmt.Fprintf(t.w, benchRowFormat, "query", "events/s", "events/CPU-s", "wall s", "CPU s", "p50 ms", "p99 ms", "peak RSS", "on disk", "rows", "correct")
}

func (t *benchTable) row(r benchResult) {
	if r.Error != "" && r.Seconds == 0 {
		fmt.Fprintf(t.w, "%-6s %s\n", r.Query, oneLine(r.Error))
		return
	}
	ms := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', 1, 64)
	}
	correct := "-"
	switch {
	case r.Error != "":
		correct = "error: " + oneLine(r.Error)
	case r.Correct != nil && *r.Correct:
		correct = "yes"
	case r.Correct != nil:
		correct = "NO: " + oneLine(r.Diff)
	}
	rows := strconv.FormatInt(r.ViewRows, 10)
	disk := mib(r.StateBytes)
	if r.Query == limitQuery {
		rows, disk = "-", "-"
	}
	fmt.Fprintf(t.w, benchRowFormat, r.Query, thousands(r.EventsPerSec), thousands(r.EventsPerCPUSec),
		strconv.FormatFloat(r.Seconds, 'f', 2, 64), strconv.FormatFloat(r.CPUSeconds, 'f', 2, 64),
		ms(r.P50ms), ms(r.P99ms), mib(r.PeakRSSBytes), disk, rows, correct)
}

func (t *benchTable) footer(o benchOpts) {
	fmt.Fprintln(t.w, "events/s: the stream's events (persons, auctions, bids) over the wall time of the run; events/CPU-s: over the process's CPU time.")
	if o.rate == 0 {
		fmt.Fprintln(t.w, "p50/p99: event-to-view latency is measured only at a fixed rate (--rate R); flat out, every event waits for the whole backlog.")
	} else {
		fmt.Fprintln(t.w, "p50/p99: from when an event fell due at the rate to the commit of the epoch that read it.")
	}
	fmt.Fprintln(t.w, "limit: the three nexmark sources generating every column of the events, in the engine's batches, with no engine.")
	fmt.Fprintln(t.w, "correct: the view after the run equals DuckDB running the same query over the same events (a multiset; doubles within 1e-9).")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + "M" }

// thousands renders x rounded, with thousands separators.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
