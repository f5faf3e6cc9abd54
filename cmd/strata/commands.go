package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/config"
)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("validate", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := load(*cfgPath)
	var problems config.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.Error())
		}
		fmt.Fprintf(stdout, "%d problem(s) in %s\n", len(problems), *cfgPath)
		return exitError{1}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d sources, %d views)\n", *cfgPath, len(d.cfg.Sources), len(d.cfg.Views))
	return nil
}

// loadOrReport loads a deployment and turns problems into one error.
func loadOrReport(path string) (*deployment, error) {
	d, err := load(path)
	if err != nil {
		var problems config.Problems
		if errors.As(err, &problems) {
			return nil, fmt.Errorf("%s has %d problem(s):\n%v\n(run strata validate -c %s)", path, len(problems), problems, path)
		}
		return nil, err
	}
	return d, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("run", stderr)
	untilIdle := fs.Bool("until-idle", false, "drain bounded sources, commit and exit")
	verbose := fs.Bool("v", false, "log every epoch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := loadOrReport(*cfgPath)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	mem := memory.NewGoAllocator()
	var epoch atomic.Uint64
	changes := newHub(64)
	r, err := d.start(ctx, mem, log, func(e core.Epoch) { epoch.Store(uint64(e)) }, changes.publish)
	if err != nil {
		return err
	}
	defer r.Close()
	if addr := d.cfg.Server.HTTP; addr != "" && !*untilIdle {
		srv := &server{d: d, backends: r.backends, epoch: func() core.Epoch { return core.Epoch(epoch.Load()) }, log: log,
			metrics: r.eng.Metrics, hub: changes}
		stop, err := srv.serve(ctx, addr)
		if err != nil {
			return err
		}
		defer stop()
	}
	stopPG, err := servePostgres(d, r.backends, *untilIdle, log)
	if err != nil {
		return err
	}
	defer stopPG()
	start := time.Now()
	if err := r.eng.Run(ctx, *untilIdle); err != nil {
		return err
	}
	st := r.eng.Stats()
	fmt.Fprintf(stdout, "strata: epoch %d committed; %d records read in %s; %d dead letters\n",
		st.Epoch, st.RowsIn, time.Since(start).Round(time.Millisecond), st.DeadLetters)
	if st.DeadLetters > 0 {
		fmt.Fprintf(stdout, "strata: see them with: strata query -c %s \"SELECT * FROM dead_letters\"\n", *cfgPath)
	}
	return r.Close()
}

// serverURL returns the base URL of the running server, or "" when none
// answers.
func serverURL(d *deployment) string {
	addr := d.cfg.Server.HTTP
	if addr == "" {
		return ""
	}
	base := "http://" + addr
	c := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := c.Get(base + "/healthz")
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return base
}

// errNoRow: the server has no row with the requested key.
var errNoRow = errors.New("no such row")

func remote(ctx context.Context, method, u string, body []byte) (*result, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var raw struct {
		Error   string          `json:"error"`
		Epoch   core.Epoch      `json:"epoch"`
		Columns []resultCol     `json:"columns"`
		Rows    [][]any         `json:"rows"`
		Row     json.RawMessage `json:"row"`
		NoRow   bool            `json:"no_row"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, resp.StatusCode, fmt.Errorf("server answered %s with unreadable JSON: %w", resp.Status, err)
	}
	if raw.NoRow {
		return &result{Epoch: raw.Epoch}, resp.StatusCode, fmt.Errorf("%w: %s", errNoRow, raw.Error)
	}
	if raw.Error != "" {
		return &result{Epoch: raw.Epoch}, resp.StatusCode, errors.New(raw.Error)
	}
	res := &result{Epoch: raw.Epoch, Columns: raw.Columns, Rows: raw.Rows}
	if len(raw.Row) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw.Row))
		d.UseNumber()
		var obj map[string]any
		if err := d.Decode(&obj); err != nil {
			return nil, resp.StatusCode, err
		}
		row := make([]any, len(res.Columns))
		for i, c := range res.Columns {
			row[i] = obj[c.Name]
		}
		res.Rows = [][]any{row}
	}
	return res, resp.StatusCode, nil
}

func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("query", stderr)
	format := fs.String("format", "table", "output format: table, json or csv")
	minEpoch, timeout := epochFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("query takes one SQL string, e.g. strata query -c %s \"SELECT * FROM my_view\"", *cfgPath)
	}
	d, err := loadOrReport(*cfgPath)
	if err != nil {
		return err
	}
	var res *result
	if base := serverURL(d); base != "" {
		body, _ := json.Marshal(map[string]string{"sql": pos[0]})
		res, _, err = remote(ctx, http.MethodPost, base+"/v1/sql"+epochQuery(*minEpoch, *timeout), body)
	} else {
		if err := waitLocal(ctx, d, *minEpoch, *timeout, "duckdb"); err != nil {
			return err
		}
		res, err = localQuery(ctx, d, pos[0])
	}
	if err != nil {
		return err
	}
	return render(stdout, res, *format)
}

func localQuery(ctx context.Context, d *deployment, q string) (*result, error) {
	if _, err := os.Stat(d.backendDir("duckdb")); err != nil {
		return nil, fmt.Errorf("no data in %s yet: run strata run -c %s first", d.cfg.DataDir, d.cfg.File)
	}
	bs, err := d.openBackendsNamed(ctx, true, "duckdb")
	if err != nil {
		return nil, err
	}
	defer closeAll(bs)
	if len(d.udfs.fns) > 0 {
		if err := d.udfs.open(ctx, d.cfg.DataDir); err != nil {
			return nil, err
		}
		defer d.udfs.Close()
		for _, b := range bs {
			if err := d.udfs.register(ctx, b); err != nil {
				return nil, err
			}
		}
	}
	return querySQL(ctx, bs, q)
}

func (d *deployment) openBackendsNamed(ctx context.Context, readOnly bool, names ...string) (map[string]core.Backend, error) {
	all := d.storages()
	var want []string
	for _, n := range all {
		for _, m := range names {
			if n == m {
				want = append(want, n)
			}
		}
	}
	out := map[string]core.Backend{}
	for _, name := range want {
		bs, err := d.openOne(ctx, name, readOnly)
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out[name] = bs
	}
	return out, nil
}

func cmdGet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("get", stderr)
	format := fs.String("format", "table", "output format: table, json or csv")
	minEpoch, timeout := epochFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return fmt.Errorf("get takes a view and its key, e.g. strata get -c %s my_view 42", *cfgPath)
	}
	d, err := loadOrReport(*cfgPath)
	if err != nil {
		return err
	}
	view, key := pos[0], pos[1:]
	var res *result
	if base := serverURL(d); base != "" {
		parts := make([]string, len(key))
		for i, k := range key {
			parts[i] = url.PathEscape(k)
		}
		res, _, err = remote(ctx, http.MethodGet, base+"/v1/views/"+url.PathEscape(view)+"/rows/"+strings.Join(parts, "/")+epochQuery(*minEpoch, *timeout), nil)
		if errors.Is(err, errNoRow) {
			fmt.Fprintf(stderr, "strata: %v (epoch %d)\n", err, res.Epoch)
			return exitError{1}
		}
	} else {
		if err := waitLocal(ctx, d, *minEpoch, *timeout, d.lookupStorage(view)...); err != nil {
			return err
		}
		var bs map[string]core.Backend
		bs, err = d.openBackendsNamed(ctx, true, d.lookupStorage(view)...)
		if err != nil {
			return err
		}
		defer closeAll(bs)
		var found bool
		res, found, err = lookup(ctx, d, bs, view, key)
		if err == nil && !found {
			fmt.Fprintf(stderr, "strata: view %s has no row with key %s (epoch %d)\n", view, strings.Join(key, ", "), res.Epoch)
			return exitError{1}
		}
	}
	if err != nil {
		return err
	}
	return render(stdout, res, *format)
}

func cmdExplain(args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("explain", stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	d, err := loadOrReport(*cfgPath)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("explain takes one view name (views: %s)", strings.Join(d.viewNames(), ", "))
	}
	p, ok := d.plans[pos[0]]
	if !ok {
		return fmt.Errorf("unknown view %q (views: %s)", pos[0], strings.Join(d.viewNames(), ", "))
	}
	cols := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		cols[i] = c.Name + " " + c.Type.Name
	}
	fmt.Fprintf(stdout, "view %s (%s)", pos[0], strings.Join(cols, ", "))
	if len(p.Key) > 0 {
		fmt.Fprintf(stdout, " key (%s)", strings.Join(p.Key, ", "))
	}
	fmt.Fprintf(stdout, "\n%s", p.Explain())
	return nil
}

// lookupStorage names the backend a local `get` opens for view: Pebble when
// the view is stored there, else the view's first backend.
func (d *deployment) lookupStorage(view string) []string {
	for _, v := range d.cfg.Views {
		if v.Name == view {
			if slices.Contains(v.Storage, "pebble") {
				return []string{"pebble"}
			}
			return v.Storage
		}
	}
	return []string{"pebble"}
}

// epochFlags declares --min-epoch and --timeout, the read-your-writes wait
// of strata get and strata query.
func epochFlags(fs *flag.FlagSet) (minEpoch *uint64, timeout *time.Duration) {
	minEpoch = fs.Uint64("min-epoch", 0, "answer only once this epoch is committed (0: answer now)")
	timeout = fs.Duration("timeout", defaultMinWait, "how long --min-epoch waits before failing")
	return minEpoch, timeout
}

// epochQuery renders --min-epoch and --timeout as the server's ?min_epoch=
// and ?timeout= (server_range.go).
func epochQuery(minEpoch uint64, timeout time.Duration) string {
	if minEpoch == 0 {
		return ""
	}
	return fmt.Sprintf("?min_epoch=%d&timeout=%s", minEpoch, url.QueryEscape(timeout.String()))
}

// waitLocal waits, without a server, until every named backend of d has
// committed minEpoch, or timeout passes. A read-only open sees the state as
// of the open, so each try opens the backends afresh.
func waitLocal(ctx context.Context, d *deployment, minEpoch uint64, timeout time.Duration, names ...string) error {
	if minEpoch == 0 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		// Opening the backends is not bounded by the wait: a slow open on
		// a busy machine must not turn "not committed yet" into an error.
		committed, err := committedLocal(context.WithoutCancel(ctx), d, names)
		if err != nil {
			return err
		}
		if committed < core.Epoch(minEpoch) && time.Now().After(deadline) {
			return fmt.Errorf("epoch %d not committed within %v (committed: %d): %w", minEpoch, timeout, committed, context.DeadlineExceeded)
		}
		if committed >= core.Epoch(minEpoch) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("epoch %d not committed within %v (committed: %d): %w", minEpoch, timeout, committed, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// committedLocal is the lowest epoch the named backends have committed: the
// latest one all of them can answer at.
func committedLocal(ctx context.Context, d *deployment, names []string) (core.Epoch, error) {
	for _, n := range names {
		if _, err := os.Stat(d.backendDir(n)); err != nil {
			return 0, nil // nothing committed yet
		}
	}
	bs, err := d.openBackendsNamed(ctx, true, names...)
	if err != nil {
		return 0, err
	}
	defer closeAll(bs)
	var low core.Epoch
	first := true
	for name, b := range bs {
		e, _, err := b.Committed(ctx)
		if err != nil {
			return 0, fmt.Errorf("read %s's committed epoch: %w", name, err)
		}
		if first || e < low {
			low, first = e, false
		}
	}
	return low, nil
}
