package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/postgres"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
	"github.com/stratadb/strata/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var kv = core.ViewDef{Name: "kv", Columns: []core.Column{{Name: "k", Type: core.Varchar}, {Name: "n", Type: core.Bigint}}, Key: []string{"k"}}

func batch(t *testing.T, rows ...any) arrow.RecordBatch {
	mem := testutil.Alloc(t)
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kv.Columns)))
	defer bld.Release()
	for i := 0; i < len(rows); i += 3 {
		core.AppendValue(bld.Field(0), rows[i])
		core.AppendValue(bld.Field(1), rows[i+1])
		bld.Field(2).(*array.Int64Builder).Append(int64(rows[i+2].(int)))
	}
	return bld.NewRecordBatch()
}

func open(t *testing.T, opts map[string]any) core.Backend {
	t.Helper()
	b, err := backends.Open(context.Background(), postgres.Name, backends.Config{Dir: t.TempDir(), Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestTablesServeAnyClient applies an epoch through the environment's DSN
// into a schema of its own, and reads the view back with a plain Postgres
// client: the table is the view, strings with U+0000 come back intact
// through the backend, and the epoch row carries the offsets.
func TestTablesServeAnyClient(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DSN(t)
	t.Setenv(postgres.EnvDSN, dsn)
	b := open(t, map[string]any{"schema": "app"})
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	rb := batch(t, "a", int64(1), 1, "b\x00c", int64(2), 1, nil, int64(3), 1)
	defer rb.Release()
	off := core.Offsets{"bids": core.Ranges{"0": core.Range{From: 0, To: 3}}}
	if err := b.Apply(ctx, &core.EpochChanges{Epoch: 1, Offsets: off, Changes: map[string][]arrow.RecordBatch{"kv": {rb}}}); err != nil {
		t.Fatal(err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var sum, n int64
	if err := c.QueryRow(ctx, `SELECT sum(n), count(*) FROM app.kv`).Scan(&sum, &n); err != nil || sum != 6 || n != 3 {
		t.Errorf("SELECT sum(n), count(*) FROM app.kv = %d, %d, %v; want 6, 3", sum, n, err)
	}
	var to int64
	if err := c.QueryRow(ctx, `SELECT (offsets->'bids'->'0'->>'to')::bigint FROM app._strata_epoch WHERE epoch = 1`).Scan(&to); err != nil || to != 3 {
		t.Errorf("epoch row offsets: to=%d, %v", to, err)
	}
	row, found, e, err := b.(core.KeyLookup).Lookup(ctx, "kv", []any{"b\x00c"})
	if err != nil || !found || e != 1 || row[0] != "b\x00c" || row[1] != int64(2) {
		t.Errorf("Lookup(b\\x00c) = %v, %v, %d, %v", row, found, e, err)
	}
}

// TestOneWriterPerSchema: a second writer of a schema waits until the
// first one is gone, which is what orders a restarted engine after a
// killed one.
func TestOneWriterPerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	opts := map[string]any{"dsn": dsn}
	first, err := backends.Open(context.Background(), postgres.Name, backends.Config{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		b, err := backends.Open(context.Background(), postgres.Name, backends.Config{Options: opts})
		if err == nil {
			err = b.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("a second writer opened while the first was open (err %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	// Readers do not wait.
	ro, err := backends.Open(context.Background(), postgres.Name, backends.Config{Options: opts, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ro.Close()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-opened:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second writer did not open after the first closed")
	}
}

func TestNoServer(t *testing.T) {
	t.Setenv(postgres.EnvDSN, "")
	_, err := backends.Open(context.Background(), postgres.Name, backends.Config{})
	if !errors.Is(err, postgres.ErrNoServer) {
		t.Fatalf("Open without a DSN = %v, want ErrNoServer", err)
	}
	_, err = backends.Open(context.Background(), postgres.Name, backends.Config{Options: map[string]any{"host": "x"}})
	if err == nil || err.Error() != `backends: open postgres in : postgres: unknown option "host" (known: dsn, schema)` {
		t.Fatalf("Open with an unknown option = %v", err)
	}
}
