package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/engine/core"
)

// Name is the name the backend registers under.
const Name = "postgres"

// EnvDSN names the environment variable that supplies the connection string
// when the backend's options carry no dsn (the way `strata run` configures
// it: the deployment file names the backend, the environment the server).
const EnvDSN = "STRATA_POSTGRES_DSN"

// DefaultSchema is the Postgres schema that holds the tables unless the
// schema option names another.
const DefaultSchema = "public"

func init() {
	backends.Register(Name, func(ctx context.Context, cfg backends.Config) (core.Backend, error) {
		return Open(ctx, cfg)
	})
}

// reservedPrefix starts the names of the backend's own tables and columns.
const reservedPrefix = "_strata_"

const (
	maxIdleReaders = 4
	// lockWait bounds how long Open waits for the writer lock held by
	// another process (or by the session of a process that just died, until
	// the server notices and rolls its transaction back).
	lockWait = 60 * time.Second
)

// Backend is a Postgres schema holding views. See the package documentation.
type Backend struct {
	conf     *pgx.ConnConfig
	schema   string // unquoted
	readOnly bool
	// uniqueNulls: the server (15+) supports UNIQUE NULLS NOT DISTINCT.
	uniqueNulls bool

	// writer is the connection Apply and EnsureView use; nil in read-only
	// mode. Only the engine's goroutine uses it. Its session holds the
	// schema's advisory lock.
	writer *pgx.Conn
	// copyBuf holds one view's COPY stream; Apply reuses it.
	copyBuf bytes.Buffer

	// mu guards closed, idle and committed; it is never held during I/O.
	mu        sync.Mutex
	closed    bool
	idle      []*pgx.Conn
	committed core.Epoch // the writer's last commit; Apply's fast skip

	viewsMu sync.Mutex
	views   map[string]*view
	nstage  int
}

var (
	_ core.Backend   = (*Backend)(nil)
	_ core.KeyLookup = (*Backend)(nil)
)

// Open connects to the server named by the dsn option (or $STRATA_POSTGRES_DSN)
// and, unless cfg.ReadOnly, takes the schema's writer lock and creates the
// backend's tables. cfg.Dir is not used: the data lives in the server. The
// caller must Close the backend.
//
// Options: dsn (a libpq connection string or URL), schema (default
// "public").
func Open(ctx context.Context, cfg backends.Config) (_ *Backend, err error) {
	dsn, schemaName := "", DefaultSchema
	for k, v := range cfg.Options {
		s, ok := v.(string)
		switch k {
		case "dsn":
			if !ok || s == "" {
				return nil, fmt.Errorf("postgres: option dsn must be a connection string, got %T %v", v, v)
			}
			dsn = s
		case "schema":
			if !ok || s == "" {
				return nil, fmt.Errorf("postgres: option schema must be a schema name, got %T %v", v, v)
			}
			schemaName = s
		default:
			return nil, fmt.Errorf("postgres: unknown option %q (known: dsn, schema)", k)
		}
	}
	if dsn == "" {
		dsn = os.Getenv(EnvDSN)
	}
	if dsn == "" {
		return nil, fmt.Errorf("postgres: %w: set %s (or the backend option dsn) to a connection string such as postgres://user@127.0.0.1:5432/db", ErrNoServer, EnvDSN)
	}
	conf, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse the connection string: %w", err)
	}
	b := &Backend{conf: conf, schema: schemaName, readOnly: cfg.ReadOnly, views: map[string]*view{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, b.Close())
		}
	}()
	if cfg.ReadOnly {
		c, err := b.reader(ctx)
		if err != nil {
			return nil, err
		}
		defer b.putReader(c)
		var exists bool
		if err := c.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", b.table(epochTable)).Scan(&exists); err != nil {
			return nil, fmt.Errorf("postgres: open read-only: %w", err)
		}
		if !exists {
			return nil, fmt.Errorf("postgres: open read-only: schema %q of %s holds no Strata data", b.schema, conf.Database)
		}
		b.uniqueNulls = serverVersion(c) >= 150000
		return b, nil
	}
	if b.writer, err = b.connect(ctx); err != nil {
		return nil, err
	}
	b.uniqueNulls = serverVersion(b.writer) >= 150000
	if err := b.lock(ctx); err != nil {
		return nil, err
	}
	if err := b.initMeta(ctx); err != nil {
		return nil, err
	}
	e, _, err := b.readCommitted(ctx, b.writer)
	if err != nil {
		return nil, err
	}
	b.committed = e
	return b, nil
}

func serverVersion(c *pgx.Conn) int {
	n, _ := strconv.Atoi(c.PgConn().ParameterStatus("server_version_num"))
	if n == 0 {
		// Older servers report only server_version, e.g. "14.9 (Debian ..)".
		v := c.PgConn().ParameterStatus("server_version")
		major, _, _ := strings.Cut(v, ".")
		m, _ := strconv.Atoi(major)
		n = m * 10000
	}
	return n
}

func (b *Backend) connect(ctx context.Context) (*pgx.Conn, error) {
	c, err := pgx.ConnectConfig(ctx, b.conf.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", b.conf.Host, b.conf.Port, b.conf.Database, err)
	}
	return c, nil
}

// lock takes the schema's session-level advisory lock on the writer: one
// writer per schema. It also orders a restarted process after a killed one:
// the dead session keeps the lock until the server has finished (committed
// or rolled back) its last transaction, so Committed, read after the lock,
// is final.
func (b *Backend) lock(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	if _, err := b.writer.Exec(lctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", "strata:"+b.schema); err != nil {
		if lctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("postgres: schema %q of %s: %w (waited %v)", b.schema, b.conf.Database, ErrLocked, lockWait)
		}
		return fmt.Errorf("postgres: lock schema %q: %w", b.schema, err)
	}
	return nil
}

const (
	epochTable = reservedPrefix + "epoch"
	viewsTable = reservedPrefix + "views"
	seqColumn  = reservedPrefix + "seq"
)

// table returns the quoted, schema-qualified name of table.
func (b *Backend) table(name string) string { return ident(b.schema) + "." + ident(name) }

// initMeta creates the schema and the backend's own tables.
func (b *Backend) initMeta(ctx context.Context) error {
	return b.inTx(ctx, b.writer, func() error {
		for _, s := range []string{
			"CREATE SCHEMA IF NOT EXISTS " + ident(b.schema),
			"CREATE TABLE IF NOT EXISTS " + b.table(epochTable) + " (epoch BIGINT NOT NULL, offsets JSONB NOT NULL)",
			"INSERT INTO " + b.table(epochTable) + " SELECT 0, '{}' WHERE NOT EXISTS (SELECT 1 FROM " + b.table(epochTable) + ")",
			"CREATE TABLE IF NOT EXISTS " + b.table(viewsTable) + " (name TEXT PRIMARY KEY, def TEXT NOT NULL)",
		} {
			if _, err := b.writer.Exec(ctx, s); err != nil {
				return fmt.Errorf("postgres: initialize schema %q: %w", b.schema, err)
			}
		}
		return nil
	})
}

// readCommitted reads the epoch row through c.
func (b *Backend) readCommitted(ctx context.Context, c *pgx.Conn) (core.Epoch, []byte, error) {
	var e int64
	var off string
	err := c.QueryRow(ctx, "SELECT epoch, offsets::text FROM "+b.table(epochTable)).Scan(&e, &off)
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: read committed epoch: %w", err)
	}
	return core.Epoch(e), []byte(off), nil
}

// Name returns "postgres".
func (b *Backend) Name() string { return Name }

// Capabilities reports that the backend serves key lookups. Ad-hoc SQL goes
// to the Postgres server itself (psql and any client), not through Strata.
func (b *Backend) Capabilities() core.Capabilities {
	return core.Capabilities{KeyLookup: true}
}

// Committed returns the last committed epoch and its offsets, as stored in
// the server (another process may be the writer).
func (b *Backend) Committed(ctx context.Context) (core.Epoch, core.Offsets, error) {
	c, err := b.reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	e, raw, err := b.readCommitted(ctx, c)
	b.putReader(c)
	if err != nil {
		return 0, nil, err
	}
	if e == 0 {
		return 0, nil, nil
	}
	off, err := core.UnmarshalOffsets(raw)
	if err != nil {
		return 0, nil, fmt.Errorf("postgres: decode committed offsets: %w", err)
	}
	return e, off, nil
}

func (b *Backend) checkOpen() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("postgres: %w", backends.ErrClosed)
	}
	return nil
}

// reader returns an idle read connection or a new one. Return it with
// putReader.
func (b *Backend) reader(ctx context.Context) (*pgx.Conn, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, fmt.Errorf("postgres: %w", backends.ErrClosed)
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

// putReader returns a connection taken with reader, closing it when the
// pool is full, the backend closed or the connection is not idle.
func (b *Backend) putReader(c *pgx.Conn) {
	b.mu.Lock()
	if !b.closed && len(b.idle) < maxIdleReaders && !c.IsClosed() && c.PgConn().TxStatus() == 'I' {
		b.idle = append(b.idle, c)
		c = nil
	}
	b.mu.Unlock()
	if c != nil {
		_ = c.Close(context.Background())
	}
}

// Close closes every connection (releasing the writer lock). It is
// idempotent.
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, c := range idle {
		errs = append(errs, c.Close(ctx))
	}
	if b.writer != nil {
		errs = append(errs, b.writer.Close(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("postgres: close: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction on c, committing if fn succeeds.
func (b *Backend) inTx(ctx context.Context, c *pgx.Conn, fn func() error) error {
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("postgres: begin transaction: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := c.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			return errors.Join(err, fmt.Errorf("postgres: rollback: %w", rerr))
		}
		return err
	}
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// ident quotes a SQL identifier.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
