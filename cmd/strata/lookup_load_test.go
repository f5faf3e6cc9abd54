package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratadb/strata/connect/gen"
)

var (
	lookupLoad     = flag.Bool("lookup.load", os.Getenv("STRATA_LOADTEST") == "1", "run TestLookupLoad, the HTTP point-lookup load generator (or STRATA_LOADTEST=1)")
	lookupRate     = flag.Int("lookup.rate", 5000, "TestLookupLoad: lookups per second")
	lookupDuration = flag.Duration("lookup.duration", 10*time.Second, "TestLookupLoad: how long to measure")
	lookupStorage  = flag.String("lookup.storage", "pebble, duckdb", "TestLookupLoad: the view's storage list")
)

// TestLookupLoad is the load generator of issue #5's lookup goal: point
// lookups over HTTP (GET /v1/views/{view}/rows/{key}, served by Pebble) at a
// fixed open-loop rate, while the engine ingests a datagen stream into the
// same view, on loopback. It logs p50/p99/max latency and the rows ingested
// meanwhile. Latency runs from each request's scheduled send time, not from
// when a goroutine got round to sending it, so a stall on the client or the
// server counts against every request it delayed (no coordinated
// omission). Every answer is checked: status 200 and the key asked for.
// Run it with:
//
//	STRATA_LOADTEST=1 go test -tags duckdb_arrow ./cmd/strata -run TestLookupLoad -v
//
// Without STRATA_LOADTEST it runs as a smoke test: 200 lookups at
// 1,000/s, checking answers, not latency.
func TestLookupLoad(t *testing.T) {
	rate, dur := *lookupRate, *lookupDuration
	if !*lookupLoad {
		rate, dur = 1000, 200*time.Millisecond
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "strata.yaml")
	httpAddr := freeAddr(t)
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: ./state
server: {http: "%s"}
engine: {epoch_interval: 100ms}
sources:
  - name: events
    connector: %s
    options: {rate: 20000, cardinality: 10000}
    schema: [{name: k, type: bigint}, {name: v, type: bigint}]
views:
  - name: per_key
    sql: SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k
    storage: [%s]
`, httpAddr, gen.Name, *lookupStorage))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var runErr syncBuffer
	go func() { done <- run(ctx, []string{"run", "-c", cfg}, io.Discard, &runErr) }()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d: %s", code, lastLine(runErr.String(), ""))
		}
	}()
	waitServer(t, httpAddr)
	base := "http://" + httpAddr
	// Warm up: wait for keys, and take them from the range endpoint.
	var keys []string
	waitFor(t, func() bool {
		resp, err := http.Get(base + "/v1/views/per_key/rows?limit=100000")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body struct {
			Rows []map[string]any `json:"rows"`
		}
		if json.NewDecoder(resp.Body).Decode(&body) != nil || len(body.Rows) < 1000 {
			return false
		}
		keys = keys[:0]
		for _, r := range body.Rows {
			keys = append(keys, fmt.Sprint(r["k"]))
		}
		return true
	}, "keys to look up")
	epoch := func() float64 {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&h)
		return h["epoch"].(float64)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}, Timeout: 5 * time.Second}
	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	var lat []time.Duration
	var fails int
	var wg sync.WaitGroup
	e0 := epoch()
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	n := int(dur / interval)
	for i := 0; i < n; i++ {
		// Open loop: request i starts at start + i*interval, whatever the
		// earlier ones are doing, so a slow answer cannot lower the rate.
		sched := start.Add(time.Duration(i) * interval)
		if d := time.Until(sched); d > 0 {
			time.Sleep(d)
		}
		key := keys[rng.IntN(len(keys))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(base + "/v1/views/per_key/rows/" + key)
			ok := err == nil && resp.StatusCode == 200
			if err == nil {
				var body struct {
					Row map[string]any `json:"row"`
				}
				ok = ok && json.NewDecoder(resp.Body).Decode(&body) == nil && fmt.Sprint(body.Row["k"]) == key
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			d := time.Since(sched)
			mu.Lock()
			lat = append(lat, d)
			if !ok {
				fails++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	e1 := epoch()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	t.Logf("%d lookups in %v (%.0f/s), %d failed: p50 %v, p90 %v, p99 %v, max %v; meanwhile the engine committed %v epochs (datagen at 20000 rows/s)",
		len(lat), elapsed.Round(time.Millisecond), float64(len(lat))/elapsed.Seconds(), fails,
		pct(0.5), pct(0.9), pct(0.99), lat[len(lat)-1], e1-e0)
	if fails > 0 {
		t.Errorf("%d lookups failed or answered another key", fails)
	}
	if *lookupLoad && e1 <= e0 {
		t.Errorf("the engine committed no epoch while serving lookups (%v..%v): not measured under ingestion", e0, e1)
	}
}
