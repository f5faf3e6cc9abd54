package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/backends/postgres"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil/pgtest"
)

// TestHTTPRange serves range reads over a deployment's committed views:
// key ranges and prefixes from Pebble (and from Postgres for a view only it
// stores), limits, and the epoch conditions.
func TestHTTPRange(t *testing.T) {
	t.Setenv(postgres.EnvDSN, pgtest.DSN(t))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
data_dir: ./state
sources:
  - name: bids
    connector: file
    options: {path: "in/*.jsonl"}
    format: json
    schema: [{name: auction, type: bigint}, {name: bidder, type: varchar}, {name: price, type: bigint}]
views:
  - name: per_auction
    sql: SELECT auction, count(*) AS n FROM bids GROUP BY auction
    storage: [pebble, duckdb]
  - name: per_bidder
    sql: SELECT bidder, auction, sum(price) AS total FROM bids GROUP BY bidder, auction
    storage: [postgres]
`)
	var lines strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&lines, `{"auction": %d, "bidder": "%s", "price": %d}`+"\n", i%6, []string{"ann", "bob", "a,b"}[i%3], i)
	}
	writeFile(t, filepath.Join(dir, "in/a.jsonl"), lines.String())
	mustStrata(t, "run", "-c", cfg, "--until-idle")

	d, err := load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := d.openBackends(context.Background(), memory.NewGoAllocator(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(bs)
	committed, _, err := bs["pebble"].Committed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := &server{d: d, backends: bs, epoch: func() core.Epoch { return committed }, log: slog.Default()}
	srv := httptest.NewServer(s.handler())
	defer srv.Close()

	get := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.StatusCode, body
	}
	// rows renders the answer's rows as "v1/v2/..." in column order.
	rows := func(body map[string]any) string {
		var cols []string
		for _, c := range body["columns"].([]any) {
			cols = append(cols, c.(map[string]any)["name"].(string))
		}
		var out []string
		for _, r := range body["rows"].([]any) {
			var vals []string
			for _, c := range cols {
				vals = append(vals, fmt.Sprint(r.(map[string]any)[c]))
			}
			out = append(out, strings.Join(vals, "/"))
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		path string
		code int
		want string // rows, or a piece of the error
	}{
		{"/v1/views/per_auction/rows", 200, "0/5 1/5 2/5 3/5 4/5 5/5"},
		{"/v1/views/per_auction/rows?from=2&to=4", 200, "2/5 3/5"},
		{"/v1/views/per_auction/rows?from=4", 200, "4/5 5/5"},
		{"/v1/views/per_auction/rows?prefix=3", 200, "3/5"},
		{"/v1/views/per_auction/rows?limit=2", 200, "0/5 1/5"},
		{"/v1/views/per_auction/rows?from=x", 400, `cannot parse "x" as bigint`},
		{"/v1/views/per_auction/rows?prefix=1,2", 400, "prefix has 2 values, the key only 1 columns"},
		{fmt.Sprintf("/v1/views/per_auction/rows?prefix=1&epoch=%d", committed), 200, "1/5"},
		{fmt.Sprintf("/v1/views/per_auction/rows?prefix=1&epoch=%d", committed+1), 409, "is not the one committed"},
		{fmt.Sprintf("/v1/views/per_auction/rows?min_epoch=%d", committed), 200, "0/5 1/5 2/5 3/5 4/5 5/5"},
		{fmt.Sprintf("/v1/views/per_auction/rows?min_epoch=%d&timeout=30ms", committed+1), 504, "not committed within 30ms"},
		{"/v1/views/nope/rows", 404, "unknown view"},
		// per_bidder lives in Postgres only; keys with a comma are quoted.
		{"/v1/views/per_bidder/rows?prefix=ann", 200, "ann/0/60 ann/3/75"},
		{`/v1/views/per_bidder/rows?prefix="a,b"`, 200, "a,b/2/70 a,b/5/85"},
		{"/v1/views/per_bidder/rows?from=bob,3&to=bob,5", 200, "bob/4/80"},
		{"/v1/views/per_bidder/rows?from=bob,3", 200, "bob/4/80"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := get(tc.path)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, body)
			}
			if code != 200 {
				if msg, _ := body["error"].(string); !strings.Contains(msg, tc.want) {
					t.Fatalf("error %q does not say %q", msg, tc.want)
				}
				return
			}
			if got := rows(body); got != tc.want {
				t.Errorf("rows %q, want %q", got, tc.want)
			}
			if e := body["epoch"].(float64); core.Epoch(e) != committed {
				t.Errorf("epoch %v, want %d", e, committed)
			}
		})
	}
	if _, body := get("/v1/views/per_auction/rows?limit=2"); body["truncated"] != true {
		t.Errorf("limit=2 of 6 rows: truncated = %v", body["truncated"])
	}
}
