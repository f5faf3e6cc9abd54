package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/internal/testutil/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

// strata runs the CLI in-process and returns its exit code and output.
func strata(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustStrata(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := strata(t, args...)
	if code != 0 {
		t.Fatalf("strata %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const fileDeployment = `
data_dir: ./state
sources:
  - name: bids
    connector: file
    options: {path: "in/*.jsonl"}
    format: json
    schema:
      - {name: auction, type: bigint}
      - {name: bidder, type: varchar}
      - {name: price, type: bigint}
views:
  - name: per_auction
    sql: |
      SELECT auction, count(*) AS bids, sum(price) AS volume
      FROM bids
      GROUP BY auction
    storage: [pebble, duckdb]
  - name: big
    sql: SELECT auction, bidder, price * 2 AS doubled FROM bids WHERE price > 10
    storage: [duckdb]
  # A view over a view, declared before the view it reads.
  - name: totals
    sql: SELECT count(*) AS auctions, sum(bids) AS bids, max(volume) AS top FROM per_auction
    storage: [duckdb]
  - name: per_bidder
    sql: |
      SELECT b.bidder, count(*) AS n, max(p.volume) AS best_auction_volume
      FROM bids b JOIN per_auction p ON b.auction = p.auction
      GROUP BY b.bidder
    storage: [pebble, duckdb]
`

// TestFileUntilIdle is the acceptance path over JSON lines: deterministic
// results, dead letters for bad lines, and a rerun that adds nothing.
func TestFileUntilIdle(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, fileDeployment)
	writeFile(t, filepath.Join(dir, "in/a.jsonl"), `{"auction": 1, "bidder": "ann", "price": 5}
{"auction": 2, "bidder": "bob", "price": 20}
{"auction": 1, "bidder": "cat", "price": 15
{"auction": 1, "bidder": "dan", "price": 30}
`)
	writeFile(t, filepath.Join(dir, "in/b.jsonl"), `{"auction": 3, "bidder": "eve", "price": 12}
{"auction": "three", "bidder": "fay", "price": 1}

{"auction": 2, "bidder": "gus", "price": 1}
`)
	out := mustStrata(t, "run", "-c", cfg, "--until-idle")
	if !strings.Contains(out, "2 dead letters") {
		t.Errorf("run output does not report 2 dead letters:\n%s", out)
	}
	wantAgg := "auction,bids,volume\n1,2,35\n2,2,21\n3,1,12\n"
	query := func() string {
		return mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM per_auction ORDER BY auction")
	}
	if got := query(); got != wantAgg {
		t.Errorf("per_auction:\n got %q\nwant %q", got, wantAgg)
	}
	if got, want := mustStrata(t, "query", "-c", cfg, "--format", "json", "SELECT * FROM big ORDER BY doubled"),
		"{\"auction\":3,\"bidder\":\"eve\",\"doubled\":24}\n{\"auction\":2,\"bidder\":\"bob\",\"doubled\":40}\n{\"auction\":1,\"bidder\":\"dan\",\"doubled\":60}\n"; got != want {
		t.Errorf("big:\n got %q\nwant %q", got, want)
	}
	if got, want := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM totals"), "auctions,bids,top\n3,5,35\n"; got != want {
		t.Errorf("totals (a view over a view):\n got %q\nwant %q", got, want)
	}
	if got, want := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM per_bidder ORDER BY bidder"),
		"bidder,n,best_auction_volume\nann,1,35\nbob,1,21\ndan,1,35\neve,1,12\ngus,1,21\n"; got != want {
		t.Errorf("per_bidder (a join with a view):\n got %q\nwant %q", got, want)
	}
	if got := mustStrata(t, "get", "-c", cfg, "--format", "csv", "per_auction", "1"); got != "auction,bids,volume\n1,2,35\n" {
		t.Errorf("get per_auction 1: %q", got)
	}
	if code, _, errOut := strata(t, "get", "-c", cfg, "per_auction", "99"); code != 1 || !strings.Contains(errOut, "no row") {
		t.Errorf("get of a missing key: exit %d, stderr %q", code, errOut)
	}
	dl := mustStrata(t, "query", "-c", cfg, "--format", "csv",
		`SELECT source, partition, "offset", reason, raw FROM dead_letters ORDER BY partition, "offset"`)
	for _, want := range []string{
		"bids,in/a.jsonl,3,malformed JSON",
		`bids,in/b.jsonl,2,"column ""auction"": want bigint, got string`,
		`{""auction"": ""three""`,
	} {
		if !strings.Contains(dl, want) {
			t.Errorf("dead_letters lacks %q:\n%s", want, dl)
		}
	}
	// A second run over the same data directory adds nothing.
	epochBefore := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT count(*) FROM dead_letters")
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	if got := query(); got != wantAgg {
		t.Errorf("after rerun per_auction:\n got %q\nwant %q", got, wantAgg)
	}
	if got := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT count(*) FROM dead_letters"); got != epochBefore {
		t.Errorf("dead letters after rerun: %q, before %q", got, epochBefore)
	}
	// The same input in a fresh data directory gives the same results.
	if err := os.RemoveAll(filepath.Join(dir, "state")); err != nil {
		t.Fatal(err)
	}
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	if got := query(); got != wantAgg {
		t.Errorf("fresh run per_auction:\n got %q\nwant %q", got, wantAgg)
	}
}

// TestValidateReportsEveryProblem: five different mistakes, five reports,
// each with file:line.
func TestValidateReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	writeFile(t, cfg, `data_dir: ./state
sources:
  - name: bids
    connector: file
    options: {path: "x.jsonl"}
    schema:
      - {name: auction, type: bigintt}
      - {name: price, type: bigint}
    event_time: {column: price, watermark_delay: 5 parsecs}
views:
  - name: v1
    sql: SELECT auction, count(*) FROM bids GROUP BY auction
    storage: [pebble]
    storag: [duckdb]
  - name: v1
    sql: SELECT auction FROM bidz
`)
	code, out, _ := strata(t, "validate", "-c", cfg)
	if code != 1 {
		t.Fatalf("validate exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"bad.yaml:7:",  // unknown type bigintt
		"bad.yaml:9:",  // bad duration
		"bad.yaml:14:", // unknown key storag
		"bad.yaml:15:", // duplicate view name
		"bad.yaml:16:", // unknown relation bidz, inside the SQL
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "bad.yaml:"); n < 5 {
		t.Errorf("validate reported %d problems, want at least 5:\n%s", n, out)
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestKafkaEndToEnd: events produced with kcat into a 3-partition topic, a
// GROUP BY view stored in Pebble and DuckDB, exact answers from query and get,
// then the same over HTTP from a live deployment.
func TestKafkaEndToEnd(t *testing.T) {
	addr := kafkatest.Addr(t)
	topic := fmt.Sprintf("bids_%d", time.Now().UnixNano())
	kafkatest.CreateTopic(t, topic, 3)
	want := map[int64][2]int64{} // auction -> count, sum
	for p := 0; p < 3; p++ {
		var lines []string
		for i := 0; i < 40; i++ {
			a := int64((i*7 + p) % 5)
			price := int64(i + 100*p)
			lines = append(lines, fmt.Sprintf(`{"auction": %d, "price": %d}`, a, price))
			c := want[a]
			want[a] = [2]int64{c[0] + 1, c[1] + price}
		}
		lines = append(lines, `not json at all`)
		kafkatest.KcatProduce(t, topic, p, lines)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	httpAddr := freeAddr(t)
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: ./state
server: {http: "%s"}
sources:
  - name: bids
    connector: kafka
    options: {brokers: ["%s"], topic: %s}
    format: json
    schema: [{name: auction, type: bigint}, {name: price, type: bigint}]
views:
  - name: per_auction
    sql: SELECT auction, count(*) AS n, sum(price) AS total FROM bids GROUP BY auction
    storage: [pebble, duckdb]
`, httpAddr, addr, topic))
	out := mustStrata(t, "run", "-c", cfg, "--until-idle")
	if !strings.Contains(out, "3 dead letters") {
		t.Errorf("run output does not report 3 dead letters:\n%s", out)
	}
	var wantCSV strings.Builder
	wantCSV.WriteString("auction,n,total\n")
	for a := int64(0); a < 5; a++ {
		fmt.Fprintf(&wantCSV, "%d,%d,%d\n", a, want[a][0], want[a][1])
	}
	if got := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM per_auction ORDER BY auction"); got != wantCSV.String() {
		t.Errorf("query:\n got %q\nwant %q", got, wantCSV.String())
	}
	for a := int64(0); a < 5; a++ {
		got := mustStrata(t, "get", "-c", cfg, "--format", "csv", "per_auction", fmt.Sprint(a))
		if w := fmt.Sprintf("auction,n,total\n%d,%d,%d\n", a, want[a][0], want[a][1]); got != w {
			t.Errorf("get %d: got %q want %q", a, got, w)
		}
	}
	dl := mustStrata(t, "query", "-c", cfg, "--format", "csv", `SELECT partition, "offset", raw FROM dead_letters ORDER BY partition`)
	if w := "partition,offset,raw\n0,40,not json at all\n1,40,not json at all\n2,40,not json at all\n"; dl != w {
		t.Errorf("dead letters:\n got %q\nwant %q", dl, w)
	}

	// Live: more events arrive while the deployment runs; the HTTP API
	// serves them.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", cfg}, io.Discard, io.Discard) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("live run exited %d", code)
		}
	}()
	// A push subscriber sees the snapshot, then the change.
	subCtx, stopSub := context.WithCancel(context.Background())
	defer stopSub()
	subOut := &syncBuffer{}
	subDone := make(chan int, 1)
	waitServer(t, httpAddr)
	go func() { subDone <- run(subCtx, []string{"subscribe", "-c", cfg, "per_auction"}, subOut, io.Discard) }()
	waitFor(t, func() bool { return strings.Count(subOut.String(), `"op":"snapshot"`) == 5 }, "the subscriber's snapshot")
	kafkatest.KcatProduce(t, topic, 1, []string{`{"auction": 4, "price": 1000}`})
	wantN := want[4][0] + 1
	deadline := time.Now().Add(30 * time.Second)
	var row struct {
		Epoch uint64         `json:"epoch"`
		Row   map[string]any `json:"row"`
	}
	for {
		resp, err := http.Get("http://" + httpAddr + "/v1/views/per_auction/rows/4")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&row)
			resp.Body.Close()
			if resp.StatusCode == 200 && row.Row["n"] == float64(wantN) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("live view never reached n=%d for auction 4; last answer %+v (err %v)", wantN, row, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if row.Row["total"] != float64(want[4][1]+1000) || row.Epoch == 0 {
		t.Errorf("live row: %+v", row)
	}
	resp, err := http.Post("http://"+httpAddr+"/v1/sql", "application/json", strings.NewReader(`{"sql": "SELECT sum(n) AS n FROM per_auction"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"rows":[[121]]`) {
		t.Errorf("POST /v1/sql: %s", body)
	}
	// The CLI goes through the server while it runs.
	if got := mustStrata(t, "get", "-c", cfg, "--format", "csv", "per_auction", "4"); !strings.HasPrefix(got, fmt.Sprintf("auction,n,total\n4,%d,", wantN)) {
		t.Errorf("get via server: %q", got)
	}
	if code, _, errOut := strata(t, "get", "-c", cfg, "per_auction", "77"); code != 1 || !strings.Contains(errOut, "no row with key 77") {
		t.Errorf("get of a missing key via server: exit %d, stderr %q", code, errOut)
	}
	waitFor(t, func() bool {
		return strings.Contains(subOut.String(), fmt.Sprintf(`"op":"insert","row":{"auction":4,"n":%d,`, wantN)) &&
			strings.Contains(subOut.String(), fmt.Sprintf(`"op":"delete","row":{"auction":4,"n":%d,`, wantN-1))
	}, "the subscriber's delete and insert of auction 4")
	stopSub()
	if code := <-subDone; code != 0 {
		t.Errorf("subscribe exited %d", code)
	}
	resp, err = http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"strata_epoch ", `strata_source_records_total{source="bids"} `, `strata_backend_apply_seconds_count{backend="pebble"} `, "strata_dead_letters_total "} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	resp, err = http.Get("http://" + httpAddr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}
}

// TestWindowsUntilIdle: tumbling windows over event time, updated as events
// arrive and EMIT ON WINDOW CLOSE; a late event (epochs hold 2 lines, so
// the 00:00:02 event arrives after the watermark reached 00:00:18) goes to
// dead letters; when
// the file is drained, the final epoch closes every window.
func TestWindowsUntilIdle(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
data_dir: ./state
engine: {max_epoch_rows: 2}
sources:
  - name: bids
    connector: file
    options: {path: bids.jsonl}
    schema: [{name: auction, type: bigint}, {name: price, type: bigint}, {name: ts, type: timestamp}]
    event_time: {column: ts, watermark_delay: 1s}
views:
  - name: live
    sql: SELECT auction, window_start, count(*) AS n, sum(price) AS total FROM TUMBLE(bids, ts, INTERVAL '10' SECOND) GROUP BY auction, window_start
    storage: [pebble, duckdb]
  - name: closed
    sql: |
      SELECT window_end, count(*) AS n, max(price) AS top
      FROM TUMBLE(bids, ts, INTERVAL '10' SECOND)
      GROUP BY window_end
      EMIT ON WINDOW CLOSE
    storage: [duckdb]
`)
	writeFile(t, filepath.Join(dir, "bids.jsonl"), `{"auction": 1, "price": 5, "ts": "2026-01-01 00:00:01"}
{"auction": 2, "price": 7, "ts": "2026-01-01 00:00:03"}
{"auction": 1, "price": 9, "ts": "2026-01-01 00:00:14"}
{"auction": 2, "price": 6, "ts": "2026-01-01 00:00:19"}
{"auction": 1, "price": 4, "ts": "2026-01-01 00:00:02"}
{"auction": 1, "price": 1, "ts": "2026-01-01 00:00:25"}
`)
	out := mustStrata(t, "run", "-c", cfg, "--until-idle")
	if !strings.Contains(out, "1 dead letters") {
		t.Errorf("want the late event as 1 dead letter:\n%s", out)
	}
	if got, want := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM live ORDER BY window_start, auction"),
		"auction,window_start,n,total\n1,2026-01-01 00:00:00,1,5\n2,2026-01-01 00:00:00,1,7\n1,2026-01-01 00:00:10,1,9\n2,2026-01-01 00:00:10,1,6\n1,2026-01-01 00:00:20,1,1\n"; got != want {
		t.Errorf("live:\n got %q\nwant %q", got, want)
	}
	if got, want := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT * FROM closed ORDER BY window_end"),
		"window_end,n,top\n2026-01-01 00:00:10,2,7\n2026-01-01 00:00:20,2,9\n2026-01-01 00:00:30,1,1\n"; got != want {
		t.Errorf("closed:\n got %q\nwant %q", got, want)
	}
	if got := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT reason FROM dead_letters"); !strings.Contains(got, "late event: event time 2026-01-01 00:00:02") {
		t.Errorf("dead letters: %q", got)
	}
	// Rerun: nothing changes, the final epoch is not repeated.
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	if got := mustStrata(t, "query", "-c", cfg, "--format", "csv", "SELECT count(*) FROM closed"); got != "count_star()\n3\n" {
		t.Errorf("closed after rerun: %q", got)
	}
}

// TestRestartFromCheckpoint: a deployment of stateful views (join, top-N,
// DISTINCT, aggregates, a view over a view) run over a file, restarted after
// more lines were appended, equals one run over the whole file: the second
// run restores operator state from the checkpoint instead of replaying.
func TestRestartFromCheckpoint(t *testing.T) {
	deployment := `
data_dir: ./state
engine: {max_epoch_rows: 7, max_state_keys: 2}
sources:
  - name: bids
    connector: file
    options: {path: bids.jsonl}
    schema: [{name: auction, type: bigint}, {name: bidder, type: varchar}, {name: price, type: bigint}]
  - name: auctions
    connector: file
    options: {path: auctions.jsonl}
    schema: [{name: id, type: bigint}, {name: category, type: varchar}]
views:
  - name: per_auction
    sql: SELECT auction, count(*) AS n, sum(price) AS total, min(price) AS lo, max(price) AS hi, count(DISTINCT bidder) AS bidders FROM bids GROUP BY auction
    storage: [pebble, duckdb]
  - name: by_category
    sql: SELECT a.category, sum(p.total) AS total FROM per_auction p JOIN auctions a ON p.auction = a.id GROUP BY a.category
  - name: top2
    sql: SELECT auction, bidder, price FROM (SELECT auction, bidder, price, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, bidder) AS rn FROM bids) WHERE rn <= 2
  - name: bidders
    sql: SELECT DISTINCT bidder FROM bids
`
	var lines []string
	for i := 0; i < 60; i++ {
		lines = append(lines, fmt.Sprintf(`{"auction": %d, "bidder": "u%d", "price": %d}`, i%4, i%9, (i*37)%101))
	}
	auctions := "{\"id\": 0, \"category\": \"a\"}\n{\"id\": 1, \"category\": \"b\"}\n{\"id\": 2, \"category\": \"a\"}\n{\"id\": 3, \"category\": \"c\"}\n"
	dump := func(cfg string) string {
		var b strings.Builder
		for _, q := range []string{
			"SELECT * FROM per_auction ORDER BY auction",
			"SELECT * FROM by_category ORDER BY category",
			"SELECT * FROM top2 ORDER BY auction, price DESC, bidder",
			"SELECT * FROM bidders ORDER BY bidder",
		} {
			b.WriteString(mustStrata(t, "query", "-c", cfg, "--format", "csv", q))
		}
		return b.String()
	}
	// One run over everything.
	whole := t.TempDir()
	writeFile(t, filepath.Join(whole, "strata.yaml"), deployment)
	writeFile(t, filepath.Join(whole, "bids.jsonl"), strings.Join(lines, "\n")+"\n")
	writeFile(t, filepath.Join(whole, "auctions.jsonl"), auctions)
	mustStrata(t, "run", "-c", filepath.Join(whole, "strata.yaml"), "--until-idle")
	want := dump(filepath.Join(whole, "strata.yaml"))
	// Two runs, the file growing in between.
	parts := t.TempDir()
	cfg := filepath.Join(parts, "strata.yaml")
	writeFile(t, cfg, deployment)
	writeFile(t, filepath.Join(parts, "bids.jsonl"), strings.Join(lines[:25], "\n")+"\n")
	writeFile(t, filepath.Join(parts, "auctions.jsonl"), auctions)
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	if _, err := os.Stat(filepath.Join(parts, "state", "state")); err != nil {
		t.Fatalf("no state checkpoint was written: %v", err)
	}
	writeFile(t, filepath.Join(parts, "bids.jsonl"), strings.Join(lines, "\n")+"\n")
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	if got := dump(cfg); got != want {
		t.Errorf("after a restart from the checkpoint:\n%s\nwant (one run):\n%s", got, want)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitServer waits until the HTTP server answers /healthz.
func waitServer(t *testing.T, addr string) {
	t.Helper()
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}, "the server")
}
