package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stratadb/strata/engine/core"
)

// Checkpointer is implemented by stateful operators whose state the engine
// saves after every committed epoch, so recovery starts from the last
// checkpoint instead of replaying the whole epoch log.
type Checkpointer interface {
	// Checkpoint writes the state that changed since the previous
	// checkpoint (or all of it, the first time) to w.
	Checkpoint(w StateWriter) error
	// Restore loads what Checkpoint wrote, into a fresh operator.
	Restore(r StateReader) error
}

// StateWriter receives an operator's state changes; keys are the
// operator's own (the engine prefixes them).
type StateWriter interface {
	Set(key, value []byte)
	Delete(key []byte)
}

// StateLookup reads one key of an operator's committed state.
type StateLookup interface {
	Get(key []byte) (value []byte, ok bool, err error)
}

// Spiller is implemented by operators that keep only part of their state
// in memory: what is not there is read back from the committed checkpoint.
type Spiller interface {
	// AttachState gives the operator its committed state and the number
	// of keys it may keep in memory.
	AttachState(store StateLookup, maxKeys int)
	// Checkpointed is called after the checkpoint is committed, when clean
	// state may be dropped from memory.
	Checkpointed()
}

// StateReader scans an operator's saved state.
type StateReader interface {
	Scan(fn func(key, value []byte) error) error
}

// StateStore holds operator checkpoints in Pebble (data_dir/state). A
// checkpoint is written after every backend committed the epoch, in one
// synced batch with the epoch number, so it never runs ahead of a backend.
type StateStore struct {
	db *pebble.DB
}

var (
	stateEpochKey = []byte("m/epoch")
	stateOpPrefix = []byte("o/")
	stateEngKey   = []byte("m/engine")
)

// OpenStateStore opens (creating if needed) the state store in dir.
func OpenStateStore(dir string) (*StateStore, error) {
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("engine: open state store %s: %w", dir, err)
	}
	return &StateStore{db: db}, nil
}

// Close closes the store.
func (s *StateStore) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Epoch returns the epoch of the last checkpoint (0 when none).
func (s *StateStore) Epoch() (core.Epoch, error) {
	v, closer, err := s.db.Get(stateEpochKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	return core.Epoch(binary.BigEndian.Uint64(v)), nil
}

// Reset deletes every checkpoint.
func (s *StateStore) Reset() error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange([]byte("m"), []byte("p"), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

func opPrefix(view string, op int) []byte {
	p := append([]byte(nil), stateOpPrefix...)
	p = binary.AppendUvarint(p, uint64(len(view)))
	p = append(p, view...)
	return binary.BigEndian.AppendUint32(p, uint32(op))
}

type prefixWriter struct {
	b      *pebble.Batch
	prefix []byte
}

func (w prefixWriter) Set(k, v []byte) {
	_ = w.b.Set(append(append([]byte(nil), w.prefix...), k...), v, nil)
}
func (w prefixWriter) Delete(k []byte) {
	_ = w.b.Delete(append(append([]byte(nil), w.prefix...), k...), nil)
}

type prefixReader struct {
	db     *pebble.DB
	prefix []byte
}

func (r prefixReader) Scan(fn func(k, v []byte) error) error {
	upper := append(append([]byte(nil), r.prefix...), 0xff, 0xff, 0xff, 0xff)
	it, err := r.db.NewIter(&pebble.IterOptions{LowerBound: r.prefix, UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key()[len(r.prefix):], it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

// Value codec: a tag byte, then the value. It encodes the Go values of
// core.ValueAt (and int64 microseconds for times inside valueKey maps).
const (
	tagNil byte = iota
	tagBool
	tagInt32
	tagInt64
	tagFloat
	tagString
	tagBytes
	tagTime
)

func appendValue(buf []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, tagNil)
	case bool:
		if x {
			return append(buf, tagBool, 1)
		}
		return append(buf, tagBool, 0)
	case int32:
		return binary.AppendVarint(append(buf, tagInt32), int64(x))
	case int64:
		return binary.AppendVarint(append(buf, tagInt64), x)
	case float64:
		return binary.BigEndian.AppendUint64(append(buf, tagFloat), math.Float64bits(x))
	case string:
		buf = binary.AppendUvarint(append(buf, tagString), uint64(len(x)))
		return append(buf, x...)
	case []byte:
		buf = binary.AppendUvarint(append(buf, tagBytes), uint64(len(x)))
		return append(buf, x...)
	case time.Time:
		return binary.AppendVarint(append(buf, tagTime), x.UnixMicro())
	}
	panic(fmt.Sprintf("engine: cannot encode state value %T", v))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("engine: corrupt state value")
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) value() any {
	if len(d.b) == 0 {
		d.fail()
		return nil
	}
	tag := d.b[0]
	d.b = d.b[1:]
	switch tag {
	case tagNil:
		return nil
	case tagBool:
		if len(d.b) == 0 {
			d.fail()
			return nil
		}
		v := d.b[0] == 1
		d.b = d.b[1:]
		return v
	case tagInt32:
		return int32(d.varint())
	case tagInt64:
		return d.varint()
	case tagFloat:
		if len(d.b) < 8 {
			d.fail()
			return nil
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(d.b))
		d.b = d.b[8:]
		return v
	case tagString, tagBytes:
		n := d.uvarint()
		if uint64(len(d.b)) < n {
			d.fail()
			return nil
		}
		s := d.b[:n]
		d.b = d.b[n:]
		if tag == tagString {
			return string(s)
		}
		return append([]byte(nil), s...)
	case tagTime:
		return time.UnixMicro(d.varint()).UTC()
	}
	d.fail()
	return nil
}

// appendRowVals encodes a row of values with its length.
func appendRowVals(buf []byte, vals []any) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(vals)))
	for _, v := range vals {
		buf = appendValue(buf, v)
	}
	return buf
}

func (d *decoder) rowVals() []any {
	n := int(d.uvarint())
	if n > len(d.b) {
		d.fail()
		return nil
	}
	out := make([]any, n)
	for i := range out {
		out[i] = d.value()
	}
	return out
}

// str reads a length-prefixed string.
func (d *decoder) str() string {
	l := d.uvarint()
	if uint64(len(d.b)) < l {
		d.fail()
		return ""
	}
	x := string(d.b[:l])
	d.b = d.b[l:]
	return x
}

// Get implements StateLookup.
func (r prefixReader) Get(k []byte) ([]byte, bool, error) {
	v, closer, err := r.db.Get(append(append([]byte(nil), r.prefix...), k...))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), true, nil
}
