package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// readTx starts a REPEATABLE READ, READ ONLY transaction on a read
// connection and reads the committed epoch in it: every read in the
// transaction sees that epoch's snapshot. The caller must call end once.
func (b *Backend) readTx(ctx context.Context) (c *pgx.Conn, epoch core.Epoch, end func(), err error) {
	c, err = b.reader(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		_ = c.Close(context.Background())
		return nil, 0, nil, fmt.Errorf("postgres: begin read-only transaction: %w", err)
	}
	end = func() {
		if _, err := c.Exec(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			_ = c.Close(context.Background()) // unknown state: not reused
			return
		}
		b.putReader(c)
	}
	epoch, _, err = b.readCommitted(ctx, c)
	if err != nil {
		end()
		return nil, 0, nil, err
	}
	return c, epoch, end, nil
}

// where renders the condition that columns idx of v equal vals (already
// coerced; nil is NULL, matched with IS NULL so that an index serves it),
// numbering parameters from $1, and returns the encoded parameters.
func (v *view) where(idx []int, vals []any) (string, [][]byte, []uint32, error) {
	conds := make([]string, 0, len(idx))
	var params [][]byte
	var oids []uint32
	for i, j := range idx {
		if vals[i] == nil {
			conds = append(conds, v.cols[j]+" IS NULL")
			continue
		}
		p, err := encodeParam(v.kinds[j], vals[i])
		if err != nil {
			return "", nil, nil, fmt.Errorf("view %q: key column %q: %w", v.def.Name, v.def.Columns[j].Name, err)
		}
		params = append(params, p)
		oids = append(oids, kindOID[v.kinds[j]])
		conds = append(conds, fmt.Sprintf("%s = $%d", v.cols[j], len(params)))
	}
	if len(conds) == 0 {
		return "TRUE", nil, nil, nil
	}
	return strings.Join(conds, " AND "), params, oids, nil
}

// rows runs a SELECT of v's columns with binary parameters and results and
// calls fn with each decoded row (owned by fn).
func (v *view) rows(ctx context.Context, c *pgx.Conn, sql string, params [][]byte, oids []uint32, fn func(row []any) error) error {
	formats := make([]int16, len(v.kinds))
	for i := range formats {
		formats[i] = 1 // binary
	}
	pformats := make([]int16, len(params))
	for i := range pformats {
		pformats[i] = 1
	}
	rr := c.PgConn().ExecParams(ctx, sql, params, oids, pformats, formats)
	var ferr error
	for rr.NextRow() {
		if ferr != nil {
			continue // drain: the connection must stay usable
		}
		vals := rr.Values()
		row := make([]any, len(v.kinds))
		for i, k := range v.kinds {
			x, err := decodeValue(k, vals[i])
			if err != nil {
				ferr = fmt.Errorf("column %q: %w", v.def.Columns[i].Name, err)
				break
			}
			row[i] = x
		}
		if ferr == nil {
			ferr = fn(row)
		}
	}
	_, err := rr.Close()
	if ferr != nil {
		return ferr
	}
	return err
}

// Lookup returns the row of view whose key columns equal key, and the epoch
// it reflects. Key values are converted to the key columns' types (Go
// values, or text such as "42" for a bigint column); a view without key
// columns is looked up by all its columns. The row is in core.ValueAt form
// and owned by the caller.
func (b *Backend) Lookup(ctx context.Context, viewName string, key []any) (row []any, found bool, epoch core.Epoch, err error) {
	c, epoch, end, err := b.readTx(ctx)
	if err != nil {
		return nil, false, 0, err
	}
	defer end()
	v, err := b.view(ctx, c, viewName)
	if err != nil {
		return nil, false, 0, err
	}
	vals, err := schema.CoerceKey(v.def, v.identity, key)
	if err != nil {
		return nil, false, 0, fmt.Errorf("postgres: %w", err)
	}
	cond, params, oids, err := v.where(v.identity, vals)
	if err != nil {
		return nil, false, 0, fmt.Errorf("postgres: %w", err)
	}
	sql := "SELECT " + v.selectList + " FROM " + v.table + " WHERE " + cond + " LIMIT 1"
	err = v.rows(ctx, c, sql, params, oids, func(r []any) error {
		row, found = r, true
		return nil
	})
	if err != nil {
		return nil, false, 0, fmt.Errorf("postgres: lookup in view %q: %w", viewName, err)
	}
	return row, found, epoch, nil
}

// Scan calls fn, in key order (NULLs first), with every row of view whose
// first key columns equal prefix (all rows for an empty prefix), and returns
// the epoch the rows reflect. Prefix values are converted like Lookup's
// key. A multiset view's row is passed once per copy. Each row is freshly
// allocated and owned by fn. An error from fn stops the scan and is
// returned as is.
func (b *Backend) Scan(ctx context.Context, viewName string, prefix []any, fn func(row []any) error) (core.Epoch, error) {
	c, epoch, end, err := b.readTx(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	v, err := b.view(ctx, c, viewName)
	if err != nil {
		return 0, err
	}
	if len(prefix) > len(v.identity) {
		return 0, fmt.Errorf("postgres: view %q: prefix has %d values, the key only %d", viewName, len(prefix), len(v.identity))
	}
	idx := v.identity[:len(prefix)]
	vals, err := schema.CoerceKey(v.def, idx, prefix)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	cond, params, oids, err := v.where(idx, vals)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	order := make([]string, len(v.identity))
	for i, j := range v.identity {
		order[i] = v.cols[j] + " NULLS FIRST"
	}
	sql := "SELECT " + v.selectList + " FROM " + v.table + " WHERE " + cond + " ORDER BY " + strings.Join(order, ", ")
	var fnErr error
	err = v.rows(ctx, c, sql, params, oids, func(r []any) error {
		if fnErr = fn(r); fnErr != nil {
			return fnErr
		}
		return nil
	})
	if fnErr != nil {
		return epoch, fnErr
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: scan view %q: %w", viewName, err)
	}
	return epoch, nil
}
