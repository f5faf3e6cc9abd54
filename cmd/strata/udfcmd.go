package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/udf"
)

const udfUsage = `usage:
  strata udf new --lang go|c|as|rust NAME      scaffold a buildable UDF project in NAME/
  strata udf build DIR [-o OUT.wasm]           compile DIR and embed its manifest
  strata udf test MODULE FUNC --input ROWS.jsonl [--format table|json|csv]
                                               run FUNC over rows (one JSON array of arguments a line)
  strata udf inspect MODULE [--format text|json]
                                               print a module's manifest
  strata udf deploy -c FILE NAME [MODULE]      swap a new build of a running deployment's module in
`

func cmdUDF(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, udfUsage)
		return exitError{2}
	}
	switch args[0] {
	case "new":
		return udfNew(args[1:], stdout, stderr)
	case "build":
		return udfBuild(ctx, args[1:], stdout, stderr)
	case "test":
		return udfTest(ctx, args[1:], stdout, stderr)
	case "inspect":
		return udfInspect(args[1:], stdout, stderr)
	case "deploy":
		return udfDeploy(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "strata udf: unknown command %q\n\n%s", args[0], udfUsage)
	return exitError{2}
}

func udfNew(args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("udf new", stderr)
	lang := fs.String("lang", "go", "language: go, c, as (AssemblyScript) or rust")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("udf new takes one project name, e.g. strata udf new --lang rust myfuncs")
	}
	if err := udf.Scaffold(pos[0], *lang); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s/ (%s): edit it, then strata udf build %s\n", pos[0], *lang, pos[0])
	return nil
}

// buildOptions finds the toolchains: AssemblyScript's asc from
// $STRATA_ASC, the project's node_modules or PATH.
func buildOptions(dir string) udf.BuildOptions {
	var o udf.BuildOptions
	if asc := os.Getenv("STRATA_ASC"); asc != "" {
		o.ASC = asc
	} else if p := filepath.Join(dir, "node_modules", ".bin", "asc"); fileExists(p) {
		o.ASC = p
	} else if p, err := exec.LookPath("asc"); err == nil {
		o.ASC = p
	}
	return o
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func udfBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("udf build", stderr)
	out := fs.String("o", "", "output module (default DIR/NAME.wasm)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("udf build takes one project directory, e.g. strata udf build myfuncs")
	}
	dir := pos[0]
	if *out == "" {
		abs, _ := filepath.Abs(dir)
		*out = filepath.Join(dir, filepath.Base(abs)+".wasm")
	}
	start := time.Now()
	if err := udf.Build(ctx, dir, *out, buildOptions(dir)); err != nil {
		return err
	}
	wasm, err := os.ReadFile(*out)
	if err != nil {
		return err
	}
	man, err := udf.ReadManifest(wasm)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "built %s (%d bytes, %d functions) in %s\n", *out, len(wasm), len(man.Functions), time.Since(start).Round(time.Millisecond))
	return nil
}

func udfInspect(args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("udf inspect", stderr)
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("udf inspect takes one module, e.g. strata udf inspect myfuncs/myfuncs.wasm")
	}
	wasm, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	man, err := udf.ReadManifest(wasm)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(man)
	}
	fmt.Fprintf(stdout, "%s: abi %d, %d bytes\n", pos[0], man.ABI, len(wasm))
	for _, f := range man.Functions {
		det := "deterministic"
		if !f.Deterministic {
			det = "nondeterministic"
		}
		ret := f.Returns
		if f.Kind == udf.Table {
			ret = "setof " + ret
		}
		fmt.Fprintf(stdout, "  %-9s %s(%s) -> %s  [%s]\n", f.Kind, f.Name, strings.Join(f.Args, ", "), ret, det)
	}
	return nil
}

// udfTest runs one function of a module over rows read from a JSON-lines
// file: each line is a JSON array holding the arguments of one row.
func udfTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("udf test", stderr)
	input := fs.String("input", "", "JSON lines, one array of arguments per row (- for stdin)")
	format := fs.String("format", "table", "output format: table, json or csv")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *input == "" {
		return errors.New(`udf test takes a module, a function and --input, e.g. strata udf test fx.wasm double_it --input rows.jsonl (each line: [1.5])`)
	}
	h, err := udf.New(ctx)
	if err != nil {
		return err
	}
	defer h.Close(ctx)
	if _, err := h.LoadFile(ctx, filepath.Base(pos[0]), pos[0]); err != nil {
		return err
	}
	f, ok := h.Lookup(pos[1])
	if !ok {
		var names []string
		for _, f := range h.Functions() {
			names = append(names, f.Name)
		}
		return fmt.Errorf("%s has no function %q (it has %s)", pos[0], pos[1], strings.Join(names, ", "))
	}
	var r io.Reader = os.Stdin
	if *input != "-" {
		file, err := os.Open(*input)
		if err != nil {
			return err
		}
		defer file.Close()
		r = file
	}
	mem := memory.NewGoAllocator()
	cols, rows, err := readArgRows(r, *input, f, mem)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	res := &result{}
	for i, t := range f.Args {
		res.Columns = append(res.Columns, resultCol{Name: fmt.Sprintf("arg%d", i+1), Type: t.Name})
	}
	var callErr error
	switch f.Kind {
	case udf.Scalar:
		out, err := f.Call(ctx, cols, mem)
		if out == nil {
			return err
		}
		defer out.Release()
		callErr = err
		res.Columns = append(res.Columns, resultCol{Name: f.Name, Type: f.Returns.Name}, resultCol{Name: "error", Type: "varchar"})
		errs := rowErrors(err)
		for i := 0; i < rows; i++ {
			row := argValues(cols, i)
			res.Rows = append(res.Rows, append(row, jsonValue(core.ValueAt(out, i)), errs[i]))
		}
	case udf.Table:
		out, parents, err := f.CallTable(ctx, cols, mem)
		if out == nil {
			return err
		}
		defer out.Release()
		defer parents.Release()
		callErr = err
		res.Columns = append(res.Columns, resultCol{Name: f.Name, Type: f.Returns.Name})
		for i := 0; i < out.Len(); i++ {
			row := argValues(cols, int(parents.Value(i)))
			res.Rows = append(res.Rows, append(row, jsonValue(core.ValueAt(out, i))))
		}
	case udf.Aggregate:
		// Every row in one group: accumulate, then finish.
		sb := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
		sb.AppendNull()
		init := sb.NewBinaryArray()
		sb.Release()
		defer init.Release()
		groups := make([]int32, rows)
		st, err := f.Accumulate(ctx, init, groups, cols, mem)
		if st == nil {
			return err
		}
		defer st.Release()
		callErr = err
		out, err := f.Finish(ctx, st, mem)
		if out == nil {
			return err
		}
		defer out.Release()
		res.Columns = []resultCol{{Name: "rows", Type: "bigint"}, {Name: f.Name, Type: f.Returns.Name}}
		res.Rows = append(res.Rows, []any{int64(rows), jsonValue(core.ValueAt(out, 0))})
	}
	if err := render(stdout, res, *format); err != nil {
		return err
	}
	if callErr != nil {
		fmt.Fprintln(stderr, callErr)
	}
	return nil
}

func rowErrors(err error) map[int]any {
	out := map[int]any{}
	var be *udf.BatchError
	if errors.As(err, &be) {
		for _, e := range be.Rows {
			out[e.Row] = e.Msg
		}
	}
	return out
}

func argValues(cols []arrow.Array, i int) []any {
	row := make([]any, 0, len(cols)+2)
	for _, c := range cols {
		row = append(row, jsonValue(core.ValueAt(c, i)))
	}
	return row
}

// readArgRows reads JSON arrays of arguments into one column per argument.
func readArgRows(r io.Reader, name string, f *udf.Function, mem memory.Allocator) ([]arrow.Array, int, error) {
	blds := make([]array.Builder, len(f.Args))
	for i, t := range f.Args {
		blds[i] = array.NewBuilder(mem, t.Arrow)
		defer blds[i].Release()
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	rows := 0
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var vals []json.RawMessage
		if err := json.Unmarshal(text, &vals); err != nil {
			return nil, 0, fmt.Errorf("%s:%d: want a JSON array of %d arguments, e.g. [1.5]: %v", name, line, len(f.Args), err)
		}
		if len(vals) != len(f.Args) {
			return nil, 0, fmt.Errorf("%s:%d: %d arguments, %s takes %d", name, line, len(vals), f.Name, len(f.Args))
		}
		for i, v := range vals {
			if err := appendJSON(blds[i], v); err != nil {
				return nil, 0, fmt.Errorf("%s:%d: argument %d (%s): %v", name, line, i+1, f.Args[i].Name, err)
			}
		}
		rows++
	}
	if err := sc.Err(); err != nil {
		return nil, 0, err
	}
	cols := make([]arrow.Array, len(blds))
	for i, b := range blds {
		cols[i] = b.NewArray()
	}
	return cols, rows, nil
}

func appendJSON(b array.Builder, raw json.RawMessage) error {
	if string(raw) == "null" {
		b.AppendNull()
		return nil
	}
	var err error
	switch b := b.(type) {
	case *array.BooleanBuilder:
		var v bool
		if err = json.Unmarshal(raw, &v); err == nil {
			b.Append(v)
		}
	case *array.Int32Builder:
		var v int32
		if err = json.Unmarshal(raw, &v); err == nil {
			b.Append(v)
		}
	case *array.Int64Builder:
		var v int64
		if err = json.Unmarshal(raw, &v); err == nil {
			b.Append(v)
		}
	case *array.Float64Builder:
		var v float64
		if err = json.Unmarshal(raw, &v); err == nil {
			b.Append(v)
		}
	case *array.StringBuilder:
		var v string
		if err = json.Unmarshal(raw, &v); err == nil {
			b.Append(v)
		}
	case *array.BinaryBuilder:
		var v string
		if err = json.Unmarshal(raw, &v); err == nil {
			b.Append([]byte(v))
		}
	case *array.TimestampBuilder:
		var v string
		if err = json.Unmarshal(raw, &v); err == nil {
			var t time.Time
			if t, err = time.Parse("2006-01-02 15:04:05.999999", v); err == nil {
				b.Append(arrow.Timestamp(t.UnixMicro()))
			}
		}
	default:
		err = fmt.Errorf("unsupported type %s", b.Type())
	}
	return err
}

// udfDeploy installs a new build of a deployment's module (atomically, at
// the path the deployment names) and, when the deployment is running with
// an HTTP server, waits until it was staged or refused.
func udfDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("udf deploy", stderr)
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the running deployment to take the build")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return fmt.Errorf("udf deploy takes a udf name and optionally the new module, e.g. strata udf deploy -c %s fx build/fx.wasm", *cfgPath)
	}
	d, err := loadOrReport(*cfgPath)
	if err != nil {
		return err
	}
	var target *udfStatus
	for _, st := range d.udfs.status() {
		if st.Name == pos[0] {
			target = &st
		}
	}
	if target == nil {
		var names []string
		for _, u := range d.cfg.UDFs {
			names = append(names, u.Name)
		}
		return fmt.Errorf("%s has no udf %q (it has %s)", d.cfg.File, pos[0], strings.Join(names, ", "))
	}
	wasm, err := os.ReadFile(target.Path)
	if len(pos) == 2 {
		if wasm, err = os.ReadFile(pos[1]); err != nil {
			return err
		}
		if _, err := udf.ReadManifest(wasm); err != nil {
			return fmt.Errorf("%s: %w", pos[1], err)
		}
		tmp := target.Path + ".new"
		if err := os.WriteFile(tmp, wasm, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, target.Path); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	v := moduleVersion(wasm)
	base := serverURL(d)
	if base == "" {
		fmt.Fprintf(stdout, "installed %s version %s at %s; a running deployment stages it within %s\n", pos[0], v, target.Path, udfPollInterval)
		return nil
	}
	deadline := time.Now().Add(*wait)
	for time.Now().Before(deadline) {
		var body struct {
			Epoch core.Epoch  `json:"epoch"`
			UDFs  []udfStatus `json:"udfs"`
		}
		if err := getJSON(ctx, base+"/v1/udfs", &body); err == nil {
			for _, st := range body.UDFs {
				switch {
				case st.Name != pos[0]:
				case st.Version == v:
					fmt.Fprintf(stdout, "%s version %s is serving (epoch %d)\n", pos[0], v, body.Epoch)
					return nil
				case strings.HasPrefix(st.Refused, v+": "):
					return fmt.Errorf("the running deployment refused %s version %s and keeps serving %s: %s", pos[0], v, st.Version, strings.TrimPrefix(st.Refused, v+": "))
				case st.Pending == v:
					fmt.Fprintf(stdout, "%s version %s is staged; it serves from the next epoch (now %d)\n", pos[0], v, body.Epoch)
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("installed %s version %s, but the deployment at %s did not pick it up within %s", pos[0], v, base, *wait)
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
