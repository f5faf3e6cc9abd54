//go:build duckdb_arrow && cgo

package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/engine/core"
)

// Name is the name the backend registers under.
const Name = "duckdb"

// FileName is the database file's name inside the backend's directory.
const FileName = "strata.duckdb"

func init() {
	backends.Register(Name, func(ctx context.Context, cfg backends.Config) (core.Backend, error) {
		return Open(ctx, cfg)
	})
}

// reservedPrefix starts the names of the backend's own tables.
const reservedPrefix = "_strata_"

// maxIdleReaders bounds the read connections kept for reuse.
const maxIdleReaders = 4

// Backend is a DuckDB database holding views. See the package documentation.
type Backend struct {
	path     string
	readOnly bool
	alloc    memory.Allocator

	connector *duckdb.Connector
	// writer is the connection Apply and EnsureView use; nil in read-only
	// mode. Only the engine's goroutine uses it.
	writer *duckdb.Conn

	// mu guards closed, idle and committed; it is never held during a query.
	mu        sync.Mutex
	closed    bool
	idle      []*duckdb.Conn
	committed core.Epoch
	offsets   []byte // Marshal of the committed offsets

	viewsMu sync.Mutex
	views   map[string]*view
	nstage  int

	// udfMu guards udfDB, the database/sql handle UDF registration needs.
	udfMu sync.Mutex
	udfDB *sql.DB
}

var (
	_ core.Backend   = (*Backend)(nil)
	_ core.Querier   = (*Backend)(nil)
	_ core.KeyLookup = (*Backend)(nil)
)

// Open opens (creating if needed, unless cfg.ReadOnly) the database file in
// cfg.Dir. The caller must Close the backend.
func Open(ctx context.Context, cfg backends.Config) (_ *Backend, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("duckdb: no directory configured")
	}
	params := url.Values{}
	for k, v := range cfg.Options {
		switch k {
		case "threads":
			n, ok := v.(int)
			if !ok || n <= 0 {
				return nil, fmt.Errorf("duckdb: option threads must be a positive int, got %T %v", v, v)
			}
			params.Set("threads", fmt.Sprint(n))
		case "memory_limit":
			s, ok := v.(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("duckdb: option memory_limit must be a size like \"2GB\", got %T %v", v, v)
			}
			params.Set("memory_limit", s)
		default:
			return nil, fmt.Errorf("duckdb: unknown option %q (known: memory_limit, threads)", k)
		}
	}
	path := filepath.Join(cfg.Dir, FileName)
	if cfg.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("duckdb: open read-only: %w", err)
		}
		params.Set("access_mode", "read_only")
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("duckdb: create directory: %w", err)
	}
	dsn := path
	if len(params) > 0 {
		dsn += "?" + params.Encode()
	}
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("duckdb: open %s: %w", path, err)
	}
	alloc := cfg.Alloc
	if alloc == nil {
		alloc = memory.NewGoAllocator()
	}
	b := &Backend{path: path, readOnly: cfg.ReadOnly, alloc: alloc, connector: connector, views: make(map[string]*view)}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Close())
		}
	}()
	if !cfg.ReadOnly {
		if b.writer, err = b.connect(ctx); err != nil {
			return nil, err
		}
		if err := b.initMeta(ctx); err != nil {
			return nil, err
		}
	}
	if err := b.loadEpoch(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Backend) connect(ctx context.Context) (*duckdb.Conn, error) {
	dc, err := b.connector.Connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("duckdb: connect to %s: %w", b.path, err)
	}
	c, ok := dc.(*duckdb.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("duckdb: unexpected driver connection %T", dc)
	}
	return c, nil
}

const (
	epochTable = reservedPrefix + "epoch"
	viewsTable = reservedPrefix + "views"
	inputView  = reservedPrefix + "input"
)

// initMeta creates the backend's own tables.
func (b *Backend) initMeta(ctx context.Context) error {
	return b.inTx(ctx, b.writer, func() error {
		for _, s := range []string{
			`CREATE TABLE IF NOT EXISTS ` + epochTable + ` (epoch BIGINT NOT NULL, offsets VARCHAR NOT NULL)`,
			`INSERT INTO ` + epochTable + ` SELECT 0, '{}' WHERE NOT EXISTS (SELECT 1 FROM ` + epochTable + `)`,
			`CREATE TABLE IF NOT EXISTS ` + viewsTable + ` (name VARCHAR PRIMARY KEY, def VARCHAR NOT NULL)`,
		} {
			if err := exec(ctx, b.writer, s); err != nil {
				return fmt.Errorf("duckdb: initialize %s: %w", b.path, err)
			}
		}
		return nil
	})
}

// loadEpoch reads the committed epoch into memory.
func (b *Backend) loadEpoch(ctx context.Context) error {
	c, err := b.reader(ctx)
	if err != nil {
		return err
	}
	defer b.putReader(c)
	e, off, err := readEpoch(ctx, c)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.committed, b.offsets = e, off
	b.mu.Unlock()
	return nil
}

func readEpoch(ctx context.Context, c *duckdb.Conn) (core.Epoch, []byte, error) {
	var e int64
	var off string
	found, err := queryRow(ctx, c, `SELECT epoch, offsets FROM `+epochTable, nil, &e, &off)
	if err != nil {
		return 0, nil, fmt.Errorf("duckdb: read committed epoch: %w", err)
	}
	if !found {
		return 0, nil, fmt.Errorf("duckdb: %s is empty", epochTable)
	}
	return core.Epoch(e), []byte(off), nil
}

// Name returns "duckdb".
func (b *Backend) Name() string { return Name }

// Capabilities reports that the backend answers SQL and key lookups.
func (b *Backend) Capabilities() core.Capabilities {
	return core.Capabilities{SQL: true, KeyLookup: true}
}

// Committed returns the last committed epoch and its offsets.
func (b *Backend) Committed(ctx context.Context) (core.Epoch, core.Offsets, error) {
	b.mu.Lock()
	closed, e, raw := b.closed, b.committed, b.offsets
	b.mu.Unlock()
	if closed {
		return 0, nil, fmt.Errorf("duckdb: %w", backends.ErrClosed)
	}
	if e == 0 {
		return 0, nil, nil
	}
	off, err := core.UnmarshalOffsets(raw)
	if err != nil {
		return 0, nil, fmt.Errorf("duckdb: decode committed offsets: %w", err)
	}
	return e, off, nil
}

// reader returns a connection for a read-only transaction, from the idle
// pool or new. Return it with putReader.
func (b *Backend) reader(ctx context.Context) (*duckdb.Conn, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("duckdb: %w", backends.ErrClosed)
	}
	if n := len(b.idle); n > 0 {
		c := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		return c, nil
	}
	b.mu.Unlock()
	return b.connect(ctx)
}

// putReader returns a connection taken with reader, or closes it when the
// pool is full or the backend closed.
func (b *Backend) putReader(c *duckdb.Conn) {
	b.mu.Lock()
	if !b.closed && len(b.idle) < maxIdleReaders {
		b.idle = append(b.idle, c)
		c = nil
	}
	b.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// Close closes the database. It is idempotent. Readers returned by Query
// remain valid until released.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	idle := b.idle
	b.idle = nil
	b.mu.Unlock()
	var errs []error
	for _, c := range idle {
		errs = append(errs, c.Close())
	}
	if b.writer != nil {
		errs = append(errs, b.writer.Close())
	}
	b.udfMu.Lock()
	if b.udfDB != nil {
		errs = append(errs, b.udfDB.Close())
		b.udfDB = nil
	}
	b.udfMu.Unlock()
	errs = append(errs, b.connector.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("duckdb: close %s: %w", b.path, err)
	}
	return nil
}

// exec runs one statement on c.
func exec(ctx context.Context, c *duckdb.Conn, query string, args ...any) error {
	_, err := c.ExecContext(ctx, query, namedArgs(args))
	return err
}

func namedArgs(args []any) []driver.NamedValue {
	if len(args) == 0 {
		return nil
	}
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	return nv
}

// queryRow runs query on c and scans the first row into dest (pointers to
// int64 or string), reporting whether there was a row.
func queryRow(ctx context.Context, c *duckdb.Conn, query string, args []any, dest ...any) (bool, error) {
	rows, err := c.QueryContext(ctx, query, namedArgs(args))
	if err != nil {
		return false, err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(vals); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, err
	}
	for i, d := range dest {
		switch p := d.(type) {
		case *int64:
			x, ok := vals[i].(int64)
			if !ok {
				return false, fmt.Errorf("column %d is %T, want int64", i, vals[i])
			}
			*p = x
		case *string:
			x, ok := vals[i].(string)
			if !ok {
				return false, fmt.Errorf("column %d is %T, want string", i, vals[i])
			}
			*p = x
		default:
			return false, fmt.Errorf("cannot scan into %T", d)
		}
	}
	return true, nil
}

// inTx runs fn inside a transaction on c, committing if fn succeeds and
// rolling back if not.
func (b *Backend) inTx(ctx context.Context, c *duckdb.Conn, fn func() error) error {
	if err := exec(ctx, c, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("duckdb: begin transaction: %w", err)
	}
	if err := fn(); err != nil {
		// Roll back even if ctx is done: the connection must be reusable.
		if rerr := exec(context.WithoutCancel(ctx), c, "ROLLBACK"); rerr != nil {
			return errors.Join(err, fmt.Errorf("duckdb: rollback: %w", rerr))
		}
		return err
	}
	if err := exec(ctx, c, "COMMIT"); err != nil {
		_ = exec(context.WithoutCancel(ctx), c, "ROLLBACK")
		return fmt.Errorf("duckdb: commit: %w", err)
	}
	return nil
}

// ident quotes a SQL identifier.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// sqlType is the DuckDB type of a column type.
func sqlType(t core.Type) (string, error) {
	switch t.Arrow.ID() {
	case arrow.BOOL:
		return "BOOLEAN", nil
	case arrow.INT32:
		return "INTEGER", nil
	case arrow.INT64:
		return "BIGINT", nil
	case arrow.FLOAT64:
		return "DOUBLE", nil
	case arrow.STRING:
		return "VARCHAR", nil
	case arrow.BINARY:
		return "BLOB", nil
	case arrow.DATE32:
		return "DATE", nil
	case arrow.TIMESTAMP:
		return "TIMESTAMP", nil
	}
	return "", fmt.Errorf("unsupported column type %s", t.Name)
}
