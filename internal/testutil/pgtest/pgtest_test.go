package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stratadb/strata/internal/testutil/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestDSN connects to a database of the test's own and finds it empty and
// writable, with the encoding the backends need.
func TestDSN(t *testing.T) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var enc string
	if err := c.QueryRow(ctx, "SHOW server_encoding").Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" {
		t.Errorf("server_encoding = %s, want UTF8", enc)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE x (a bigint); INSERT INTO x VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// A second database is another, empty one.
	c2, err := pgx.Connect(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	var n int
	if err := c2.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'x'").Scan(&n); err != nil || n != 0 {
		t.Errorf("second database sees table x: n=%d err=%v", n, err)
	}
}
