package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/internal/keyenc"
	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// Name is the name the backend registers under.
const Name = "pebble"

func init() {
	backends.Register(Name, func(ctx context.Context, cfg backends.Config) (core.Backend, error) {
		return Open(ctx, cfg)
	})
}

// Key prefixes; see doc.go.
const (
	metaPrefix byte = 0x00
	rowPrefix  byte = 0x01
)

var (
	epochKey      = []byte{metaPrefix, 'e', 'p', 'o', 'c', 'h'}
	viewDefPrefix = []byte{metaPrefix, 'v', 'i', 'e', 'w', 0x00}
)

func viewDefKey(name string) []byte { return append(append([]byte{}, viewDefPrefix...), name...) }

func viewRowPrefix(name string) []byte { return keyenc.AppendString([]byte{rowPrefix}, name) }

// Backend is a Pebble database holding views. See the package documentation.
type Backend struct {
	dir      string
	readOnly bool

	// mu guards db against Close: methods hold it for reading while they use
	// db, Close takes it for writing.
	mu     sync.RWMutex
	db     *pebble.DB
	closed bool

	viewsMu sync.Mutex
	views   map[string]*view

	// committed caches the committed epoch for Apply's skip check; it is
	// written only by Apply (one goroutine) and read by it.
	committed atomic.Uint64
}

var (
	_ core.Backend   = (*Backend)(nil)
	_ core.KeyLookup = (*Backend)(nil)
)

// view is what the backend knows of one view. Immutable once built.
type view struct {
	def      core.ViewDef
	prefix   []byte // viewRowPrefix(def.Name)
	identity []int  // positions of the key columns, or all columns for a multiset
	multiset bool
	ensured  bool // EnsureView ran in this process; Apply requires it
}

func newView(def core.ViewDef) *view {
	return &view{
		def:      def,
		prefix:   viewRowPrefix(def.Name),
		identity: schema.IdentityIndexes(def),
		multiset: len(def.Key) == 0,
	}
}

// Open opens (creating if needed, unless cfg.ReadOnly) the Pebble database in
// cfg.Dir. The caller must Close the backend.
func Open(ctx context.Context, cfg backends.Config) (*Backend, error) {
	if cfg.Dir == "" {
		return nil, errors.New("pebble: no directory configured")
	}
	opts := &pebble.Options{ReadOnly: cfg.ReadOnly, ErrorIfNotExists: cfg.ReadOnly, Logger: quietLogger{}}
	for k, v := range cfg.Options {
		switch k {
		case "cache_bytes":
			n, ok := v.(int)
			if !ok || n <= 0 {
				return nil, fmt.Errorf("pebble: option cache_bytes must be a positive int, got %T %v", v, v)
			}
			opts.CacheSize = int64(n)
		default:
			return nil, fmt.Errorf("pebble: unknown option %q (known: cache_bytes)", k)
		}
	}
	if !cfg.ReadOnly {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("pebble: create directory: %w", err)
		}
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("pebble: open %s: %w", cfg.Dir, err)
	}
	b := &Backend{dir: cfg.Dir, readOnly: cfg.ReadOnly, db: db, views: make(map[string]*view)}
	e, _, err := readEpoch(db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	b.committed.Store(uint64(e))
	return b, nil
}

// getter is what Get is called on: the DB or a snapshot.
type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

// readEpoch reads the committed epoch and offsets from r.
func readEpoch(r getter) (core.Epoch, core.Offsets, error) {
	v, closer, err := r.Get(epochKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("pebble: read committed epoch: %w", err)
	}
	defer closer.Close()
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("pebble: committed epoch record is corrupt (%d bytes)", len(v))
	}
	off, err := core.UnmarshalOffsets(v[8:])
	if err != nil {
		return 0, nil, fmt.Errorf("pebble: decode committed offsets: %w", err)
	}
	return core.Epoch(binary.BigEndian.Uint64(v)), off, nil
}

func encodeEpoch(e core.Epoch, off core.Offsets) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(e)), off.Marshal()...)
}

// Name returns "pebble".
func (b *Backend) Name() string { return Name }

// Capabilities reports that the backend serves key lookups.
func (b *Backend) Capabilities() core.Capabilities { return core.Capabilities{KeyLookup: true} }

// acquire read-locks the backend for one operation; release with b.mu.RUnlock.
func (b *Backend) acquire() error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return fmt.Errorf("pebble: %w", backends.ErrClosed)
	}
	return nil
}

// EnsureView creates the view's definition, or checks that the stored one
// matches v (an error wrapping core.ErrSchemaMismatch if not).
func (b *Backend) EnsureView(ctx context.Context, v core.ViewDef) error {
	if err := schema.Validate(v); err != nil {
		return fmt.Errorf("pebble: %w", err)
	}
	if err := b.acquire(); err != nil {
		return err
	}
	defer b.mu.RUnlock()
	if b.readOnly {
		return fmt.Errorf("pebble: ensure view %q: %w", v.Name, core.ErrReadOnly)
	}
	stored, found, err := loadDef(b.db, v.Name)
	if err != nil {
		return err
	}
	if found {
		if d := schema.Diff(stored, v); d != "" {
			return fmt.Errorf("pebble: view %q: %w: %s", v.Name, core.ErrSchemaMismatch, d)
		}
	} else if err := b.db.Set(viewDefKey(v.Name), schema.Marshal(v), pebble.Sync); err != nil {
		return fmt.Errorf("pebble: store definition of view %q: %w", v.Name, err)
	}
	nv := newView(v)
	nv.ensured = true
	b.viewsMu.Lock()
	b.views[v.Name] = nv
	b.viewsMu.Unlock()
	return nil
}

func loadDef(r getter, name string) (schema.Stored, bool, error) {
	raw, closer, err := r.Get(viewDefKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return schema.Stored{}, false, nil
	}
	if err != nil {
		return schema.Stored{}, false, fmt.Errorf("pebble: read definition of view %q: %w", name, err)
	}
	defer closer.Close()
	s, err := schema.Unmarshal(raw)
	if err != nil {
		return schema.Stored{}, false, fmt.Errorf("pebble: view %q: %w", name, err)
	}
	return s, true, nil
}

// view returns the view named name, loading its definition from the database
// if this process has not seen it yet (read-only mode, or before EnsureView).
func (b *Backend) view(name string) (*view, error) {
	b.viewsMu.Lock()
	v, ok := b.views[name]
	b.viewsMu.Unlock()
	if ok {
		return v, nil
	}
	stored, found, err := loadDef(b.db, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("pebble: view %q: %w", name, core.ErrUnknownView)
	}
	def, err := stored.Def()
	if err != nil {
		return nil, fmt.Errorf("pebble: %w", err)
	}
	v = newView(def)
	b.viewsMu.Lock()
	if old, ok := b.views[name]; ok {
		v = old
	} else {
		b.views[name] = v
	}
	b.viewsMu.Unlock()
	return v, nil
}

// Committed returns the last committed epoch and its offsets.
func (b *Backend) Committed(ctx context.Context) (core.Epoch, core.Offsets, error) {
	if err := b.acquire(); err != nil {
		return 0, nil, err
	}
	defer b.mu.RUnlock()
	return readEpoch(b.db)
}

// Close closes the database, waiting for reads in flight. It is idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("pebble: close %s: %w", b.dir, err)
	}
	return nil
}

// quietLogger drops Pebble's informational messages (WAL replay on every
// open) and keeps its errors, which go to the standard logger.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}

func (quietLogger) Errorf(format string, args ...any) { pebble.DefaultLogger.Errorf(format, args...) }

func (quietLogger) Fatalf(format string, args ...any) { pebble.DefaultLogger.Fatalf(format, args...) }
