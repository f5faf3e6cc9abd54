package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stratadb/strata/internal/testutil"
)

// TestPostgresWire runs a deployment with server.postgres and talks to it
// with Debian's psql (simple query, PREPARE/EXECUTE, a malformed query in
// the middle of a session) and with pgx (the extended protocol with
// parameters, evaluated by the real DuckDB).
func TestPostgresWire(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		testutil.SkipOrFail(t, "psql not installed (apt-get install postgresql-client)")
	}
	dir := t.TempDir()
	pgAddr := freeAddr(t)
	_, port, _ := net.SplitHostPort(pgAddr)
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: ./state
server: {postgres: "%s"}
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
    storage: [duckdb]
`, pgAddr))
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf(`{"auction": %d, "bidder": "b%d", "price": %d}`, i%3, i, i))
	}
	writeFile(t, filepath.Join(dir, "in", "bids.jsonl"), strings.Join(lines, "\n")+"\n")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"run", "-c", cfg}, io.Discard, io.Discard) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d", code)
		}
	}()

	// pgx: wait until the view holds every event.
	url := "postgres://strata@" + pgAddr + "/strata?sslmode=disable"
	var conn *pgx.Conn
	waitFor(t, func() bool {
		if conn == nil {
			c, err := pgx.Connect(context.Background(), url)
			if err != nil {
				return false
			}
			conn = c
		}
		var n int64
		err := conn.QueryRow(context.Background(), "SELECT sum(bids)::bigint FROM per_auction").Scan(&n)
		return err == nil && n == 30
	}, "the postgres server and the view")
	defer conn.Close(context.Background())
	qctx, qcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer qcancel()

	// Extended protocol with parameters, typed and untyped.
	var bids, volume int64
	if err := conn.QueryRow(qctx, "SELECT bids, volume::bigint FROM per_auction WHERE auction = $1", 1).Scan(&bids, &volume); err != nil {
		t.Fatal(err)
	}
	if bids != 10 || volume != 1+4+7+10+13+16+19+22+25+28 {
		t.Errorf("auction 1: bids %d volume %d", bids, volume)
	}
	if err := conn.QueryRow(qctx, "SELECT count(*) FROM per_auction WHERE auction >= $1::bigint AND auction < $2::int", int64(1), 3).Scan(&bids); err != nil || bids != 2 {
		t.Errorf("typed parameters: %d %v", bids, err)
	}
	// Injection attempts come back as the very values sent.
	for _, v := range []string{`it's`, `a\'b`, `\`, `'); SELECT 1; --`, `$$x$$`, "é\n\t", `E'\x41'`} {
		var got string
		if err := conn.QueryRow(qctx, "SELECT $1::text", v).Scan(&got); err != nil || got != v {
			t.Errorf("round trip of %q: got %q, %v", v, got, err)
		}
		if err := conn.QueryRow(qctx, "SELECT $1 || ''", v).Scan(&got); err != nil || got != v {
			t.Errorf("untyped round trip of %q: got %q, %v", v, got, err)
		}
	}
	var pe *pgconn.PgError
	if _, err := conn.Exec(qctx, "SELECT $1::text", "a\x00b"); !errors.As(err, &pe) || pe.Code != "22021" {
		t.Errorf("NUL in a parameter: %v", err)
	}
	for sql, code := range map[string]string{"SELECT * FROM nope": "42P01", "SELEC 1": "42601", "DELETE FROM per_auction": "25006"} {
		if _, err := conn.Exec(qctx, sql); !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: %v, want SQLSTATE %s", sql, err, code)
		}
	}

	// psql: several -c commands run in one session; the malformed one
	// reports a clear error and the next ones still run.
	psqlRun := func(args ...string) (string, string) {
		t.Helper()
		cmd := exec.CommandContext(qctx, psql, append([]string{"-X", "-w", "-h", "127.0.0.1", "-p", port, "-U", "strata", "-d", "strata"}, args...)...)
		cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGSSLMODE=prefer")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String()
	}
	out, errOut := psqlRun("-A", "-F", ",",
		"-c", "SET application_name = 'pgwire_test'",
		"-c", "SELECT auction, bids, volume FROM per_auction ORDER BY auction",
		"-c", "SELEC auction FROM per_auction",
		"-c", "SELECT * FROM no_such_view",
		// psql's \d commands call Postgres-only catalog functions: they
		// fail with DuckDB's error, and the session goes on.
		"-c", `\dt`,
		"-c", "SHOW application_name",
		"-c", "SELECT count(*) AS n FROM per_auction")
	wantOut := "SET\nauction,bids,volume\n0,10,135\n1,10,145\n2,10,155\n(3 rows)\napplication_name\npgwire_test\n(1 row)\nn\n3\n(1 row)\n"
	if out != wantOut {
		t.Errorf("psql -c output:\n got %q\nwant %q", out, wantOut)
	}
	for _, want := range []string{`ERROR:  Parser Error: syntax error at or near "SELEC"`, "ERROR:  Catalog Error: Table with name no_such_view does not exist"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("psql stderr lacks %q:\n%s", want, errOut)
		}
	}

	// psql -f: a prepared statement with PREPARE / EXECUTE.
	script := filepath.Join(dir, "prepared.sql")
	writeFile(t, script, `PREPARE top_auction (bigint) AS
  SELECT auction, volume FROM per_auction WHERE volume > $1 ORDER BY volume DESC LIMIT 1;
EXECUTE top_auction (100);
EXECUTE top_auction(155);
EXECUTE top_auction ('oops');
DEALLOCATE top_auction;
SELECT version();
`)
	out, errOut = psqlRun("-A", "-t", "-f", script)
	if want := "PREPARE\n2|155\nDEALLOCATE\n"; !strings.HasPrefix(out, want) || !strings.Contains(out, "PostgreSQL 16.0 (Strata)") {
		t.Errorf("psql -f output:\n got %q\nwant prefix %q and the version", out, want)
	}
	if !strings.Contains(errOut, "Conversion Error") || !strings.Contains(errOut, "oops") {
		t.Errorf("psql -f stderr: %q", errOut)
	}
}
