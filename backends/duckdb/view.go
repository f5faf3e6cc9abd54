//go:build duckdb_arrow && cgo

package duckdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/backends"

	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// view is what the backend knows of one view: its definition and the SQL
// statements Apply runs for it. Immutable once built.
type view struct {
	def       core.ViewDef
	changelog *arrow.Schema // canonical changelog schema of the view
	table     string        // quoted table name
	stage     string        // quoted name of the writer's temporary staging table
	multiset  bool
	identity  []int
	ensured   bool // EnsureView ran in this process: the staging table exists
	stageN    int

	createTable, createStage string
	fillStage, clearStage    string
	appendRows               string // multiset: an all-insert epoch straight into the table
	// keyed views
	deleteKeys, insertRows string
	// multiset views
	deleteCopies, insertCopies string
	// lookup
	lookup string
}

// checkNames rejects what would collide with the backend's own tables or
// with the rowid pseudo-column its statements use.
func checkNames(v core.ViewDef) error {
	if strings.HasPrefix(strings.ToLower(v.Name), reservedPrefix) {
		return fmt.Errorf("duckdb: view %q: names starting with %s are reserved", v.Name, reservedPrefix)
	}
	for _, c := range v.Columns {
		if strings.EqualFold(c.Name, "rowid") {
			return fmt.Errorf("duckdb: view %q: column name %q is reserved", v.Name, c.Name)
		}
	}
	return nil
}

func newView(def core.ViewDef, stageN int) (*view, error) {
	v := &view{
		def:       def,
		changelog: schema.ChangelogSchema(def),
		table:     ident(def.Name),
		stage:     ident(fmt.Sprintf("%sstage_%d", reservedPrefix, stageN)),
		multiset:  len(def.Key) == 0,
		identity:  schema.IdentityIndexes(def),
		stageN:    stageN,
	}
	cols := make([]string, len(def.Columns))    // "c"
	colDefs := make([]string, len(def.Columns)) // "c" TYPE
	for i, c := range def.Columns {
		t, err := sqlType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("duckdb: view %q: column %q: %w", def.Name, c.Name, err)
		}
		cols[i] = ident(c.Name)
		colDefs[i] = cols[i] + " " + t
	}
	ids := make([]string, len(v.identity))
	for i, j := range v.identity {
		ids[i] = cols[j]
	}
	// matches renders "a.k1 IS NOT DISTINCT FROM b.k1 AND ...".
	matches := func(a, b string, names []string) string {
		conds := make([]string, len(names))
		for i, n := range names {
			conds[i] = a + "." + n + " IS NOT DISTINCT FROM " + b + "." + n
		}
		return strings.Join(conds, " AND ")
	}
	colList := strings.Join(cols, ", ")
	qualified := func(alias string, names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = alias + "." + n
		}
		return strings.Join(q, ", ")
	}

	v.createTable = fmt.Sprintf("CREATE TABLE %s (%s)", v.table, strings.Join(colDefs, ", "))
	v.createStage = fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s (%s, %s BIGINT NOT NULL)", v.stage, strings.Join(colDefs, ", "), ident(core.WeightColumn))
	v.fillStage = fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", v.stage, inputView)
	v.clearStage = "DELETE FROM " + v.stage
	v.appendRows = fmt.Sprintf("INSERT INTO %s SELECT %s FROM %s", v.table, colList, inputView)
	w := ident(core.WeightColumn)
	if !v.multiset {
		// Every key the epoch touches goes, then the new rows come: an
		// upsert. Should the epoch hold several insertions of one key (the
		// engine consolidates, so it should not), the last one wins, as in
		// Pebble: the staging table keeps the batches' row order.
		v.deleteKeys = fmt.Sprintf("DELETE FROM %s AS t WHERE EXISTS (SELECT 1 FROM %s AS i WHERE i.%s <> 0 AND %s)",
			v.table, v.stage, w, matches("t", "i", ids))
		v.insertRows = fmt.Sprintf("INSERT INTO %s SELECT %s FROM %s WHERE %s > 0 QUALIFY row_number() OVER (PARTITION BY %s ORDER BY rowid DESC) = 1",
			v.table, colList, v.stage, w, strings.Join(ids, ", "))
	} else {
		net := fmt.Sprintf("SELECT %s, CAST(sum(%s) AS BIGINT) AS _n FROM %s GROUP BY %s", colList, w, v.stage, colList)
		v.insertCopies = fmt.Sprintf("INSERT INTO %s SELECT %s FROM (%s) AS p, range(p._n) WHERE p._n > 0",
			v.table, qualified("p", cols), net)
		v.deleteCopies = fmt.Sprintf("DELETE FROM %s WHERE rowid IN (SELECT _rid FROM ("+
			"SELECT t.rowid AS _rid, d._n, row_number() OVER (PARTITION BY %s) AS _rn "+
			"FROM %s AS t JOIN (SELECT %s, -_n AS _n FROM (%s) WHERE _n < 0) AS d ON %s) WHERE _rn <= _n)",
			v.table, qualified("t", cols), v.table, colList, net, matches("t", "d", cols))
	}
	conds := make([]string, len(v.identity))
	for i, j := range v.identity {
		t, _ := sqlType(def.Columns[j].Type)
		conds[i] = fmt.Sprintf("%s IS NOT DISTINCT FROM CAST($%d AS %s)", cols[j], i+1, t)
	}
	v.lookup = fmt.Sprintf("SELECT %s FROM %s WHERE %s LIMIT 1", colList, v.table, strings.Join(conds, " AND "))
	return v, nil
}

// EnsureView creates the view's table, or checks that the stored definition
// matches v (an error wrapping core.ErrSchemaMismatch if not).
func (b *Backend) EnsureView(ctx context.Context, def core.ViewDef) error {
	if err := schema.Validate(def); err != nil {
		return fmt.Errorf("duckdb: %w", err)
	}
	if err := checkNames(def); err != nil {
		return err
	}
	if b.readOnly {
		return fmt.Errorf("duckdb: ensure view %q: %w", def.Name, core.ErrReadOnly)
	}
	if err := b.checkOpen(); err != nil {
		return err
	}
	b.viewsMu.Lock()
	n := 0
	if old, ok := b.views[def.Name]; ok && old.ensured && schema.Diff(schema.FromDef(old.def), def) == "" {
		n = old.stageN // same definition: reuse the staging table
	} else {
		b.nstage++
		n = b.nstage
	}
	b.viewsMu.Unlock()
	v, err := newView(def, n)
	if err != nil {
		return err
	}
	err = b.inTx(ctx, b.writer, func() error {
		var raw string
		found, err := queryRow(ctx, b.writer, "SELECT def FROM "+viewsTable+" WHERE name = $1", []any{def.Name}, &raw)
		if err != nil {
			return fmt.Errorf("duckdb: read definition of view %q: %w", def.Name, err)
		}
		if found {
			stored, err := schema.Unmarshal([]byte(raw))
			if err != nil {
				return fmt.Errorf("duckdb: view %q: %w", def.Name, err)
			}
			if d := schema.Diff(stored, def); d != "" {
				return fmt.Errorf("duckdb: view %q: %w: %s", def.Name, core.ErrSchemaMismatch, d)
			}
			return nil
		}
		if err := exec(ctx, b.writer, v.createTable); err != nil {
			return fmt.Errorf("duckdb: create table of view %q: %w", def.Name, err)
		}
		if err := exec(ctx, b.writer, "INSERT INTO "+viewsTable+" VALUES ($1, $2)", def.Name, string(schema.Marshal(def))); err != nil {
			return fmt.Errorf("duckdb: store definition of view %q: %w", def.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := exec(ctx, b.writer, v.createStage); err != nil {
		return fmt.Errorf("duckdb: create staging table of view %q: %w", def.Name, err)
	}
	v.ensured = true
	b.viewsMu.Lock()
	b.views[def.Name] = v
	b.viewsMu.Unlock()
	return nil
}

func (b *Backend) checkOpen() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("duckdb: %w", backends.ErrClosed)
	}
	return nil
}

// view returns the view named name. Views not ensured by this process (the
// read-only CLI) are loaded from _strata_views through c, a read connection,
// and cached without a staging table: Apply needs EnsureView.
func (b *Backend) view(ctx context.Context, c *duckdb.Conn, name string) (*view, error) {
	b.viewsMu.Lock()
	v, ok := b.views[name]
	b.viewsMu.Unlock()
	if ok {
		return v, nil
	}
	var raw string
	found, err := queryRow(ctx, c, "SELECT def FROM "+viewsTable+" WHERE name = $1", []any{name}, &raw)
	if err != nil {
		return nil, fmt.Errorf("duckdb: read definition of view %q: %w", name, err)
	}
	if !found {
		return nil, fmt.Errorf("duckdb: view %q: %w", name, core.ErrUnknownView)
	}
	stored, err := schema.Unmarshal([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("duckdb: view %q: %w", name, err)
	}
	def, err := stored.Def()
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	if v, err = newView(def, 0); err != nil {
		return nil, err
	}
	b.viewsMu.Lock()
	if old, ok := b.views[name]; ok {
		v = old
	} else {
		b.views[name] = v
	}
	b.viewsMu.Unlock()
	return v, nil
}
