package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/internal/testutil"
	"github.com/stratadb/strata/udf"
)

var (
	demoOnce sync.Once
	demoWasm string
	demoErr  error
)

// goDemo builds the Go SDK's worked example once per test binary.
func goDemo(t *testing.T) string {
	t.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strata-udf-demo-")
		if err != nil {
			demoErr = err
			return
		}
		demoWasm = filepath.Join(dir, "demo.wasm")
		demoErr = udf.Build(context.Background(), "../../udf/sdk/go/examples/demo", demoWasm, udf.BuildOptions{})
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoWasm
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

const udfDeployment = `
data_dir: ./state
udfs:
  - {name: demo, path: demo.wasm, on_error: POLICY}
sources:
  - name: words
    connector: file
    options: {path: "in/*.jsonl"}
    schema:
      - {name: id, type: bigint}
      - {name: w, type: varchar}
      - {name: x, type: double}
views:
  - name: shouted
    sql: SELECT id, shout(w) AS loud, double_it(x) AS x2 FROM words
    storage: [duckdb, pebble]
    primary_key: [id]
  - name: by_loud
    sql: SELECT shout(w) AS loud, count(*) AS n, sum(double_it(x)) AS total FROM words WHERE double_it(x) > 1 GROUP BY shout(w)
    storage: [duckdb]
`

const udfInput = `{"id": 1, "w": "hello", "x": 1.5}
{"id": 2, "w": "", "x": 2}
{"id": 3, "w": "héllo", "x": null}
{"id": 4, "w": "hello", "x": 4}
`

// TestUDFViews runs views that call a WebAssembly UDF under each error
// policy, and the same function in ad-hoc DuckDB SQL.
func TestUDFViews(t *testing.T) {
	wasm := goDemo(t)
	for _, tc := range []struct {
		policy, shouted, byLoud, deadLetters string
	}{
		{"null", "id,loud,x2\n1,HELLO!,3\n2,,4\n3,HéLLO!,\n4,HELLO!,8\n", "loud,n,total\n,1,4\nHELLO!,2,11\n", "0\n"},
		{"dead_letter", "id,loud,x2\n1,HELLO!,3\n3,HéLLO!,\n4,HELLO!,8\n", "loud,n,total\nHELLO!,2,11\n", "1\n"},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "strata.yaml")
			writeFile(t, cfg, strings.ReplaceAll(udfDeployment, "POLICY", tc.policy))
			copyFile(t, wasm, filepath.Join(dir, "demo.wasm"))
			writeFile(t, filepath.Join(dir, "in/a.jsonl"), udfInput)
			mustStrata(t, "run", "-c", cfg, "--until-idle")
			q := func(sql string) string { return mustStrata(t, "query", "-c", cfg, "--format", "csv", sql) }
			if got := q("SELECT * FROM shouted ORDER BY id"); got != tc.shouted {
				t.Errorf("shouted:\n got %q\nwant %q", got, tc.shouted)
			}
			if got := q("SELECT * FROM by_loud ORDER BY loud NULLS FIRST"); got != tc.byLoud {
				t.Errorf("by_loud:\n got %q\nwant %q", got, tc.byLoud)
			}
			// Two views drop the same row: one dead letter.
			if got := q("SELECT count(*) FROM dead_letters"); got != "count_star()\n"+tc.deadLetters {
				t.Errorf("dead letters: %q, want %q", got, tc.deadLetters)
			}
			if tc.policy == "dead_letter" {
				dl := q("SELECT source, reason FROM dead_letters LIMIT 1")
				if !strings.Contains(dl, "udf shout") || !strings.Contains(dl, "shout: empty string") {
					t.Errorf("dead letter does not name the udf and the message:\n%s", dl)
				}
			}
			// The same function in ad-hoc DuckDB SQL.
			if got, want := q("SELECT double_it(x2) AS y, shout('ad hoc') AS s FROM shouted WHERE id = 4"), "y,s\n16,AD HOC!\n"; got != want {
				t.Errorf("ad-hoc UDF call: %q, want %q", got, want)
			}
			if got := mustStrata(t, "get", "-c", cfg, "--format", "csv", "shouted", "4"); got != "id,loud,x2\n4,HELLO!,8\n" {
				t.Errorf("get shouted 4: %q", got)
			}
		})
	}
	t.Run("fail", func(t *testing.T) {
		dir := t.TempDir()
		cfg := filepath.Join(dir, "strata.yaml")
		writeFile(t, cfg, strings.ReplaceAll(udfDeployment, "POLICY", "fail"))
		copyFile(t, wasm, filepath.Join(dir, "demo.wasm"))
		writeFile(t, filepath.Join(dir, "in/a.jsonl"), udfInput)
		code, out, errOut := strata(t, "run", "-c", cfg, "--until-idle")
		if code == 0 || !strings.Contains(errOut, "udf shout failed on row") || !strings.Contains(errOut, "shout: empty string") || !strings.Contains(errOut, `"id": 2`) {
			t.Errorf("fail policy: exit %d\nstdout %s\nstderr %s", code, out, errOut)
		}
		// The ad-hoc query fails with the function's message too.
		code, _, errOut = strata(t, "query", "-c", cfg, "SELECT shout('')")
		if code == 0 || !strings.Contains(errOut, "shout: empty string") {
			t.Errorf("ad-hoc fail: exit %d, stderr %s", code, errOut)
		}
	})
}

// TestUDFLiveReplacement: a new build of a module is swapped in between
// epochs while the deployment runs, an incompatible one is refused while
// the old one keeps serving, and the epoch log records which build each
// epoch ran.
func TestUDFLiveReplacement(t *testing.T) {
	v1 := goDemo(t)
	// v2: double_it triples. v3: shout is gone (incompatible).
	work := t.TempDir()
	project := func(name string, edit func(mainGo, manifest string) (string, string)) string {
		dir := filepath.Join(work, name)
		for _, f := range []string{"main.go", "strata.json"} {
			copyFile(t, filepath.Join("../../udf/sdk/go/examples/demo", f), filepath.Join(dir, f))
		}
		m, _ := os.ReadFile(filepath.Join(dir, "main.go"))
		j, _ := os.ReadFile(filepath.Join(dir, "strata.json"))
		mg, mj := edit(string(m), string(j))
		writeFile(t, filepath.Join(dir, "main.go"), mg)
		writeFile(t, filepath.Join(dir, "strata.json"), mj)
		out := filepath.Join(work, name+".wasm")
		if err := udf.Build(context.Background(), dir, out, udf.BuildOptions{}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	v2 := project("v2", func(m, j string) (string, string) {
		if !strings.Contains(m, "xs[i] * 2") {
			t.Fatal("the demo's double_it changed; update this test")
		}
		return strings.Replace(m, "xs[i] * 2", "xs[i] * 3", 1), j
	})
	v3 := project("v3", func(m, j string) (string, string) {
		lines := strings.Split(j, "\n")
		var kept []string
		for _, l := range lines {
			if !strings.Contains(l, `"shout"`) {
				kept = append(kept, l)
			}
		}
		return m, strings.Join(kept, "\n")
	})

	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	addr := freeAddr(t)
	writeFile(t, cfg, `
data_dir: ./state
server: {http: `+addr+`}
engine: {epoch_interval: 100ms}
udfs:
  - {name: demo, path: demo.wasm}
sources:
  - name: gen
    connector: datagen
    options: {rate: 500}
    schema: [{name: id, type: bigint}, {name: x, type: double}]
views:
  - name: doubled
    sql: SELECT x, double_it(x) AS y FROM gen
`)
	copyFile(t, v1, filepath.Join(dir, "demo.wasm"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs syncBuffer
	go func() { done <- run(ctx, []string{"run", "-c", cfg}, io.Discard, &logs) }()
	defer func() {
		cancel()
		<-done
	}()
	waitServer(t, addr)
	count := func(where string) int {
		code, out, _ := strata(t, "query", "-c", cfg, "--format", "csv", "SELECT count(*) FROM doubled WHERE "+where)
		if code != 0 {
			return -1 // the view's table is created with its first epoch
		}
		n, _ := strconv.Atoi(strings.TrimSpace(strings.Split(out, "\n")[1]))
		return n
	}
	waitFor(t, func() bool { return count("y = 2 * x") > 0 }, "rows from the first build")

	out := mustStrata(t, "udf", "deploy", "-c", cfg, "demo", v2)
	if !strings.Contains(out, "serving") && !strings.Contains(out, "staged") {
		t.Fatalf("deploy v2: %s", out)
	}
	waitFor(t, func() bool { return count("y = 3 * x") > 0 }, "rows from the second build")
	before := count("y = 2 * x")

	code, _, errOut := strata(t, "udf", "deploy", "-c", cfg, "demo", v3)
	if code == 0 || !strings.Contains(errOut, "refused") || !strings.Contains(errOut, "function shout is gone") {
		t.Fatalf("deploy of an incompatible build: exit %d, %s", code, errOut)
	}
	// The second build keeps serving.
	n := count("y = 3 * x")
	waitFor(t, func() bool { return count("y = 3 * x") > n }, "rows after the refusal")
	if got := count("y = 2 * x"); got != before {
		t.Errorf("rows computed by the first build grew from %d to %d after the swap", before, got)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`strata_udf_calls_total{udf="demo.double_it"} `, `strata_udf_rows_total{udf="demo.double_it"} `, `strata_udf_seconds_total{udf="demo.double_it"} `} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exited %d:\n%s", code, logs.String())
	}
	done <- 0

	// The epoch log names the build of every epoch.
	log, err := engine.OpenEpochLog(filepath.Join(dir, "state", "epochs"), true)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	first, err := log.TagAt(1)
	if err != nil {
		t.Fatal(err)
	}
	last, err := log.TagAt(1 << 40)
	if err != nil {
		t.Fatal(err)
	}
	w1, _ := os.ReadFile(v1)
	w2, _ := os.ReadFile(v2)
	if first != "udf:demo="+moduleVersion(w1) || last != "udf:demo="+moduleVersion(w2) {
		t.Errorf("epoch log tags: first %q, last %q; want builds %s then %s", first, last, moduleVersion(w1), moduleVersion(w2))
	}
}

// TestUDFFourLanguages: one view calls the worked example of every SDK
// (Go, C, Rust, AssemblyScript), each module built from source by its own
// toolchain, through module-qualified names.
func TestUDFFourLanguages(t *testing.T) {
	dir := t.TempDir()
	var opts udf.BuildOptions
	if p, err := udf.RustcForWasm(); err != nil {
		testutil.SkipOrFail(t, err.Error())
	} else {
		opts.Rustc = p
	}
	if _, err := exec.LookPath("clang"); err != nil {
		testutil.SkipOrFail(t, "clang is not on PATH (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)")
	}
	out, err := exec.Command("bash", "../../scripts/asc.sh").Output()
	if err != nil {
		testutil.SkipOrFail(t, fmt.Sprintf("no AssemblyScript compiler (scripts/asc.sh): %v", err))
	}
	opts.ASC = strings.TrimSpace(string(out))
	var udfs strings.Builder
	for _, l := range []struct{ name, sdk string }{{"godemo", "go"}, {"cdemo", "c"}, {"rustdemo", "rust"}, {"asdemo", "assemblyscript"}} {
		wasm := filepath.Join(dir, l.name+".wasm")
		if err := udf.Build(context.Background(), filepath.Join("../../udf/sdk", l.sdk, "examples/demo"), wasm, opts); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&udfs, "  - {name: %s, path: %s.wasm, on_error: null}\n", l.name, l.name)
	}
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
data_dir: ./state
udfs:
`+udfs.String()+`
sources:
  - name: words
    connector: file
    options: {path: "in/*.jsonl"}
    schema: [{name: id, type: bigint}, {name: w, type: varchar}, {name: x, type: double}]
views:
  - name: all4
    sql: |
      SELECT id, godemo.shout(w) AS g, cdemo.shout(w) AS c, rustdemo.shout(w) AS r, asdemo.shout(w) AS a,
             godemo.double_it(x) + cdemo.double_it(x) + rustdemo.double_it(x) + asdemo.double_it(x) AS x8
      FROM words
`)
	writeFile(t, filepath.Join(dir, "in/a.jsonl"), udfInput)
	code, _, errOut := strata(t, "validate", "-c", cfg)
	if code != 0 {
		t.Fatalf("validate: %s", errOut)
	}
	// The bare name is ambiguous across the four modules.
	writeFile(t, filepath.Join(dir, "bad.yaml"), strings.Replace(readFile(t, cfg), "godemo.shout(w) AS g", "shout(w) AS g", 1))
	if code, outV, errOut := strata(t, "validate", "-c", filepath.Join(dir, "bad.yaml")); code == 0 || !strings.Contains(outV+errOut, "godemo.shout") {
		t.Errorf("ambiguous call: exit %d, %s%s", code, outV, errOut)
	}
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	got := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM all4 ORDER BY id")
	want := "id,g,c,r,a,x8\n1,HELLO!,HELLO!,HELLO!,HELLO!,12\n2,,,,,16\n3,HéLLO!,HéLLO!,HéLLO!,HéLLO!,\n4,HELLO!,HELLO!,HELLO!,HELLO!,32\n"
	if got != want {
		t.Errorf("all4:\n got %q\nwant %q", got, want)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUDFCommands: scaffold, build, inspect and test a module from the
// command line (the C SDK: the quickest toolchain).
func TestUDFCommands(t *testing.T) {
	if _, err := exec.LookPath("clang"); err != nil {
		testutil.SkipOrFail(t, "clang is not on PATH (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)")
	}
	dir := t.TempDir()
	proj := filepath.Join(dir, "myfuncs")
	if out := mustStrata(t, "udf", "new", "--lang", "c", proj); !strings.Contains(out, "created") {
		t.Errorf("udf new: %s", out)
	}
	if code, _, errOut := strata(t, "udf", "new", "--lang", "cobol", filepath.Join(dir, "x")); code == 0 || !strings.Contains(errOut, "use go, c, rust, as") {
		t.Errorf("udf new --lang cobol: exit %d, %s", code, errOut)
	}
	if out := mustStrata(t, "udf", "build", proj); !strings.Contains(out, "4 functions") {
		t.Errorf("udf build: %s", out)
	}
	wasm := filepath.Join(proj, "myfuncs.wasm")
	if out := mustStrata(t, "udf", "inspect", wasm); !strings.Contains(out, "scalar    double_it(double) -> double  [deterministic]") || !strings.Contains(out, "table     words(varchar) -> setof varchar") || !strings.Contains(out, "aggregate mean(double) -> double") {
		t.Errorf("udf inspect:\n%s", out)
	}
	if out := mustStrata(t, "udf", "inspect", "--format", "json", wasm); !strings.Contains(out, `"abi": 1`) || !strings.Contains(out, `"name": "shout"`) {
		t.Errorf("udf inspect --format json:\n%s", out)
	}
	rows := filepath.Join(dir, "rows.jsonl")
	writeFile(t, rows, "[1.5]\n[null]\n[-2]\n")
	if got, want := mustStrata(t, "udf", "test", wasm, "double_it", "--input", rows, "--format", "csv"), "arg1,double_it,error\n1.5,3,\n,,\n-2,-4,\n"; got != want {
		t.Errorf("udf test double_it:\n got %q\nwant %q", got, want)
	}
	writeFile(t, rows, "[\"a b\"]\n[\"\"]\n")
	if got, want := mustStrata(t, "udf", "test", wasm, "shout", "--input", rows, "--format", "csv"), "arg1,shout,error\na b,A B!,\n,,shout: empty string\n"; got != want {
		t.Errorf("udf test shout:\n got %q\nwant %q", got, want)
	}
	if got, want := mustStrata(t, "udf", "test", wasm, "words", "--input", rows, "--format", "csv"), "arg1,words\na b,a\na b,b\n"; got != want {
		t.Errorf("udf test words:\n got %q\nwant %q", got, want)
	}
	writeFile(t, rows, "[1]\n[2]\n[null]\n[6]\n")
	if got, want := mustStrata(t, "udf", "test", wasm, "mean", "--input", rows, "--format", "csv"), "rows,mean\n4,3\n"; got != want {
		t.Errorf("udf test mean:\n got %q\nwant %q", got, want)
	}
	writeFile(t, rows, "[1, 2]\n")
	if code, _, errOut := strata(t, "udf", "test", wasm, "double_it", "--input", rows); code == 0 || !strings.Contains(errOut, "rows.jsonl:1: 2 arguments, double_it takes 1") {
		t.Errorf("udf test with a wrong row: exit %d, %s", code, errOut)
	}
	if code, _, errOut := strata(t, "udf", "test", wasm, "nope", "--input", rows); code == 0 || !strings.Contains(errOut, `has no function "nope"`) {
		t.Errorf("udf test of a missing function: exit %d, %s", code, errOut)
	}
}

// TestUDFTableAndAggregate: a table function and a retractable aggregate
// in views, over a changelog (the aggregate reads a view whose rows are
// updated), checked against the same results computed by hand; then the
// same input in two runs (the aggregate's state restored from the
// checkpoint) gives the same answer as one.
func TestUDFTableAndAggregate(t *testing.T) {
	wasm := goDemo(t)
	deployment := `
data_dir: ./state
engine: {max_epoch_rows: 3}
udfs:
  - {name: demo, path: demo.wasm}
sources:
  - name: posts
    connector: file
    options: {path: posts.jsonl}
    schema: [{name: id, type: bigint}, {name: author, type: varchar}, {name: body, type: varchar}, {name: score, type: double}]
views:
  - name: post_words
    sql: SELECT id, words(body) AS word FROM posts
  - name: word_counts
    sql: SELECT word, count(*) AS n FROM (SELECT words(body) AS word FROM posts) GROUP BY word
  - name: best
    sql: SELECT author, max(score) AS score FROM posts GROUP BY author
  - name: mean_best
    sql: SELECT mean(score) AS m, count(*) AS authors FROM best
  - name: per_author
    sql: SELECT author, mean(score) AS m FROM posts GROUP BY author
`
	posts := []string{
		`{"id": 1, "author": "ann", "body": "to be or not", "score": 1}`,
		`{"id": 2, "author": "bob", "body": "be quick", "score": 4}`,
		`{"id": 3, "author": "ann", "body": "", "score": 3}`,
		`{"id": 4, "author": "cat", "body": null, "score": null}`,
		`{"id": 5, "author": "bob", "body": "not quick", "score": 10}`,
		`{"id": 6, "author": "ann", "body": "to", "score": 2}`,
	}
	dump := func(cfg string) string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT * FROM post_words ORDER BY id, word",
			"SELECT * FROM word_counts ORDER BY word",
			"SELECT * FROM mean_best",
			"SELECT * FROM per_author ORDER BY author",
		} {
			b.WriteString(mustStrata(t, "query", "-c", cfg, "--format", "csv", q))
		}
		return b.String()
	}
	whole := t.TempDir()
	cfg := filepath.Join(whole, "strata.yaml")
	writeFile(t, cfg, deployment)
	copyFile(t, wasm, filepath.Join(whole, "demo.wasm"))
	writeFile(t, filepath.Join(whole, "posts.jsonl"), strings.Join(posts, "\n")+"\n")
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	got := dump(cfg)
	// best: ann 3, bob 10, cat NULL -> mean of the non-NULL = 6.5; the
	// epochs of 3 rows update ann and bob, so mean_best retracts.
	want := "id,word\n1,be\n1,not\n1,or\n1,to\n2,be\n2,quick\n5,not\n5,quick\n6,to\n" +
		"word,n\nbe,2\nnot,2\nor,1\nquick,2\nto,2\n" +
		"m,authors\n6.5,3\n" +
		"author,m\nann,2\nbob,7\ncat,\n"
	if got != want {
		t.Errorf("views:\n got %q\nwant %q", got, want)
	}
	if plan := mustStrata(t, "explain", "-c", cfg, "per_author"); !strings.Contains(plan, "udf mean(") {
		t.Errorf("explain per_author does not show the udf aggregate:\n%s", plan)
	}
	if plan := mustStrata(t, "explain", "-c", cfg, "post_words"); !strings.Contains(plan, "TableFunc words(") {
		t.Errorf("explain post_words does not show the table function:\n%s", plan)
	}
	// Two runs, the file growing in between: state restored from the
	// checkpoint gives the same results.
	parts := t.TempDir()
	cfg2 := filepath.Join(parts, "strata.yaml")
	writeFile(t, cfg2, deployment)
	copyFile(t, wasm, filepath.Join(parts, "demo.wasm"))
	writeFile(t, filepath.Join(parts, "posts.jsonl"), strings.Join(posts[:4], "\n")+"\n")
	mustStrata(t, "run", "-c", cfg2, "--until-idle")
	writeFile(t, filepath.Join(parts, "posts.jsonl"), strings.Join(posts, "\n")+"\n")
	mustStrata(t, "run", "-c", cfg2, "--until-idle")
	if got2 := dump(cfg2); got2 != want {
		t.Errorf("after a restart:\n got %q\nwant %q", got2, want)
	}
}

// TestUDFBadModule: a module without a manifest and a call with the wrong
// argument types are reported by validate with file:line:col and a fix.
func TestUDFBadModule(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
udfs:
  - {name: bare, path: bare.wasm}
sources:
  - name: s
    connector: datagen
    schema: [{name: x, type: double}]
`)
	writeFile(t, filepath.Join(dir, "bare.wasm"), "\x00asm\x01\x00\x00\x00")
	code, out, errOut := strata(t, "validate", "-c", cfg)
	if msg := out + errOut; code == 0 || !strings.Contains(msg, "strata.yaml:3:24") || strings.Count(msg, "strata udf build") != 1 || !strings.Contains(msg, `no "strata.manifest" custom section`) || !strings.Contains(msg, "strata udf build") {
		t.Errorf("module without a manifest: exit %d\n%s", code, msg)
	}
	writeFile(t, cfg, `
udfs:
  - {name: demo, path: demo.wasm}
sources:
  - name: s
    connector: datagen
    schema: [{name: x, type: double}]
views:
  - name: v
    sql: SELECT shout(x) AS y FROM s
`)
	copyFile(t, goDemo(t), filepath.Join(dir, "demo.wasm"))
	code, out, errOut = strata(t, "validate", "-c", cfg)
	if msg := out + errOut; code == 0 || !strings.Contains(msg, "function shout(double) does not exist") || !strings.Contains(msg, "shout(varchar) -> varchar") {
		t.Errorf("call with a wrong argument type: exit %d\n%s", code, msg)
	}
}
