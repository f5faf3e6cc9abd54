//go:build duckdb_arrow && cgo

package nexmark

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	duckdb "github.com/duckdb/duckdb-go/v2"

	gen "github.com/stratadb/strata/connect/nexmark"
)

// Oracle is an in-memory DuckDB holding the same events a benchmark run
// streams, as the tables person, auction and bid (and side_input), to run a
// query as a batch and check the streaming result.
type Oracle struct {
	connector *duckdb.Connector
	conn      *duckdb.Conn
}

// oracleChunk is the number of events loaded into DuckDB at a time.
const oracleChunk = 250_000

// NewOracle loads the events [0, events) of g into a new in-memory DuckDB:
// the Nexmark tables among relations (with all their columns) and, when
// named, the side input. The caller must Close it.
func NewOracle(ctx context.Context, mem memory.Allocator, g *gen.Generator, events int64, relations []string) (_ *Oracle, err error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("nexmark: oracle: open duckdb: %w", err)
	}
	o := &Oracle{connector: connector}
	defer func() {
		if err != nil {
			err = errors.Join(err, o.Close())
		}
	}()
	dc, err := connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("nexmark: oracle: connect: %w", err)
	}
	c, ok := dc.(*duckdb.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("nexmark: oracle: unexpected driver connection %T", dc)
	}
	o.conn = c
	for _, rel := range relations {
		if rel == SideInput {
			q := fmt.Sprintf("CREATE TABLE %s AS SELECT i::BIGINT AS key, i::VARCHAR AS value FROM range(%d) t(i)", SideInput, SideInputRows)
			if _, err := o.conn.ExecContext(ctx, q, nil); err != nil {
				return nil, fmt.Errorf("nexmark: oracle: %s: %w", SideInput, err)
			}
			continue
		}
		t, err := gen.ParseTable(rel)
		if err != nil {
			return nil, fmt.Errorf("nexmark: oracle: %w", err)
		}
		if err := o.load(ctx, mem, g, t, events); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// load copies table t's rows among the events [0, events) into DuckDB,
// a chunk at a time through an Arrow view.
func (o *Oracle) load(ctx context.Context, mem memory.Allocator, g *gen.Generator, t gen.Table, events int64) error {
	ar, err := duckdb.NewArrowFromConn(o.conn)
	if err != nil {
		return fmt.Errorf("nexmark: oracle: %w", err)
	}
	const input = "_nexmark_input"
	create := fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s", t, input)
	for from := int64(0); ; from += oracleChunk {
		to := min(from+oracleChunk, events)
		b, err := g.NewRecordBatch(mem, t, from, to)
		if err != nil {
			return fmt.Errorf("nexmark: oracle: generate %s: %w", t, err)
		}
		rdr, err := array.NewRecordReader(gen.Schema(t), []arrow.RecordBatch{b})
		b.Release() // the reader holds its own reference
		if err != nil {
			return err
		}
		release, err := ar.RegisterView(rdr, input)
		rdr.Release()
		if err != nil {
			return fmt.Errorf("nexmark: oracle: register %s: %w", t, err)
		}
		_, err = o.conn.ExecContext(ctx, create, nil)
		release()
		if err != nil {
			return fmt.Errorf("nexmark: oracle: load %s: %w", t, err)
		}
		if _, err := o.conn.ExecContext(ctx, "DROP VIEW IF EXISTS "+input, nil); err != nil {
			return fmt.Errorf("nexmark: oracle: %w", err)
		}
		create = fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", t, input)
		if to >= events {
			break
		}
	}
	return nil
}

// Query runs sql as a batch query and returns its rows.
func (o *Oracle) Query(ctx context.Context, sql string) ([]Row, error) {
	ar, err := duckdb.NewArrowFromConn(o.conn)
	if err != nil {
		return nil, fmt.Errorf("nexmark: oracle: %w", err)
	}
	rdr, err := ar.QueryContext(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("nexmark: oracle: %w", err)
	}
	defer rdr.Release()
	return ReadRows(rdr)
}

// Close closes the database. It is idempotent.
func (o *Oracle) Close() error {
	var errs []error
	if o.conn != nil {
		errs = append(errs, o.conn.Close())
		o.conn = nil
	}
	if o.connector != nil {
		errs = append(errs, o.connector.Close())
		o.connector = nil
	}
	return errors.Join(errs...)
}
