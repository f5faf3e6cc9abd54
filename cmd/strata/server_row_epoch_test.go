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

	"github.com/stratadb/strata/engine/core"
)

// TestHTTPRowEpoch checks the point route's epoch conditions, which match
// the range route's: ?epoch=E answers only at E (409 naming the readable
// epoch otherwise), ?min_epoch=E waits up to ?timeout= for E.
func TestHTTPRowEpoch(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
data_dir: ./state
sources:
  - name: bids
    connector: file
    options: {path: "in/*.jsonl"}
    format: json
    schema: [{name: auction, type: bigint}, {name: price, type: bigint}]
views:
  - name: per_auction
    sql: SELECT auction, count(*) AS n FROM bids GROUP BY auction
    storage: [pebble, duckdb]
`)
	var lines strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&lines, `{"auction": %d, "price": %d}`+"\n", i%3, i)
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

	for _, tc := range []struct {
		path string
		code int
		want string // the row's n, or a piece of the error
	}{
		{"/v1/views/per_auction/rows/1", 200, "4"},
		{fmt.Sprintf("/v1/views/per_auction/rows/1?epoch=%d", committed), 200, "4"},
		{fmt.Sprintf("/v1/views/per_auction/rows/1?epoch=%d", committed+1), 409, fmt.Sprintf("retry at %d", committed)},
		{fmt.Sprintf("/v1/views/per_auction/rows/1?epoch=%d", committed-1), 409, "is not the one committed"},
		{"/v1/views/per_auction/rows/1?epoch=x", 400, "want an epoch number"},
		{fmt.Sprintf("/v1/views/per_auction/rows/2?min_epoch=%d", committed), 200, "4"},
		{fmt.Sprintf("/v1/views/per_auction/rows/2?min_epoch=%d&timeout=30ms", committed+1), 504, "not committed within 30ms"},
		{"/v1/views/per_auction/rows/2?min_epoch=-1", 400, "want an epoch number"},
		{fmt.Sprintf("/v1/views/per_auction/rows/9?epoch=%d", committed), 404, "no row with key 9"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.code, body)
			}
			if tc.code != 200 {
				if msg, _ := body["error"].(string); !strings.Contains(msg, tc.want) {
					t.Fatalf("error %q does not say %q", msg, tc.want)
				}
				return
			}
			if got := fmt.Sprint(body["row"].(map[string]any)["n"]); got != tc.want {
				t.Errorf("n = %s, want %s", got, tc.want)
			}
			if e := body["epoch"].(float64); core.Epoch(e) != committed {
				t.Errorf("epoch %v, want %d", e, committed)
			}
		})
	}
	// The SQL route waits the same way (strata query --min-epoch).
	for _, tc := range []struct {
		min  core.Epoch
		code int
	}{{committed, 200}, {committed + 1, 504}} {
		resp, err := http.Post(fmt.Sprintf("%s/v1/sql?min_epoch=%d&timeout=30ms", srv.URL, tc.min), "application/json", strings.NewReader(`{"sql": "SELECT count(*) FROM per_auction"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("POST /v1/sql?min_epoch=%d: status %d, want %d", tc.min, resp.StatusCode, tc.code)
		}
	}
}

// TestCLIMinEpoch: strata get and strata query --min-epoch answer once the
// epoch is committed and fail after --timeout when it is not.
func TestCLIMinEpoch(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	writeFile(t, cfg, `
data_dir: ./state
sources:
  - name: bids
    connector: file
    options: {path: "in/*.jsonl"}
    format: json
    schema: [{name: auction, type: bigint}, {name: price, type: bigint}]
views:
  - name: per_auction
    sql: SELECT auction, count(*) AS n FROM bids GROUP BY auction
    storage: [pebble, duckdb]
`)
	writeFile(t, filepath.Join(dir, "in/a.jsonl"), `{"auction": 1, "price": 3}`+"\n"+`{"auction": 1, "price": 4}`+"\n")
	// Before any run nothing is committed: the wait times out.
	code, _, errOut := strata(t, "get", "-c", cfg, "per_auction", "1", "--min-epoch", "1", "--timeout", "100ms")
	if code == 0 || !strings.Contains(errOut, "epoch 1 not committed within 100ms (committed: 0)") {
		t.Fatalf("get before any run: exit %d, stderr %q", code, errOut)
	}
	mustStrata(t, "run", "-c", cfg, "--until-idle")
	d, err := load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := committedLocal(context.Background(), d, []string{"pebble", "duckdb"})
	if err != nil || committed == 0 {
		t.Fatalf("committed %d, err %v", committed, err)
	}
	at := fmt.Sprint(committed)
	if out := mustStrata(t, "get", "-c", cfg, "per_auction", "1", "--min-epoch", at, "--format", "csv"); !strings.Contains(out, "1,2") {
		t.Errorf("get --min-epoch %s: %q", at, out)
	}
	if out := mustStrata(t, "query", "-c", cfg, "SELECT n FROM per_auction", "--min-epoch", at, "--format", "csv"); !strings.Contains(out, "2") {
		t.Errorf("query --min-epoch %s: %q", at, out)
	}
	next := fmt.Sprint(committed + 1)
	for _, args := range [][]string{
		{"get", "-c", cfg, "per_auction", "1"},
		{"query", "-c", cfg, "SELECT n FROM per_auction"},
	} {
		code, _, errOut := strata(t, append(args, "--min-epoch", next, "--timeout", "100ms")...)
		if want := fmt.Sprintf("epoch %s not committed within 100ms (committed: %d)", next, committed); code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("%s --min-epoch %s: exit %d, stderr %q, want %q", args[0], next, code, errOut, want)
		}
	}
}
