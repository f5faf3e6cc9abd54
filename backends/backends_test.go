package backends_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/datadriven"

	"github.com/stratadb/strata/backends"
	_ "github.com/stratadb/strata/backends/all"
	"github.com/stratadb/strata/backends/duckdb"
	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
	"github.com/stratadb/strata/internal/testutil/pgtest"
)

// TestMain starts the Postgres server the postgres backend runs against.
func TestMain(m *testing.M) { pgtest.Main(m) }

// allBackends are the backends the shared scripts run against.
var allBackends = []string{"pebble", "duckdb", "postgres"}

// TestBackends runs every script in testdata/ against every backend. The
// expected output is the same for all of them, which is the point: the
// backends agree.
//
// Commands:
//
//	view name=V cols=c1:type,c2:type [key=(c1,...)]   EnsureView
//	apply epoch=N [view=V] [offsets=(src.part=from..to,...)] [batches=K]
//	  one row per line: [V:] weight value,value,...  (NULL; "quoted" Go strings)
//	dump view=V        every row, sorted, and the epoch read
//	lookup view=V key=(v1,...)
//	committed
//	reopen [readonly]  Close and Open again
//
// Errors print as "error: " and the message without the backend's prefix.
func TestBackends(t *testing.T) {
	for _, name := range allBackends {
		t.Run("backend="+name, func(t *testing.T) {
			datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
				if filepath.Ext(path) != "" {
					return // fuzz corpora and other data, not scripts
				}
				h := newHarness(t, name)
				defer h.close()
				datadriven.RunTest(t, path, h.run)
			})
		})
	}
}

type harness struct {
	t    *testing.T
	name string
	dir  string
	opts map[string]any // the backend's options: the postgres DSN
	mem  memory.Allocator
	b    core.Backend
	defs map[string]core.ViewDef
}

func newHarness(t *testing.T, name string) *harness {
	h := &harness{t: t, name: name, dir: filepath.Join(t.TempDir(), name), mem: testutil.Alloc(t), defs: map[string]core.ViewDef{}}
	h.opts = backendOptions(t, name)
	h.open(false)
	return h
}

func (h *harness) open(readOnly bool) {
	b, err := backends.Open(context.Background(), h.name, backends.Config{Dir: h.dir, ReadOnly: readOnly, Alloc: h.mem, Options: h.opts})
	if errors.Is(err, duckdb.ErrUnavailable) {
		testutil.SkipOrFail(h.t, err.Error())
	}
	if err != nil {
		h.t.Fatal(err)
	}
	h.b = b
}

// backendOptions returns what backend name needs to open in a test: for
// postgres, a database of the test's own on the test server.
func backendOptions(t testing.TB, name string) map[string]any {
	if name == "postgres" {
		return map[string]any{"dsn": pgtest.DSN(t)}
	}
	return nil
}

func (h *harness) close() {
	if h.b != nil {
		if err := h.b.Close(); err != nil {
			h.t.Error(err)
		}
		h.b = nil
	}
}

// errText renders err the same way for every backend.
func (h *harness) errText(err error) string {
	msg := strings.ReplaceAll(err.Error(), h.name+": ", "")
	msg = strings.ReplaceAll(msg, h.dir, "$DIR")
	return "error: " + msg + "\n"
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	ctx := context.Background()
	switch d.Cmd {
	case "view":
		def := core.ViewDef{}
		d.ScanArgs(t, "name", &def.Name)
		for _, c := range listArg(d, "cols") {
			n, tn, _ := strings.Cut(c, ":")
			typ, err := core.ParseType(tn)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			def.Columns = append(def.Columns, core.Column{Name: n, Type: typ})
		}
		def.Key = listArg(d, "key")
		if err := h.b.EnsureView(ctx, def); err != nil {
			return h.errText(err)
		}
		h.defs[def.Name] = def
		return "ok\n"

	case "apply":
		var epoch uint64
		d.ScanArgs(t, "epoch", &epoch)
		ch := &core.EpochChanges{Epoch: core.Epoch(epoch), Offsets: h.offsets(t, d), Changes: map[string][]arrow.RecordBatch{}}
		var view string
		if d.HasArg("view") {
			d.ScanArgs(t, "view", &view)
		}
		nb := 1
		if d.HasArg("batches") {
			d.ScanArgs(t, "batches", &nb)
		}
		batches, err := h.batches(view, d.Input, nb)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		for v, bs := range batches {
			ch.Changes[v] = bs
		}
		err = h.b.Apply(ctx, ch)
		for _, bs := range batches {
			for _, b := range bs {
				b.Release()
			}
		}
		if err != nil {
			return h.errText(err)
		}
		return "ok\n"

	case "dump":
		var view string
		d.ScanArgs(t, "view", &view)
		rows, epoch, err := h.dump(ctx, view)
		if err != nil {
			return h.errText(err)
		}
		lines := make([]string, len(rows))
		for i, r := range rows {
			lines[i] = formatRow(r)
		}
		slices.Sort(lines)
		if len(lines) == 0 {
			lines = []string{"(empty)"}
		}
		return strings.Join(lines, "\n") + fmt.Sprintf("\nepoch=%d\n", epoch)

	case "lookup":
		var view string
		d.ScanArgs(t, "view", &view)
		key := listArg(d, "key")
		k := make([]any, len(key))
		for i, s := range key {
			if s != "NULL" {
				k[i] = s
			}
		}
		kl, ok := h.b.(core.KeyLookup)
		if !ok {
			d.Fatalf(t, "%s does not implement core.KeyLookup", h.name)
		}
		row, found, epoch, err := kl.Lookup(ctx, view, k)
		if err != nil {
			return h.errText(err)
		}
		if !found {
			return fmt.Sprintf("not found\nepoch=%d\n", epoch)
		}
		return fmt.Sprintf("%s\nepoch=%d\n", formatRow(row), epoch)

	case "committed":
		e, off, err := h.b.Committed(ctx)
		if err != nil {
			return h.errText(err)
		}
		o := "none"
		if off != nil {
			o = string(off.Marshal())
		}
		return fmt.Sprintf("epoch=%d offsets=%s\n", e, o)

	case "reopen":
		h.close()
		h.open(d.HasArg("readonly"))
		return "ok\n"
	}
	d.Fatalf(t, "unknown command %q", d.Cmd)
	return ""
}

// listArg returns the comma-separated values of argument key: k=a,b and
// k=(a,b) alike.
func listArg(d *datadriven.TestData, key string) []string {
	var out []string
	for _, a := range d.CmdArgs {
		if a.Key == key {
			for _, v := range a.Vals {
				out = append(out, strings.Split(v, ",")...)
			}
		}
	}
	return out
}

// offsets parses offsets=(src.part=from..to,...).
func (h *harness) offsets(t *testing.T, d *datadriven.TestData) core.Offsets {
	off := core.Offsets{}
	if !d.HasArg("offsets") {
		return off
	}
	for _, s := range listArg(d, "offsets") {
		sp, rng, ok1 := strings.Cut(s, "=")
		src, part, ok2 := strings.Cut(sp, ".")
		from, to, ok3 := strings.Cut(rng, "..")
		f, err1 := strconv.ParseInt(from, 10, 64)
		e, err2 := strconv.ParseInt(to, 10, 64)
		if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
			d.Fatalf(t, "bad offsets %q, want src.part=from..to", s)
		}
		if off[src] == nil {
			off[src] = core.Ranges{}
		}
		off[src][part] = core.Range{From: f, To: e}
	}
	return off
}

// batches builds each view's changelog batches from the rows of input,
// splitting each view's rows into nb batches of consecutive rows.
func (h *harness) batches(defView, input string, nb int) (map[string][]arrow.RecordBatch, error) {
	type row struct {
		w    int64
		vals []string
	}
	rows := map[string][]row{}
	var order []string
	for _, line := range strings.Split(input, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		view := defView
		if v, rest, ok := strings.Cut(line, ": "); ok && !strings.ContainsAny(v, " ,\"") {
			view, line = v, rest
		}
		ws, vs, _ := strings.Cut(line, " ")
		w, err := strconv.ParseInt(ws, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad weight in %q: %w", line, err)
		}
		vals, err := splitValues(vs)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
		if _, ok := rows[view]; !ok {
			order = append(order, view)
		}
		rows[view] = append(rows[view], row{w, vals})
	}
	out := map[string][]arrow.RecordBatch{}
	release := func() {
		for _, bs := range out {
			for _, b := range bs {
				b.Release()
			}
		}
	}
	for _, view := range order {
		def, ok := h.defs[view]
		if !ok {
			// A view the test did not define here: build the batch from the
			// values as varchar, so the backend reports what it thinks.
			def = core.ViewDef{Name: view}
			for i := range rows[view][0].vals {
				def.Columns = append(def.Columns, core.Column{Name: fmt.Sprintf("c%d", i), Type: core.Varchar})
			}
		}
		rs := rows[view]
		per := (len(rs) + nb - 1) / nb
		for start := 0; start < len(rs); start += per {
			end := min(start+per, len(rs))
			bld := array.NewRecordBuilder(h.mem, schema.ChangelogSchema(def))
			for _, r := range rs[start:end] {
				if len(r.vals) != len(def.Columns) {
					bld.Release()
					release()
					return nil, fmt.Errorf("view %s: %d values, want %d", view, len(r.vals), len(def.Columns))
				}
				for i, c := range def.Columns {
					var v any
					if r.vals[i] != "NULL" {
						v = r.vals[i]
					}
					x, err := schema.Coerce(c.Type, v)
					if err != nil {
						bld.Release()
						release()
						return nil, err
					}
					core.AppendValue(bld.Field(i), x)
				}
				bld.Field(len(def.Columns)).(*array.Int64Builder).Append(r.w)
			}
			out[view] = append(out[view], bld.NewRecordBatch())
			bld.Release()
		}
	}
	return out, nil
}

// splitValues splits a,b,"c,d" into values; quoted values are Go strings.
func splitValues(s string) ([]string, error) {
	var out []string
	for {
		if strings.HasPrefix(s, `"`) {
			end := 1
			for ; end < len(s); end++ {
				if s[end] == '\\' {
					end++
				} else if s[end] == '"' {
					break
				}
			}
			if end >= len(s) {
				return nil, fmt.Errorf("unterminated string")
			}
			v, err := strconv.Unquote(s[:end+1])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			s = s[end+1:]
			if s == "" {
				return out, nil
			}
			if s[0] != ',' {
				return nil, fmt.Errorf("want , after a quoted value")
			}
			s = s[1:]
			continue
		}
		v, rest, more := strings.Cut(s, ",")
		out = append(out, v)
		if !more {
			return out, nil
		}
		s = rest
	}
}

// scanner is the Pebble backend's prefix scan.
type scanner interface {
	Scan(ctx context.Context, view string, prefix []any, fn func(row []any) error) (core.Epoch, error)
}

// dump reads every row of view with the backend's own read path.
func (h *harness) dump(ctx context.Context, view string) ([][]any, core.Epoch, error) {
	var rows [][]any
	switch b := h.b.(type) {
	case scanner:
		e, err := b.Scan(ctx, view, nil, func(r []any) error {
			rows = append(rows, r)
			return nil
		})
		return rows, e, err
	case core.Querier:
		rdr, e, err := b.Query(ctx, "SELECT * FROM "+strconv.Quote(view))
		if err != nil {
			return nil, 0, err
		}
		defer rdr.Release()
		for rdr.Next() {
			rec := rdr.RecordBatch()
			for i := 0; i < int(rec.NumRows()); i++ {
				r := make([]any, rec.NumCols())
				for c := range r {
					r[c] = core.ValueAt(rec.Column(c), i)
					if s, ok := r[c].(string); ok {
						r[c] = strings.Clone(s) // ValueAt aliases the (C) buffer
					}
				}
				rows = append(rows, r)
			}
		}
		return rows, e, rdr.Err()
	}
	return nil, 0, fmt.Errorf("%s can neither scan nor query", h.name)
}

func formatRow(r []any) string {
	parts := make([]string, len(r))
	for i, v := range r {
		switch x := v.(type) {
		case string:
			parts[i] = strconv.Quote(x)
		case float64:
			parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			parts[i] = core.FormatValue(v)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
