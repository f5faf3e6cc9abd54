//go:build duckdb_arrow && cgo

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/engine/core"
)

var _ core.FunctionRegistry = (*Backend)(nil)

// RegisterFunction makes a scalar UDF callable from every connection of
// the database, ad-hoc queries included. DuckDB hands the function one
// chunk (up to 2048 rows) at a time; the chunk becomes Arrow columns and
// one batch call. A row the function fails on fails the query under the
// fail policy and is NULL otherwise (a query cannot drop rows from inside
// a scalar function, so dead_letter reads as null).
func (b *Backend) RegisterFunction(ctx context.Context, def core.FunctionDef) error {
	if err := b.checkOpen(); err != nil {
		return err
	}
	f := &duckFunc{def: def, b: b}
	var err error
	for _, t := range def.Args {
		ti, terr := duckTypeInfo(t)
		if terr != nil {
			return fmt.Errorf("duckdb: udf %s: %w", def.Name, terr)
		}
		f.in = append(f.in, ti)
	}
	if f.out, err = duckTypeInfo(def.Returns); err != nil {
		return fmt.Errorf("duckdb: udf %s: %w", def.Name, err)
	}
	b.udfMu.Lock()
	defer b.udfMu.Unlock()
	if b.udfDB == nil {
		// Not the connector itself: sql.DB.Close would close it.
		b.udfDB = sql.OpenDB(connectorOnly{b.connector})
	}
	conn, err := b.udfDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("duckdb: udf %s: %w", def.Name, err)
	}
	defer conn.Close()
	if err := duckdb.RegisterScalarUDF(conn, def.Name, f); err != nil {
		return fmt.Errorf("duckdb: register udf %s: %w", def.Name, err)
	}
	return nil
}

// connectorOnly hides the connector's Close from database/sql.
type connectorOnly struct{ c *duckdb.Connector }

func (c connectorOnly) Connect(ctx context.Context) (driver.Conn, error) { return c.c.Connect(ctx) }
func (c connectorOnly) Driver() driver.Driver                            { return c.c.Driver() }

func duckTypeInfo(t core.Type) (duckdb.TypeInfo, error) {
	var id duckdb.Type
	switch t.Arrow.ID() {
	case arrow.BOOL:
		id = duckdb.TYPE_BOOLEAN
	case arrow.INT32:
		id = duckdb.TYPE_INTEGER
	case arrow.INT64:
		id = duckdb.TYPE_BIGINT
	case arrow.FLOAT64:
		id = duckdb.TYPE_DOUBLE
	case arrow.STRING:
		id = duckdb.TYPE_VARCHAR
	case arrow.BINARY:
		id = duckdb.TYPE_BLOB
	case arrow.TIMESTAMP:
		id = duckdb.TYPE_TIMESTAMP
	default:
		return nil, fmt.Errorf("type %s cannot cross the UDF ABI", t.Name)
	}
	return duckdb.NewTypeInfo(id)
}

type duckFunc struct {
	def core.FunctionDef
	b   *Backend
	in  []duckdb.TypeInfo
	out duckdb.TypeInfo
}

func (f *duckFunc) Config() duckdb.ScalarFuncConfig {
	// The UDF sees NULLs itself, as it does in views.
	return duckdb.ScalarFuncConfig{InputTypeInfos: f.in, ResultTypeInfo: f.out, SpecialNullHandling: true}
}

func (f *duckFunc) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: f.chunk}
}

// chunk runs the function over one DuckDB chunk as one batch call.
func (f *duckFunc) chunk(ctx context.Context, st *duckdb.ChunkIteratorState) error {
	in := st.GetInputChunk()
	n := in.GetSize()
	args := make([]arrow.Array, len(f.def.Args))
	defer func() {
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for c, t := range f.def.Args {
		bld := array.NewBuilder(f.b.alloc, t.Arrow)
		for r := 0; r < n; r++ {
			v, err := in.GetValue(c, r)
			if err != nil {
				bld.Release()
				return err
			}
			if err := appendDuck(bld, v); err != nil {
				bld.Release()
				return fmt.Errorf("udf %s: argument %d: %w", f.def.Name, c+1, err)
			}
		}
		args[c] = bld.NewArray()
		bld.Release()
	}
	out, rowErrs, err := f.def.Fn.CallBatch(ctx, f.b.alloc, args)
	if err != nil {
		return err
	}
	defer out.Release()
	if len(rowErrs) > 0 && f.def.Policy != core.OnErrorNull && f.def.Policy != core.OnErrorDeadLetter {
		e := rowErrs[0]
		more := ""
		if len(rowErrs) > 1 {
			more = fmt.Sprintf(" (and %d more rows)", len(rowErrs)-1)
		}
		return fmt.Errorf("udf %s failed on row %d of the chunk: %s%s", f.def.Name, e.Row, e.Msg, more)
	}
	r := 0
	for row, err := range st.Rows() {
		if err != nil {
			return err
		}
		if err := row.SetResult(core.ValueAt(out, r)); err != nil {
			return err
		}
		r++
	}
	return nil
}

func appendDuck(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.Int32Builder:
		b.Append(v.(int32))
	case *array.Int64Builder:
		b.Append(v.(int64))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	default:
		return fmt.Errorf("unexpected builder %T", b)
	}
	return nil
}
