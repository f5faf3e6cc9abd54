package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stratadb/strata/engine/core"
)

// EpochLog records, before an epoch runs, the offsets each source reads in
// it. Recovery re-reads exactly these ranges, which makes replay
// deterministic. It is a small Pebble database of its own.
type EpochLog struct {
	db *pebble.DB
}

var (
	epochPrefix = []byte("e/")
	finalPrefix = []byte("f/")
	tagPrefix   = []byte("t/")
)

func epochKey(e core.Epoch) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), epochPrefix...), uint64(e))
}

// OpenEpochLog opens (creating if needed) the epoch log in dir.
func OpenEpochLog(dir string, readOnly bool) (*EpochLog, error) {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: readOnly, Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("engine: open epoch log %s: %w", dir, err)
	}
	return &EpochLog{db: db}, nil
}

// Append durably records the offsets of epoch e.
func (l *EpochLog) Append(e core.Epoch, o core.Offsets) error {
	if err := l.db.Set(epochKey(e), o.Marshal(), pebble.Sync); err != nil {
		return fmt.Errorf("engine: epoch log: write epoch %d: %w", e, err)
	}
	return nil
}

// AppendTagged is Append that also records tag as in effect from epoch e
// on (e.g. the versions of the UDF modules the epoch runs); an empty tag
// records nothing more.
func (l *EpochLog) AppendTagged(e core.Epoch, o core.Offsets, tag string) error {
	if tag == "" {
		return l.Append(e, o)
	}
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Set(epochKey(e), o.Marshal(), nil)
	_ = b.Set(binary.BigEndian.AppendUint64(append([]byte(nil), tagPrefix...), uint64(e)), []byte(tag), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("engine: epoch log: write epoch %d: %w", e, err)
	}
	return nil
}

// TagAt returns the tag in effect at epoch e: the last one recorded at or
// before e ("" when none).
func (l *EpochLog) TagAt(e core.Epoch) (string, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: tagPrefix,
		UpperBound: binary.BigEndian.AppendUint64(append([]byte(nil), tagPrefix...), uint64(e)+1)})
	if err != nil {
		return "", err
	}
	defer it.Close()
	if !it.Last() {
		return "", it.Error()
	}
	return string(it.Value()), nil
}

// AppendFinal durably records epoch e as a final epoch: it reads nothing
// and runs with the watermark at +infinity, so every window closes (the
// bounded inputs were exhausted).
func (l *EpochLog) AppendFinal(e core.Epoch) error {
	b := l.db.NewBatch()
	defer b.Close()
	_ = b.Set(epochKey(e), core.Offsets{}.Marshal(), nil)
	_ = b.Set(binary.BigEndian.AppendUint64(append([]byte(nil), finalPrefix...), uint64(e)), nil, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("engine: epoch log: write final epoch %d: %w", e, err)
	}
	return nil
}

// Final reports whether epoch e was logged as final.
func (l *EpochLog) Final(e core.Epoch) (bool, error) {
	_, closer, err := l.db.Get(binary.BigEndian.AppendUint64(append([]byte(nil), finalPrefix...), uint64(e)))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

// Each calls fn for every logged epoch in order.
func (l *EpochLog) Each(fn func(core.Epoch, core.Offsets) error) error {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: epochPrefix, UpperBound: []byte("e0")})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		e := core.Epoch(binary.BigEndian.Uint64(it.Key()[len(epochPrefix):]))
		o, err := core.UnmarshalOffsets(it.Value())
		if err != nil {
			return fmt.Errorf("engine: epoch log: epoch %d: %w", e, err)
		}
		if err := fn(e, o); err != nil {
			return err
		}
	}
	return it.Error()
}

// Last returns the last logged epoch (0 when none).
func (l *EpochLog) Last() (core.Epoch, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: epochPrefix, UpperBound: []byte("e0")})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, it.Error()
	}
	return core.Epoch(binary.BigEndian.Uint64(it.Key()[len(epochPrefix):])), nil
}

// Close closes the log.
func (l *EpochLog) Close() error {
	if l.db == nil {
		return nil
	}
	err := l.db.Close()
	l.db = nil
	if err != nil && !errors.Is(err, pebble.ErrClosed) {
		return err
	}
	return nil
}

// quietLogger drops Pebble's informational logging.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf(format, args...))
}
