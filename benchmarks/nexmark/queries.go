package nexmark

import (
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	gen "github.com/stratadb/strata/connect/nexmark"
	"github.com/stratadb/strata/engine/core"
)

//go:embed q*.sql
var files embed.FS

// Query is one Nexmark query as its file states it.
type Query struct {
	// Name is the file's name without .sql: q0 .. q22.
	Name string
	// Header is the file's leading comment without the "-- " markers: what
	// the query computes, its standard and the deviations from it.
	Header string
	// SQL is the view in Strata's dialect.
	SQL string
	// Oracle is the same query for DuckDB when its spelling differs (window
	// table functions); empty means SQL.
	Oracle string
	// Unsupported is the planner's error message (plans.Error.Msg) for a
	// query Strata cannot run yet; empty for a query that runs.
	Unsupported string
}

// OracleSQL returns the DuckDB spelling of q.
func (q Query) OracleSQL() string {
	if q.Oracle != "" {
		return q.Oracle
	}
	return q.SQL
}

// Title returns the first sentence of the header, e.g. "q5: Hot items.".
func (q Query) Title() string {
	line, _, _ := strings.Cut(q.Header, "\n")
	if i := strings.Index(line, ". "); i >= 0 {
		return line[:i+1]
	}
	return line
}

const (
	statusPrefix = "status: unsupported: "
	oracleMarker = "-- oracle:"
)

// parse reads a query file: a header of "-- " lines (one of them may be
// "-- status: unsupported: <planner error>"), the SQL, and optionally a line
// starting "-- oracle:" followed by DuckDB's spelling.
func parse(name, text string) (Query, error) {
	q := Query{Name: name}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	i := 0
	var header []string
	for ; i < len(lines) && strings.HasPrefix(lines[i], "--"); i++ {
		l := strings.TrimSpace(strings.TrimPrefix(lines[i], "--"))
		if rest, ok := strings.CutPrefix(l, statusPrefix); ok {
			q.Unsupported = strings.TrimSpace(rest)
			continue
		}
		header = append(header, l)
	}
	q.Header = strings.Join(header, "\n")
	body := lines[i:]
	for j, l := range body {
		if strings.HasPrefix(l, oracleMarker) {
			q.Oracle = strings.TrimSpace(strings.Join(body[j:], "\n"))
			body = body[:j]
			break
		}
	}
	q.SQL = strings.TrimSpace(strings.Join(body, "\n"))
	switch {
	case q.SQL == "":
		return q, fmt.Errorf("nexmark: %s.sql has no SQL after its header", name)
	case q.Header == "":
		return q, fmt.Errorf("nexmark: %s.sql has no header comment saying what it computes", name)
	}
	return q, nil
}

// Queries returns the queries q0 .. q22 in order.
func Queries() ([]Query, error) {
	names, err := fs.Glob(files, "q*.sql")
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, n := range names {
		text, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		q, err := parse(strings.TrimSuffix(n, ".sql"), string(text))
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Query) int { return number(a.Name) - number(b.Name) })
	return out, nil
}

// number returns N of "qN" (-1 when the name is not of that form).
func number(name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, "q"))
	if err != nil || !strings.HasPrefix(name, "q") {
		return -1
	}
	return n
}

// Lookup returns the query named name (q0 .. q22).
func Lookup(name string) (Query, bool) {
	qs, err := Queries()
	if err != nil {
		return Query{}, false
	}
	for _, q := range qs {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}

// SideInput is the relation q13 joins with: the pairs (i, 'i') for i in
// [0, SideInputRows), as the Flink suite's side input file.
const SideInput = "side_input"

// SideInputRows is the number of rows of the side input.
const SideInputRows = 10_000

// SideInputColumns are the side input's columns.
var SideInputColumns = []core.Column{{Name: "key", Type: core.Bigint}, {Name: "value", Type: core.Varchar}}

// Relations returns every relation a query may read with its columns: the
// three Nexmark tables (all their columns) and the side input.
func Relations() map[string][]core.Column {
	out := map[string][]core.Column{SideInput: SideInputColumns}
	for _, t := range gen.Tables {
		out[t.String()] = gen.Columns(t)
	}
	return out
}
