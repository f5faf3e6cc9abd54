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
    storage: [pebble]
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
}
