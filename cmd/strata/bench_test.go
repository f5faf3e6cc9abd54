package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parseBench reads --format json: one object per query.
func parseBench(t *testing.T, out string) map[string]benchResult {
	t.Helper()
	got := map[string]benchResult{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r benchResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got[r.Query] = r
	}
	return got
}

// TestBenchNexmarkShort is the short form of the Nexmark benchmark: q0, q1,
// q5, q7 and q8 over 100,000 events, each in its own process of the real
// binary, and each view must equal DuckDB's batch answer over the same
// events. The numbers are logged, never asserted.
func TestBenchNexmarkShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs five queries; skipped with -short")
	}
	bin, err := strataBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	queries := []string{"q0", "q1", "q5", "q7", "q8"}
	cmd := exec.CommandContext(ctx, bin, "bench", "nexmark", "--queries", strings.Join(queries, ","),
		"--events", "100000", "--format", "json", "--out", t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("strata bench nexmark:\n%s%s", out, stderr.String())
	if err != nil {
		t.Fatalf("strata bench nexmark: %v", err)
	}
	got := parseBench(t, string(out))
	for _, q := range queries {
		r, ok := got[q]
		switch {
		case !ok:
			t.Errorf("%s: no result", q)
		case r.Error != "":
			t.Errorf("%s: %s", q, r.Error)
		case r.Correct == nil || !*r.Correct:
			t.Errorf("%s: the view differs from DuckDB's batch answer: %s", q, r.Diff)
		case r.Events != 100_000 || r.Seconds <= 0 || r.CPUSeconds <= 0 || r.PeakRSSBytes <= 0 || r.ViewRows == 0:
			t.Errorf("%s: implausible measurement %+v", q, r)
		}
	}
}

// TestBenchChildInProcess runs the measurement of one query in the test's
// own process (what each child does): a query that runs and is checked, an
// unsupported one reported with the planner's error, and the sources-only
// limit.
func TestBenchChildInProcess(t *testing.T) {
	code, out, errOut := strata(t, "bench", "nexmark", "--child", "--queries", "q2", "--events", "20000", "--rate", "200000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r := parseBench(t, out)["q2"]
	if r.Error != "" || r.Correct == nil || !*r.Correct || r.ViewRows == 0 {
		t.Errorf("q2: %+v", r)
	}
	if r.P99ms == nil || r.P50ms == nil || *r.P99ms < *r.P50ms || *r.P50ms <= 0 {
		t.Errorf("q2 at a rate: latency p50 %v p99 %v, want 0 < p50 <= p99", r.P50ms, r.P99ms)
	}

	code, out, errOut = strata(t, "bench", "nexmark", "--child", "--queries", "q6", "--events", "1000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r = parseBench(t, out)["q6"]
	if !r.Unsupported || !strings.HasPrefix(r.Error, "unsupported: ") || r.Correct != nil || r.failed() {
		t.Errorf("q6: %+v, want unsupported with the planner's error", r)
	}

	code, out, errOut = strata(t, "bench", "nexmark", "--child", "--queries", "limit", "--events", "20000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	r = parseBench(t, out)["limit"]
	if r.Error != "" || r.EventsPerSec <= 0 || r.P99ms != nil {
		t.Errorf("limit: %+v", r)
	}
}

func TestBenchFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "usage: strata bench nexmark"},
		{[]string{"bench", "tpch"}, "usage: strata bench nexmark"},
		{[]string{"bench", "nexmark", "--queries", "q0,q99"}, `unknown query "q99"`},
		{[]string{"bench", "nexmark", "--format", "csv", "--events", "0"}, "--events must be positive, got 0; --format must be table or json"},
		{[]string{"bench", "nexmark", "--cpuprofile"}, "--cpuprofile needs --out"},
		{[]string{"bench", "nexmark", "--child", "--queries", "q0,q1"}, "--child runs exactly one query"},
	} {
		code, _, errOut := strata(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("strata %s: exit %d, stderr %q, want it to say %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

// TestNexmarkWithoutSchema: a nexmark source needs no schema: the
// connector's table gives the columns the views are planned against (and
// event_time is checked against them), and the source generates them all.
func TestNexmarkWithoutSchema(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
data_dir: ./state
sources:
  - name: auction
    connector: nexmark
    options: {table: auction, events: 5000, seed: 3}
    event_time: {column: date_time, watermark_delay: 1s}
  - name: bid
    connector: nexmark
    options: {table: bid, events: 5000, seed: 3}
    event_time: {column: date_time}
views:
  - name: per_category
    sql: |
      SELECT a.category, count(*) AS bids, max(length(b.extra)) > 0 AS padded
      FROM bid b JOIN auction a ON b.auction = a.id
      GROUP BY a.category
`)
	if out := mustStrata(t, "validate", "-c", cfg); !strings.Contains(out, "ok (2 sources, 1 views)") {
		t.Fatalf("validate: %s", out)
	}
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	got := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT sum(bids) > 0, bool_and(padded) FROM per_category")
	if got != "(sum(bids) > 0),bool_and(padded)\ntrue,true\n" {
		t.Errorf("per_category: %q", got)
	}

	writeFile(t, cfg, `
sources:
  - {name: bid, connector: nexmark, options: {table: bids!}, event_time: {column: date_time}}
`)
	code, out, _ := strata(t, "validate", "-c", cfg)
	if code == 0 || !strings.Contains(out, `option table must be person, auction or bid, got "bids!"`) || strings.Contains(out, "needs a schema") {
		t.Errorf("a bad table: exit %d\n%s", code, out)
	}
}
