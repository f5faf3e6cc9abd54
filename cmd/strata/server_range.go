package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratadb/strata/engine/core"
)

// Range reads and read-your-writes over HTTP:
//
//	GET /v1/views/{view}/rows?prefix=3            rows whose first key columns equal 3
//	GET /v1/views/{view}/rows?from=3&to=7         rows with 3 <= key < 7 (key order)
//	GET /v1/views/{view}/rows?prefix=a&from=a,5   both: the prefix, from (a,5) on
//	    &limit=N       at most N rows (default 1000, at most 100000); "truncated" says more exist
//	    &min_epoch=E   wait (up to &timeout=, default 10s) until epoch E is committed
//	    &epoch=E       answer only at epoch E exactly (409 with the current epoch otherwise)
//
// prefix, from and to are comma-separated key values in key-column order,
// CSV-quoted when a value holds a comma ("a,b",3); NULL is the NULL key.
// Keys order as in Pebble: NULL first, then by value. The rows come from a
// backend that scans in key order (Pebble, else Postgres) and the response
// names the one epoch they all reflect.

const (
	defaultRangeLimit = 1000
	maxRangeLimit     = 100000
	defaultMinWait    = 10 * time.Second
)

// keyScanner is the ordered prefix scan of Pebble and Postgres.
type keyScanner interface {
	Scan(ctx context.Context, view string, prefix []any, fn func(row []any) error) (core.Epoch, error)
}

// errStop ends a scan early.
var errStop = errors.New("stop")

func (s *server) rows(w http.ResponseWriter, r *http.Request) {
	view := r.PathValue("view")
	q := r.URL.Query()
	p, ok := s.d.plans[view]
	if !ok {
		writeErr(w, http.StatusNotFound, fmt.Errorf("%w %q (views: %s)", core.ErrUnknownView, view, strings.Join(s.d.viewNames(), ", ")))
		return
	}
	if len(p.Key) == 0 {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("view %s has no primary key; query it with SQL instead", view))
		return
	}
	if err := s.waitEpoch(r.Context(), q.Get("min_epoch"), q.Get("timeout")); err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusGatewayTimeout
		}
		writeJSON(w, code, map[string]any{"error": err.Error(), "epoch": s.epoch()})
		return
	}
	keyCols := make([]core.Column, len(p.Key))
	keyIdx := make([]int, len(p.Key))
	for i, k := range p.Key {
		for j, c := range p.Columns {
			if c.Name == k {
				keyCols[i], keyIdx[i] = c, j
			}
		}
	}
	parse := func(param string) ([]any, error) {
		if !q.Has(param) {
			return nil, nil
		}
		return parseKey(q.Get(param), keyCols, param)
	}
	prefix, err1 := parse("prefix")
	from, err2 := parse("from")
	to, err3 := parse("to")
	limit, err4 := parseLimit(q.Get("limit"))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	sc, ordered := s.scanner(view)
	if sc == nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("view %s is not stored in a backend that scans keys in order; add pebble (or postgres) to its storage", view))
		return
	}
	// Scan the longest prefix that every answer shares, then bound it.
	scanPrefix := prefix
	if len(scanPrefix) == 0 && from != nil && to != nil {
		n := 0
		for n < len(from) && n < len(to) && compareKey(from[n], to[n]) == 0 {
			n++
		}
		scanPrefix = from[:n]
	}
	res := &result{Rows: [][]any{}}
	for _, c := range p.Columns {
		res.Columns = append(res.Columns, resultCol{Name: c.Name, Type: c.Type.Name})
	}
	truncated := false
	epoch, err := sc.Scan(r.Context(), view, scanPrefix, func(row []any) error {
		key := make([]any, len(keyIdx))
		for i, j := range keyIdx {
			key[i] = row[j]
		}
		if from != nil && compareKeys(key, from) < 0 {
			return nil
		}
		if len(prefix) > 0 && compareKeys(key, prefix) != 0 {
			return nil
		}
		if to != nil && compareKeys(key, to) >= 0 {
			if ordered {
				return errStop // nothing further is in range
			}
			return nil
		}
		if len(res.Rows) == limit {
			truncated = true
			return errStop
		}
		out := make([]any, len(row))
		for i, v := range row {
			out[i] = jsonValue(v)
		}
		res.Rows = append(res.Rows, out)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		code := http.StatusBadRequest
		if errors.Is(err, core.ErrUnknownView) {
			code = http.StatusNotFound
		}
		writeErr(w, code, err)
		return
	}
	if e := q.Get("epoch"); e != "" {
		want, err := strconv.ParseUint(e, 10, 64)
		if err != nil {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("epoch=%q: want an epoch number", e))
			return
		}
		if core.Epoch(want) != epoch {
			writeJSON(w, http.StatusConflict, map[string]any{"error": fmt.Sprintf("epoch %d is not the one committed (%d): backends keep only the latest; retry at %d", want, epoch, epoch), "epoch": epoch})
			return
		}
	}
	objs := make([]map[string]any, len(res.Rows))
	for i, row := range res.Rows {
		obj := make(map[string]any, len(row))
		for j, c := range res.Columns {
			obj[c.Name] = row[j]
		}
		objs[i] = obj
	}
	writeJSON(w, http.StatusOK, map[string]any{"epoch": epoch, "view": view, "columns": res.Columns, "rows": objs, "truncated": truncated})
}

// scanner returns the backend that serves scans of view: Pebble if it
// stores the view, else another that scans (Postgres). ordered reports
// that its order is the one compareKey defines (Pebble's encoding; a
// Postgres collation may order text otherwise), so a scan may stop at the
// upper bound.
func (s *server) scanner(view string) (sc keyScanner, ordered bool) {
	for _, v := range s.d.cfg.Views {
		if v.Name != view {
			continue
		}
		for _, name := range append([]string{"pebble"}, v.Storage...) {
			if !slices.Contains(v.Storage, name) {
				continue
			}
			if sc, ok := s.backends[name].(keyScanner); ok {
				return sc, name == "pebble"
			}
		}
	}
	return nil, false
}

// waitEpoch waits until the engine has committed min (a decimal epoch; ""
// waits for nothing) to every backend, or the timeout passes.
func (s *server) waitEpoch(ctx context.Context, min, timeout string) error {
	if min == "" {
		return nil
	}
	want, err := strconv.ParseUint(min, 10, 64)
	if err != nil {
		return fmt.Errorf("min_epoch=%q: want an epoch number", min)
	}
	d := defaultMinWait
	if timeout != "" {
		if d, err = time.ParseDuration(timeout); err != nil || d < 0 {
			return fmt.Errorf("timeout=%q: want a duration such as 500ms", timeout)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for s.epoch() < core.Epoch(want) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("epoch %d not committed within %v (committed: %d): %w", want, d, s.epoch(), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultRangeLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxRangeLimit {
		return 0, fmt.Errorf("limit=%q: want 1 to %d", s, maxRangeLimit)
	}
	return n, nil
}

// parseKey parses comma-separated (CSV) key values for the first key
// columns cols.
func parseKey(s string, cols []core.Column, param string) ([]any, error) {
	rd := csv.NewReader(strings.NewReader(s))
	rd.LazyQuotes = true
	fields, err := rd.Read()
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", param, s, err)
	}
	if len(fields) > len(cols) {
		return nil, fmt.Errorf("%s has %d values, the key only %d columns", param, len(fields), len(cols))
	}
	out := make([]any, len(fields))
	for i, f := range fields {
		v, err := parseKeyValue(cols[i].Type, f)
		if err != nil {
			return nil, fmt.Errorf("%s: key column %q: %w", param, cols[i].Name, err)
		}
		out[i] = v
	}
	return out, nil
}

// parseKeyValue parses text into the core.ValueAt form of type t.
func parseKeyValue(t core.Type, s string) (any, error) {
	if s == "NULL" {
		return nil, nil
	}
	bad := func(err error) error { return fmt.Errorf("cannot parse %q as %s: %v", s, t.Name, err) }
	switch t.Name {
	case "bigint":
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case "integer":
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return nil, bad(err)
		}
		return int32(v), nil
	case "double":
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case "boolean":
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case "varchar":
		return s, nil
	case "bytea":
		if h, ok := strings.CutPrefix(s, `\x`); ok {
			v, err := hex.DecodeString(h)
			if err != nil {
				return nil, bad(err)
			}
			return v, nil
		}
		return []byte(s), nil
	case "date":
		v, err := time.Parse("2006-01-02", s)
		if err != nil {
			return nil, bad(err)
		}
		return v, nil
	case "timestamp", "timestamptz":
		for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
			if v, err := time.Parse(l, s); err == nil {
				return v.UTC(), nil
			}
		}
		return nil, bad(errors.New("want 2006-01-02 15:04:05[.999999]"))
	}
	return nil, fmt.Errorf("key columns of type %s cannot be given as text", t.Name)
}

// compareKeys compares a row's key with a bound of up to as many values:
// a shorter bound compares on its columns only, so from=(3) includes every
// key starting with 3 and to=(3) excludes them.
func compareKeys(key, bound []any) int {
	for i, b := range bound {
		if c := compareKey(key[i], b); c != 0 {
			return c
		}
	}
	return 0
}

// compareKey orders two values of one column: NULL first, then by value.
func compareKey(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case int64:
		return cmpOrdered(x, b.(int64))
	case int32:
		return cmpOrdered(x, b.(int32))
	case float64:
		return cmpOrdered(x, b.(float64))
	case string:
		return strings.Compare(x, b.(string))
	case []byte:
		return bytes.Compare(x, b.([]byte))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func cmpOrdered[T int64 | int32 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
