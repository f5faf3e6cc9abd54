package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/postgres"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil/kafkatest"
	"github.com/stratadb/strata/internal/testutil/pgtest"
)

var (
	crashKills = flag.Int("crash.kills", 5, "kill -9 moments of TestCrashKill9 (the full form: -crash.full)")
	crashFull  = flag.Bool("crash.full", false, "run TestCrashKill9 in its full form: 25 kills")
	crashSeed  = flag.Uint64("crash.seed", 0, "seed of TestCrashKill9's kill moments and events (0: from the clock)")
)

// strataBinary builds bin/strata (with DuckDB) once per test binary, into a
// temporary directory: the checkout's bin/ belongs to `make build`.
var strataBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "strata-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "strata")
	out, err := exec.Command("go", "build", "-tags", "duckdb_arrow,pgquery_cgo", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/strata: %w\n%s", err, out)
	}
	return bin, nil
})

// crashStorages are the backends every view of the crash test lives in.
var crashStorages = []string{"pebble", "duckdb", "postgres"}

// TestCrashKill9 runs the real binary, `strata run`, over a Kafka topic
// that a producer keeps filling, and kills it with SIGKILL at random
// moments — while it starts, recovers, applies and commits — restarting it
// each time. A last run drains the topic; then every view in every backend
// (Pebble, DuckDB, Postgres) must equal the result computed from the
// produced events exactly (nothing lost, nothing twice), every backend must
// have committed the same last epoch with the same offsets, and the
// committed epochs must have advanced across the kills.
//
// The default form kills 5 times; -crash.full 25 times; -crash.kills=N.
func TestCrashKill9(t *testing.T) {
	addr := kafkatest.Addr(t)
	dsn := pgtest.DSN(t)
	bin, err := strataBinary()
	if err != nil {
		t.Fatal(err)
	}
	kills := *crashKills
	if *crashFull {
		kills = max(kills, 25)
	}
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash.seed=%d), %d kills", seed, seed, kills)
	rng := rand.New(rand.NewPCG(seed, 0))

	topic := fmt.Sprintf("crash_%d", time.Now().UnixNano())
	kafkatest.CreateTopic(t, topic, 3)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	storage := "[" + strings.Join(crashStorages, ", ") + "]"
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: ./state
engine: {epoch_interval: 20ms, max_epoch_rows: 300}
sources:
  - name: events
    connector: kafka
    options: {brokers: ["%s"], topic: %s, poll_wait: 20ms}
    format: json
    schema: [{name: id, type: bigint}, {name: user_id, type: varchar}, {name: amount, type: bigint}]
views:
  - name: per_user
    sql: SELECT user_id, count(*) AS n, sum(amount) AS total, max(amount) AS top FROM events GROUP BY user_id
    storage: %s
  - name: big
    sql: SELECT id, user_id, amount * 10 AS amount10 FROM events WHERE amount > 80
    storage: %s
`, addr, topic, storage, storage))
	env := append(os.Environ(), postgres.EnvDSN+"="+dsn)

	// The producer writes events continuously until stopped; it keeps what
	// the broker acknowledged.
	prod := newCrashProducer(t, addr, topic, seed)
	prodCtx, stopProd := context.WithCancel(context.Background())
	prodDone := make(chan error, 1)
	go func() { prodDone <- prod.run(prodCtx) }()
	stopProducer := func() {
		if stopProd != nil {
			stopProd()
			if err := <-prodDone; err != nil {
				t.Fatalf("producer: %v", err)
			}
			stopProd = nil
		}
	}
	defer stopProducer()

	committed := map[string][]core.Epoch{}
	phases := map[string]int{}
	// sessions counts the Postgres sessions of the binary: it opens its
	// backends (Pebble, DuckDB, then Postgres) right before recovery.
	pg, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	sessions := func() int {
		var n int
		if err := pg.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 0; i < kills; i++ {
		var stderr syncBuffer
		cmd := exec.Command(bin, "run", "-c", cfg)
		cmd.Env, cmd.Stderr, cmd.Stdout = env, &stderr, &stderr
		t0 := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Start-up (planning, opening backends) takes seconds on a busy
		// machine, so kill moments are timed from what the process does: a
		// third of the kills come within 80 ms of it opening the backends
		// (EnsureView, the Postgres writer lock, recovery and its replay);
		// the rest within 2 s after recovery ended, while epochs are
		// applied and committed.
		during := rng.IntN(3) == 0
		waitUntil(t, 60*time.Second, "strata to open its backends", func() bool { return sessions() > 0 })
		if !during && i > 0 {
			waitUntil(t, 60*time.Second, "strata to recover", func() bool { return strings.Contains(stderr.String(), "msg=recovered") })
		}
		wait := time.Duration(rng.IntN(80)) * time.Millisecond
		if !during {
			wait = time.Duration(rng.IntN(2000)) * time.Millisecond
		}
		time.Sleep(wait)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		werr := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(werr, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			// It exited on its own before the kill: that is a failure.
			t.Fatalf("kill %d: strata exited before SIGKILL (%v):\n%s", i, werr, stderr.String())
		}
		// The server ends the dead process's sessions (rolling back an open
		// transaction) once it notices; the next writer waits for that.
		waitUntil(t, 30*time.Second, "the killed process's Postgres sessions to end", func() bool { return sessions() == 0 })
		var line string
		advanced := false
		for _, name := range crashStorages {
			e := readCommitted(t, dir, name, dsn)
			if prev := committed[name]; len(prev) > 0 && e < prev[len(prev)-1] {
				t.Errorf("%s: committed epoch went back from %d to %d", name, prev[len(prev)-1], e)
			} else if len(prev) == 0 && e > 0 || len(prev) > 0 && e > prev[len(prev)-1] {
				advanced = true
			}
			committed[name] = append(committed[name], e)
			line += fmt.Sprintf(" %s=%d", name, e)
		}
		phase := killPhase(stderr.String(), i > 0, advanced)
		if n := len(committed[crashStorages[0]]); advanced && (committed["pebble"][n-1] != committed["duckdb"][n-1] || committed["duckdb"][n-1] != committed["postgres"][n-1]) {
			phase = "between two backends' commits"
		}
		phases[phase]++
		t.Logf("kill %2d at %5dms (+%4dms): %-38s committed%s", i+1, time.Since(t0).Milliseconds(), wait.Milliseconds(), phase, line)
	}

	t.Logf("kills by phase: %v", phases)

	// The last run drains the topic and stops; it must not need a kill.
	stopProducer()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "--until-idle", "-c", cfg)
	cmd.Env, cmd.Stderr, cmd.Stdout = env, &stderr, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("final run: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		t.Fatalf("final run did not finish:\n%s", stderr.String())
	}
	t.Logf("final run: %s", lastLine(stderr.String(), "epoch"))

	// Every view in every backend equals the truth.
	want := prod.expected()
	t.Logf("%d events produced; per_user has %d rows, big %d", prod.count(), len(want["per_user"]), len(want["big"]))
	var epochs []string
	for _, name := range crashStorages {
		b := openReadOnly(t, dir, name, dsn)
		for _, view := range []string{"per_user", "big"} {
			got, _, err := dumpRows(context.Background(), b, view)
			if err != nil {
				t.Fatalf("%s: read %s: %v", name, view, err)
			}
			if !slices.Equal(got, want[view]) {
				t.Errorf("%s: view %s differs from the produced events:\n%s", name, view, diffRows(got, want[view]))
			}
		}
		e, off, err := b.Committed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		epochs = append(epochs, fmt.Sprintf("%d %s", e, off.Marshal()))
		b.Close()
		// The committed epoch advanced across the kills.
		if cs := committed[name]; e <= cs[0] || e < cs[len(cs)-1] {
			t.Errorf("%s: committed epochs after each kill %v, then %d: did not advance", name, cs, e)
		}
	}
	for i := 1; i < len(epochs); i++ {
		if epochs[i] != epochs[0] {
			t.Errorf("epoch rows differ: %s has %q, %s has %q", crashStorages[0], epochs[0], crashStorages[i], epochs[i])
		}
	}
	t.Logf("every backend at epoch %s", epochs[0])
}

// waitUntil polls cond every 5 ms until it holds, failing t after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// killPhase names what the run was doing when it was killed, from its log
// (recovery logs "recovered" when it ends) and whether a backend committed
// a new epoch.
func killPhase(log string, restarted, advanced bool) string {
	recovered := strings.Contains(log, "msg=recovered")
	switch {
	case restarted && !recovered:
		return "during recovery"
	case advanced:
		return "while applying and committing epochs"
	}
	return "after recovery, before a new commit"
}

func lastLine(s, containing string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], containing) {
			return lines[i]
		}
	}
	return ""
}

func openReadOnly(t *testing.T, dir, name, dsn string) core.Backend {
	t.Helper()
	var opts map[string]any
	if name == postgres.Name {
		opts = map[string]any{"dsn": dsn}
	}
	b, err := backends.Open(context.Background(), name, backends.Config{Dir: filepath.Join(dir, "state", name), ReadOnly: true, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readCommitted returns a backend's committed epoch, 0 when it has none yet
// (the first run may die before creating it).
func readCommitted(t *testing.T, dir, name, dsn string) core.Epoch {
	t.Helper()
	var opts map[string]any
	if name == postgres.Name {
		opts = map[string]any{"dsn": dsn}
	}
	b, err := backends.Open(context.Background(), name, backends.Config{Dir: filepath.Join(dir, "state", name), ReadOnly: true, Options: opts})
	if err != nil {
		return 0
	}
	defer b.Close()
	e, _, err := b.Committed(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

// dumpRows reads every row of view through the backend's own read path
// (Pebble and Postgres scans, DuckDB SQL), formatted and sorted.
func dumpRows(ctx context.Context, b core.Backend, view string) ([]string, core.Epoch, error) {
	var rows []string
	add := func(r []any) {
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = core.FormatValue(v)
		}
		rows = append(rows, strings.Join(parts, ","))
	}
	var e core.Epoch
	var err error
	switch x := b.(type) {
	case interface {
		Scan(ctx context.Context, view string, prefix []any, fn func(row []any) error) (core.Epoch, error)
	}:
		e, err = x.Scan(ctx, view, nil, func(r []any) error { add(r); return nil })
	case core.Querier:
		rdr, qe, qerr := x.Query(ctx, fmt.Sprintf("SELECT * FROM %q", view))
		if qerr != nil {
			return nil, 0, qerr
		}
		for rdr.Next() {
			rec := rdr.RecordBatch()
			for i := 0; i < int(rec.NumRows()); i++ {
				r := make([]any, rec.NumCols())
				for c := range r {
					r[c] = core.ValueAt(rec.Column(c), i)
				}
				add(r)
			}
		}
		err = rdr.Err()
		rdr.Release()
		e = qe
	default:
		err = fmt.Errorf("%s can neither scan nor query", b.Name())
	}
	slices.Sort(rows)
	return rows, e, err
}

func diffRows(got, want []string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d rows, want %d\n", len(got), len(want))
	g, w := map[string]int{}, map[string]int{}
	for _, r := range got {
		g[r]++
	}
	for _, r := range want {
		w[r]++
	}
	n := 0
	for r, c := range g {
		if w[r] != c && n < 10 {
			fmt.Fprintf(&sb, "  %q: %d times, want %d\n", r, c, w[r])
			n++
		}
	}
	for r, c := range w {
		if g[r] == 0 && n < 20 {
			fmt.Fprintf(&sb, "  %q: missing (want %d)\n", r, c)
			n++
		}
	}
	return sb.String()
}

// crashProducer writes events to the topic's 3 partitions and remembers
// the ones the broker acknowledged.
type crashProducer struct {
	cl   *kgo.Client
	rng  *rand.Rand
	mu   sync.Mutex
	sent []crashEvent
}

type crashEvent struct {
	id     int64
	user   string // "" is NULL
	amount int64
}

func newCrashProducer(t *testing.T, addr, topic string, seed uint64) *crashProducer {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerLinger(2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &crashProducer{cl: cl, rng: rand.New(rand.NewPCG(seed, 1))}
}

// run produces batches of 1 to 40 events every 5 ms until ctx is done.
func (p *crashProducer) run(ctx context.Context) error {
	id := int64(0)
	for ctx.Err() == nil {
		n := 1 + p.rng.IntN(40)
		evs := make([]crashEvent, n)
		recs := make([]*kgo.Record, n)
		for i := range evs {
			id++
			e := crashEvent{id: id, user: fmt.Sprintf("u%02d", p.rng.IntN(50)), amount: 1 + p.rng.Int64N(100)}
			user := `"` + e.user + `"`
			if p.rng.IntN(97) == 0 {
				e.user, user = "", "null" // a NULL group key
			}
			evs[i] = e
			recs[i] = &kgo.Record{Value: fmt.Appendf(nil, `{"id": %d, "user_id": %s, "amount": %d}`, e.id, user, e.amount)}
		}
		pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := p.cl.ProduceSync(pctx, recs...).FirstErr()
		cancel()
		if err != nil {
			return fmt.Errorf("produce %d events: %w", n, err)
		}
		p.mu.Lock()
		p.sent = append(p.sent, evs...)
		p.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (p *crashProducer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent)
}

// expected computes each view's rows, formatted like dumpRows, from the
// acknowledged events.
func (p *crashProducer) expected() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	type agg struct{ n, total, top int64 }
	per := map[string]*agg{}
	var big []string
	for _, e := range p.sent {
		a := per[e.user]
		if a == nil {
			a = &agg{}
			per[e.user] = a
		}
		a.n++
		a.total += e.amount
		a.top = max(a.top, e.amount)
		user := e.user
		if user == "" {
			user = "NULL"
		}
		if e.amount > 80 {
			big = append(big, fmt.Sprintf("%d,%s,%d", e.id, user, e.amount*10))
		}
	}
	var rows []string
	for u, a := range per {
		if u == "" {
			u = "NULL"
		}
		rows = append(rows, fmt.Sprintf("%s,%d,%d,%d", u, a.n, a.total, a.top))
	}
	slices.Sort(rows)
	slices.Sort(big)
	return map[string][]string{"per_user": rows, "big": big}
}
