//go:build duckdb_arrow && cgo

package duckdb

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// readTx starts a read-only transaction on a read connection and reads the
// committed epoch in it. The caller must call end exactly once.
func (b *Backend) readTx(ctx context.Context) (c *duckdb.Conn, epoch core.Epoch, end func(), err error) {
	c, err = b.reader(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	if err := exec(ctx, c, "BEGIN TRANSACTION READ ONLY"); err != nil {
		_ = c.Close()
		return nil, 0, nil, fmt.Errorf("duckdb: begin read-only transaction: %w", err)
	}
	end = func() {
		if err := exec(context.Background(), c, "ROLLBACK"); err != nil {
			_ = c.Close() // a connection in an unknown state is not reused
			return
		}
		b.putReader(c)
	}
	epoch, _, err = readEpoch(ctx, c)
	if err != nil {
		end()
		return nil, 0, nil, err
	}
	return c, epoch, end, nil
}

// Query runs one read-only SQL statement (SELECT, EXPLAIN and the like) and
// returns its result as Arrow batches, with the epoch it read. The reader
// holds a connection and a read-only transaction until the caller Releases
// it; batches it yields are valid until the next call to Next.
func (b *Backend) Query(ctx context.Context, sql string) (array.RecordReader, core.Epoch, error) {
	c, epoch, end, err := b.readTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := checkReadOnlyStatement(c, sql); err != nil {
		end()
		return nil, 0, err
	}
	ar, err := duckdb.NewArrowFromConn(c)
	if err != nil {
		end()
		return nil, 0, fmt.Errorf("duckdb: query: %w", err)
	}
	rdr, err := ar.QueryContext(ctx, sql)
	if err != nil {
		end()
		return nil, 0, fmt.Errorf("duckdb: query: %w", err)
	}
	qr := &queryReader{RecordReader: rdr, end: end}
	qr.refs.Store(1)
	return qr, epoch, nil
}

// checkReadOnlyStatement accepts exactly one statement of a kind that only
// reads. The read-only transaction refuses writes anyway; this also stops
// statements that would end the transaction (and so the epoch's snapshot)
// or change the connection's settings.
func checkReadOnlyStatement(c *duckdb.Conn, sql string) error {
	// Prepare, unlike PrepareContext and QueryContext, refuses several
	// statements before running any of them.
	st, err := c.Prepare(sql)
	if err != nil {
		return fmt.Errorf("duckdb: query (one statement only): %w", err)
	}
	defer st.Close()
	ds, ok := st.(*duckdb.Stmt)
	if !ok {
		return fmt.Errorf("duckdb: query: unexpected statement %T", st)
	}
	t, err := ds.StatementType()
	if err != nil {
		return fmt.Errorf("duckdb: query: %w", err)
	}
	switch t {
	case duckdb.STATEMENT_TYPE_SELECT, duckdb.STATEMENT_TYPE_EXPLAIN:
		return nil
	}
	name, ok := stmtNames[t]
	if !ok {
		name = fmt.Sprintf("statement type %d", t)
	}
	return fmt.Errorf("duckdb: query: only a read-only statement (SELECT, EXPLAIN) is allowed, not %s", name)
}

var stmtNames = map[duckdb.StmtType]string{
	duckdb.STATEMENT_TYPE_INSERT:       "INSERT",
	duckdb.STATEMENT_TYPE_UPDATE:       "UPDATE",
	duckdb.STATEMENT_TYPE_DELETE:       "DELETE",
	duckdb.STATEMENT_TYPE_CREATE:       "CREATE",
	duckdb.STATEMENT_TYPE_CREATE_FUNC:  "CREATE FUNCTION",
	duckdb.STATEMENT_TYPE_ALTER:        "ALTER",
	duckdb.STATEMENT_TYPE_DROP:         "DROP",
	duckdb.STATEMENT_TYPE_TRANSACTION:  "a transaction statement",
	duckdb.STATEMENT_TYPE_COPY:         "COPY",
	duckdb.STATEMENT_TYPE_EXPORT:       "EXPORT",
	duckdb.STATEMENT_TYPE_SET:          "SET",
	duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE",
	duckdb.STATEMENT_TYPE_ATTACH:       "ATTACH",
	duckdb.STATEMENT_TYPE_DETACH:       "DETACH",
	duckdb.STATEMENT_TYPE_LOAD:         "LOAD",
	duckdb.STATEMENT_TYPE_PRAGMA:       "PRAGMA",
	duckdb.STATEMENT_TYPE_CALL:         "CALL",
	duckdb.STATEMENT_TYPE_VACUUM:       "VACUUM",
	duckdb.STATEMENT_TYPE_ANALYZE:      "ANALYZE",
}

// queryReader releases the query's transaction and connection with its last
// reference.
type queryReader struct {
	array.RecordReader
	end  func()
	refs atomic.Int64
}

func (r *queryReader) Retain() {
	r.refs.Add(1)
	r.RecordReader.Retain()
}

func (r *queryReader) Release() {
	n := r.refs.Add(-1)
	if n < 0 {
		r.refs.Add(1) // released too often: ignore, like arrow-go's readers
		return
	}
	r.RecordReader.Release()
	if n == 0 {
		r.end()
	}
}

// Lookup returns the row of view whose key columns equal key, and the epoch
// it reflects. Key values are converted to the key columns' types (Go values,
// or text such as "42" for a bigint column); a view without key columns is
// looked up by all its columns.
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
		return nil, false, 0, fmt.Errorf("duckdb: %w", err)
	}
	ar, err := duckdb.NewArrowFromConn(c)
	if err != nil {
		return nil, false, 0, fmt.Errorf("duckdb: lookup in view %q: %w", viewName, err)
	}
	rdr, err := ar.QueryContext(ctx, v.lookup, vals...)
	if err != nil {
		return nil, false, 0, fmt.Errorf("duckdb: lookup in view %q: %w", viewName, err)
	}
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		if rec.NumRows() == 0 {
			continue
		}
		row = make([]any, rec.NumCols())
		for i := range row {
			row[i] = valueAt(rec.Column(i), 0)
		}
		return row, true, epoch, nil
	}
	if err := rdr.Err(); err != nil {
		return nil, false, 0, fmt.Errorf("duckdb: lookup in view %q: %w", viewName, err)
	}
	return nil, false, epoch, nil
}

// valueAt is core.ValueAt with strings copied: core.ValueAt returns strings
// that alias the Arrow buffer, and DuckDB's result buffers are C memory freed
// with the batch.
func valueAt(arr arrow.Array, i int) any {
	v := core.ValueAt(arr, i)
	if s, ok := v.(string); ok {
		return strings.Clone(s)
	}
	return v
}
