package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// server answers the HTTP API over a deployment's backends. It only reads
// them, through the read interfaces (core.Querier, core.KeyLookup), which
// the Backend contract allows concurrently with Apply.
type server struct {
	d        *deployment
	backends map[string]core.Backend
	epoch    func() core.Epoch
	log      *slog.Logger
	metrics  func() engine.Metrics
	hub      *hub
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /v1/sql", s.sql)
	mux.HandleFunc("GET /v1/views/{view}/rows/{key...}", s.row)
	mux.HandleFunc("GET /v1/views/{view}/rows", s.rows) // server_range.go
	mux.HandleFunc("GET /v1/views/{view}/changes", s.changes)
	mux.HandleFunc("GET /v1/udfs", s.udfs)
	if s.metrics != nil {
		mux.HandleFunc("GET /metrics", metricsHandler(s.metrics, s.d.udfs.stats))
	}
	return mux
}

// serve listens on addr until ctx is done.
func (s *server) serve(ctx context.Context, addr string) (stop func() error, err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w (is another strata running? change server.http)", addr, err)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	s.log.Info("serving HTTP", "addr", ln.Addr().String())
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "epoch": s.epoch()})
}

// udfs reports each UDF module: the version serving, a build staged for
// the next epoch, the last refused build and why.
func (s *server) udfs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"epoch": s.epoch(), "udfs": s.d.udfs.status()})
}

// sql runs ad-hoc SQL on DuckDB. The body is {"sql": "..."} or the SQL text.
func (s *server) sql(w http.ResponseWriter, r *http.Request) {
	// ?min_epoch= waits as on the row routes (strata query --min-epoch).
	if err := s.waitEpoch(r.Context(), r.URL.Query().Get("min_epoch"), r.URL.Query().Get("timeout")); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusGatewayTimeout
		}
		writeJSON(w, code, map[string]any{"error": err.Error(), "epoch": s.epoch()})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	q := string(body)
	if strings.HasPrefix(strings.TrimSpace(q), "{") {
		var req struct {
			SQL string `json:"sql"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("body: %w (send {\"sql\": \"SELECT ..\"})", err))
			return
		}
		q = req.SQL
	}
	res, err := querySQL(r.Context(), s.backends, q)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) row(w http.ResponseWriter, r *http.Request) {
	view := r.PathValue("view")
	key := strings.Split(r.PathValue("key"), "/")
	q := r.URL.Query()
	// ?min_epoch= and ?epoch= as on the range route (server_range.go).
	if err := s.waitEpoch(r.Context(), q.Get("min_epoch"), q.Get("timeout")); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusGatewayTimeout
		}
		writeJSON(w, code, map[string]any{"error": err.Error(), "epoch": s.epoch()})
		return
	}
	var want core.Epoch
	pinned := q.Has("epoch")
	if e := q.Get("epoch"); pinned {
		n, err := strconv.ParseUint(e, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("epoch=%q: want an epoch number", e))
			return
		}
		want = core.Epoch(n)
	}
	res, found, err := lookup(r.Context(), s.d, s.backends, view, key)
	if err == nil && pinned && res.Epoch != want {
		// Backends keep only their latest committed state, so the one
		// readable epoch is the one the lookup read.
		writeJSON(w, http.StatusConflict, map[string]any{"error": fmt.Sprintf("epoch %d is not the one committed (%d): backends keep only the latest; retry at %d", want, res.Epoch, res.Epoch), "epoch": res.Epoch})
		return
	}
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, core.ErrUnknownView) {
			code = http.StatusNotFound
		}
		writeErr(w, code, err)
		return
	}
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("view %s has no row with key %s", view, strings.Join(key, ", ")), "epoch": res.Epoch, "no_row": true})
		return
	}
	obj := map[string]any{}
	for i, c := range res.Columns {
		obj[c.Name] = res.Rows[0][i]
	}
	writeJSON(w, http.StatusOK, map[string]any{"epoch": res.Epoch, "view": view, "row": obj, "columns": res.Columns})
}

// querySQL runs ad-hoc SQL on the backend that answers SQL (DuckDB).
func querySQL(ctx context.Context, bs map[string]core.Backend, q string) (*result, error) {
	b, ok := bs["duckdb"]
	if !ok {
		return nil, errors.New("no SQL backend is open (duckdb)")
	}
	qr, ok := b.(core.Querier)
	if !ok {
		return nil, errors.New("duckdb backend does not answer SQL")
	}
	rd, epoch, err := qr.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	return readResult(rd, epoch)
}

// lookup finds a view's row by primary key in a backend that serves key
// lookups and stores the view.
func lookup(ctx context.Context, d *deployment, bs map[string]core.Backend, view string, key []string) (*result, bool, error) {
	p, ok := d.plans[view]
	if !ok {
		if view == core.DeadLetterView {
			return nil, false, fmt.Errorf("%w: dead_letters is served by SQL: strata query \"SELECT * FROM dead_letters\"", core.ErrUnknownView)
		}
		return nil, false, fmt.Errorf("%w %q (views: %s)", core.ErrUnknownView, view, strings.Join(d.viewNames(), ", "))
	}
	var kl core.KeyLookup
	for _, v := range d.cfg.Views {
		if v.Name != view {
			continue
		}
		// Prefer Pebble, the backend built for point lookups.
		for _, s := range append([]string{"pebble"}, v.Storage...) {
			if !slices.Contains(v.Storage, s) {
				continue
			}
			if l, ok := bs[s].(core.KeyLookup); ok {
				kl = l
				break
			}
		}
	}
	if kl == nil {
		return nil, false, fmt.Errorf("view %s is not stored in a backend that serves key lookups; add pebble to its storage", view)
	}
	if len(p.Key) == 0 {
		return nil, false, fmt.Errorf("view %s has no primary key (it is not a GROUP BY view selecting all its keys); query it with SQL instead", view)
	}
	if len(key) != len(p.Key) {
		return nil, false, fmt.Errorf("view %s has a key of %d column(s) (%s), got %d value(s)", view, len(p.Key), strings.Join(p.Key, ", "), len(key))
	}
	kv := make([]any, len(key))
	for i, k := range key {
		kv[i] = k
	}
	row, found, epoch, err := kl.Lookup(ctx, view, kv)
	res := &result{Epoch: epoch, Rows: [][]any{}}
	for _, c := range p.Columns {
		res.Columns = append(res.Columns, resultCol{Name: c.Name, Type: c.Type.Name})
	}
	if err != nil || !found {
		return res, false, err
	}
	out := make([]any, len(row))
	for i, v := range row {
		out[i] = jsonValue(v)
	}
	res.Rows = append(res.Rows, out)
	return res, true, nil
}

func (d *deployment) viewNames() []string {
	out := make([]string, 0, len(d.cfg.Views))
	for _, v := range d.cfg.Views {
		out = append(out, v.Name)
	}
	return out
}
