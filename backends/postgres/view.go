package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// maxIdent is Postgres's identifier length (NAMEDATALEN-1): longer names
// are truncated by the server, so they could collide.
const maxIdent = 63

// view is what the backend knows of one view: its definition, its columns'
// kinds and the SQL Apply and the reads run for it. Immutable once built.
type view struct {
	def      core.ViewDef
	kinds    []kind
	cols     []string // quoted column names
	table    string   // quoted, schema-qualified table name
	stage    string   // quoted name of the writer's temporary staging table
	multiset bool
	identity []int
	ensured  bool // EnsureView ran in this process: the staging table exists
	stageN   int

	createTable, createIndex, createStage string
	// keyed views
	deleteKeys, deleteNullKeys, insertRows string
	// multiset views
	deleteCopies, insertCopies string
	selectList                 string // "c1", "c2", ...
}

// checkNames rejects what would collide with the backend's own tables or
// columns, or be truncated by the server.
func checkNames(v core.ViewDef) error {
	if strings.HasPrefix(strings.ToLower(v.Name), reservedPrefix) {
		return fmt.Errorf("postgres: view %q: names starting with %s are reserved", v.Name, reservedPrefix)
	}
	if len(v.Name) > maxIdent {
		return fmt.Errorf("postgres: view %q: name longer than %d bytes (Postgres would truncate it)", v.Name, maxIdent)
	}
	for _, c := range v.Columns {
		if strings.HasPrefix(strings.ToLower(c.Name), reservedPrefix) {
			return fmt.Errorf("postgres: view %q: column name %q is reserved", v.Name, c.Name)
		}
		if len(c.Name) > maxIdent {
			return fmt.Errorf("postgres: view %q: column name %q longer than %d bytes", v.Name, c.Name, maxIdent)
		}
	}
	return nil
}

func (b *Backend) newView(def core.ViewDef, stageN int) (*view, error) {
	v := &view{
		def:      def,
		table:    b.table(def.Name),
		stage:    ident(fmt.Sprintf("%sstage_%d", reservedPrefix, stageN)),
		multiset: len(def.Key) == 0,
		identity: schema.IdentityIndexes(def),
		stageN:   stageN,
	}
	colDefs := make([]string, len(def.Columns))
	for i, c := range def.Columns {
		k, err := kindOf(c.Type)
		if err != nil {
			return nil, fmt.Errorf("postgres: view %q: column %q: %w", def.Name, c.Name, err)
		}
		v.kinds = append(v.kinds, k)
		v.cols = append(v.cols, ident(c.Name))
		colDefs[i] = v.cols[i] + " " + kindSQL[k]
	}
	ids := make([]string, len(v.identity))
	for i, j := range v.identity {
		ids[i] = v.cols[j]
	}
	colList := strings.Join(v.cols, ", ")
	idList := strings.Join(ids, ", ")
	join := func(a, b, op string, names []string) string {
		conds := make([]string, len(names))
		for i, n := range names {
			conds[i] = a + "." + n + op + b + "." + n
		}
		return strings.Join(conds, " AND ")
	}
	qualified := func(alias string, names []string) string {
		q := make([]string, len(names))
		for i, n := range names {
			q[i] = alias + "." + n
		}
		return strings.Join(q, ", ")
	}
	w, seq := ident(core.WeightColumn), ident(seqColumn)
	v.selectList = colList
	v.createTable = fmt.Sprintf("CREATE TABLE %s (%s)", v.table, strings.Join(colDefs, ", "))
	v.createStage = fmt.Sprintf("CREATE TEMP TABLE IF NOT EXISTS %s (%s, %s BIGINT NOT NULL, %s BIGINT NOT NULL) ON COMMIT DELETE ROWS",
		v.stage, strings.Join(colDefs, ", "), w, seq)
	if !v.multiset {
		// The key identifies a row, NULLs included (GROUP BY puts NULLs in
		// one group): a unique index that treats NULLs as equal, where the
		// server has it, else a plain one for the lookups.
		if b.uniqueNulls {
			v.createIndex = fmt.Sprintf("CREATE UNIQUE INDEX ON %s (%s) NULLS NOT DISTINCT", v.table, idList)
		} else {
			v.createIndex = fmt.Sprintf("CREATE INDEX ON %s (%s)", v.table, idList)
		}
		// Every key the epoch touches goes, then the new rows come: an
		// upsert. Keys without NULLs join by equality (a hash join, or the
		// index); keys with a NULL, rare, need IS NOT DISTINCT FROM, which
		// no index serves, so they have their own statement that Apply
		// runs only when the epoch holds one.
		notNull := make([]string, len(ids))
		anyNull := make([]string, len(ids))
		for i, n := range ids {
			notNull[i] = n + " IS NOT NULL"
			anyNull[i] = n + " IS NULL"
		}
		touched := func(cond string) string {
			return fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s <> 0 AND (%s)", idList, v.stage, w, cond)
		}
		v.deleteKeys = fmt.Sprintf("DELETE FROM %s AS t USING (%s) AS s WHERE %s",
			v.table, touched(strings.Join(notNull, " AND ")), join("t", "s", " = ", ids))
		v.deleteNullKeys = fmt.Sprintf("DELETE FROM %s AS t USING (%s) AS s WHERE %s",
			v.table, touched(strings.Join(anyNull, " OR ")), join("t", "s", " IS NOT DISTINCT FROM ", ids))
		// Should the epoch insert one key twice (the engine consolidates,
		// so it should not), the last insertion wins, as in Pebble.
		v.insertRows = fmt.Sprintf("INSERT INTO %s (%s) SELECT DISTINCT ON (%s) %s FROM %s WHERE %s > 0 ORDER BY %s, %s DESC",
			v.table, colList, idList, colList, v.stage, w, idList, seq)
	} else {
		net := fmt.Sprintf("SELECT %s, CAST(sum(%s) AS BIGINT) AS _n FROM %s GROUP BY %s", colList, w, v.stage, colList)
		v.insertCopies = fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM (%s) AS p, generate_series(1, p._n) WHERE p._n > 0",
			v.table, colList, qualified("p", v.cols), net)
		v.deleteCopies = fmt.Sprintf("DELETE FROM %s WHERE ctid = ANY (ARRAY(SELECT _rid FROM ("+
			"SELECT t.ctid AS _rid, d._n, row_number() OVER (PARTITION BY %s) AS _rn "+
			"FROM %s AS t JOIN (SELECT %s, -_n AS _n FROM (%s) AS q WHERE _n < 0) AS d ON %s) AS z WHERE _rn <= _n))",
			v.table, qualified("t", v.cols), v.table, colList, net, join("t", "d", " IS NOT DISTINCT FROM ", v.cols))
	}
	return v, nil
}

// EnsureView creates the view's table (and its key index), or checks that
// the stored definition matches def (an error wrapping
// core.ErrSchemaMismatch if not).
func (b *Backend) EnsureView(ctx context.Context, def core.ViewDef) error {
	if err := schema.Validate(def); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := checkNames(def); err != nil {
		return err
	}
	if b.readOnly {
		return fmt.Errorf("postgres: ensure view %q: %w", def.Name, core.ErrReadOnly)
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
	v, err := b.newView(def, n)
	if err != nil {
		return err
	}
	err = b.inTx(ctx, b.writer, func() error {
		var raw string
		err := b.writer.QueryRow(ctx, "SELECT def FROM "+b.table(viewsTable)+" WHERE name = $1", def.Name).Scan(&raw)
		switch {
		case err == nil:
			stored, err := schema.Unmarshal([]byte(raw))
			if err != nil {
				return fmt.Errorf("postgres: view %q: %w", def.Name, err)
			}
			if d := schema.Diff(stored, def); d != "" {
				return fmt.Errorf("postgres: view %q: %w: %s", def.Name, core.ErrSchemaMismatch, d)
			}
			return nil
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: read definition of view %q: %w", def.Name, err)
		}
		for _, s := range []string{v.createTable, v.createIndex} {
			if s == "" {
				continue
			}
			if _, err := b.writer.Exec(ctx, s); err != nil {
				return fmt.Errorf("postgres: create table of view %q: %w", def.Name, err)
			}
		}
		if _, err := b.writer.Exec(ctx, "INSERT INTO "+b.table(viewsTable)+" VALUES ($1, $2)", def.Name, string(schema.Marshal(def))); err != nil {
			return fmt.Errorf("postgres: store definition of view %q: %w", def.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := b.writer.Exec(ctx, v.createStage); err != nil {
		return fmt.Errorf("postgres: create staging table of view %q: %w", def.Name, err)
	}
	v.ensured = true
	b.viewsMu.Lock()
	b.views[def.Name] = v
	b.viewsMu.Unlock()
	return nil
}

// view returns the view named name. Views this process did not ensure (a
// read-only CLI) are loaded from _strata_views through c and cached without
// a staging table: Apply needs EnsureView.
func (b *Backend) view(ctx context.Context, c *pgx.Conn, name string) (*view, error) {
	b.viewsMu.Lock()
	v, ok := b.views[name]
	b.viewsMu.Unlock()
	if ok {
		return v, nil
	}
	var raw string
	err := c.QueryRow(ctx, "SELECT def FROM "+b.table(viewsTable)+" WHERE name = $1", name).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: view %q: %w", name, core.ErrUnknownView)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: read definition of view %q: %w", name, err)
	}
	stored, err := schema.Unmarshal([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("postgres: view %q: %w", name, err)
	}
	def, err := stored.Def()
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if v, err = b.newView(def, 0); err != nil {
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
