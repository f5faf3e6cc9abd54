package pebble

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/cockroachdb/pebble/v2"

	"github.com/stratadb/strata/backends/internal/keyenc"
	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// Apply writes ch's changes, epoch and offsets in one synced Pebble batch. An
// epoch at or below the committed one is skipped.
func (b *Backend) Apply(ctx context.Context, ch *core.EpochChanges) error {
	if err := b.acquire(); err != nil {
		return err
	}
	defer b.mu.RUnlock()
	if b.readOnly {
		return fmt.Errorf("pebble: apply epoch %d: %w", ch.Epoch, core.ErrReadOnly)
	}
	if uint64(ch.Epoch) <= b.committed.Load() {
		return nil
	}
	batch := b.db.NewBatch()
	defer batch.Close()

	names := make([]string, 0, len(ch.Changes))
	for name := range ch.Changes {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic batch contents
	var w applier
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pebble: apply epoch %d: %w", ch.Epoch, err)
		}
		b.viewsMu.Lock()
		v := b.views[name]
		b.viewsMu.Unlock()
		if v == nil || !v.ensured {
			return fmt.Errorf("pebble: apply epoch %d: view %q: %w (EnsureView it first)", ch.Epoch, name, core.ErrUnknownView)
		}
		var err error
		if v.multiset {
			err = w.applyMultiset(b.db, batch, v, ch.Changes[name])
		} else {
			err = w.applyKeyed(batch, v, ch.Changes[name])
		}
		if err != nil {
			return fmt.Errorf("pebble: apply epoch %d to view %q: %w", ch.Epoch, name, err)
		}
	}
	if err := batch.Set(epochKey, encodeEpoch(ch.Epoch, ch.Offsets), nil); err != nil {
		return fmt.Errorf("pebble: apply epoch %d: %w", ch.Epoch, err)
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("pebble: commit epoch %d: %w", ch.Epoch, err)
	}
	b.committed.Store(uint64(ch.Epoch))
	return nil
}

// applier holds scratch buffers reused across the views of one Apply.
type applier struct {
	key, val []byte
}

// batchCodec is the per-batch state: key encoders over the identity columns
// and the row encoder.
type batchCodec struct {
	keys []keyenc.ColumnEncoder
	row  *rowEncoder
	w    []int64
}

func newBatchCodec(v *view, rb arrow.RecordBatch) (*batchCodec, error) {
	if err := schema.CheckBatch(v.def, rb); err != nil {
		return nil, err
	}
	c := &batchCodec{keys: make([]keyenc.ColumnEncoder, len(v.identity)), w: core.Weights(rb).Int64Values()}
	for i, col := range v.identity {
		enc, err := keyenc.NewColumnEncoder(rb.Column(col))
		if err != nil {
			return nil, err
		}
		c.keys[i] = enc
	}
	row, err := newRowEncoder(rb, len(v.def.Columns))
	if err != nil {
		return nil, err
	}
	c.row = row
	return c, nil
}

func (c *batchCodec) appendKey(dst, prefix []byte, i int) []byte {
	dst = append(dst, prefix...)
	for _, enc := range c.keys {
		dst = enc(dst, i)
	}
	return dst
}

// applyKeyed deletes the key of every row with a negative weight, then sets
// the key of every row with a positive weight, so the outcome does not depend
// on the order of a -old/+new pair.
func (w *applier) applyKeyed(batch *pebble.Batch, v *view, rbs []arrow.RecordBatch) error {
	codecs := make([]*batchCodec, len(rbs))
	for i, rb := range rbs {
		c, err := newBatchCodec(v, rb)
		if err != nil {
			return err
		}
		codecs[i] = c
	}
	for _, c := range codecs {
		for i, wt := range c.w {
			if wt < 0 {
				w.key = c.appendKey(w.key[:0], v.prefix, i)
				if err := batch.Delete(w.key, nil); err != nil {
					return err
				}
			}
		}
	}
	for _, c := range codecs {
		for i, wt := range c.w {
			if wt > 0 {
				w.key = c.appendKey(w.key[:0], v.prefix, i)
				w.val = c.row.appendRow(w.val[:0], i, 0)
				if err := batch.Set(w.key, w.val, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// multisetDelta is the net weight of one row of a multiset view in an epoch.
type multisetDelta struct {
	weight int64
	value  []byte // the row's encoding with multiplicity 1
}

// applyMultiset sums the epoch's weights per row and adds them to the stored
// multiplicities, read from db (the committed state: Apply is the only
// writer).
func (w *applier) applyMultiset(db *pebble.DB, batch *pebble.Batch, v *view, rbs []arrow.RecordBatch) error {
	deltas := make(map[string]*multisetDelta)
	for _, rb := range rbs {
		c, err := newBatchCodec(v, rb)
		if err != nil {
			return err
		}
		for i, wt := range c.w {
			if wt == 0 {
				continue
			}
			w.key = c.appendKey(w.key[:0], v.prefix, i)
			d, ok := deltas[string(w.key)]
			if !ok {
				d = &multisetDelta{value: c.row.appendRow(nil, i, 1)}
				deltas[string(w.key)] = d
			}
			d.weight += wt
		}
	}
	keys := make([]string, 0, len(deltas))
	for k, d := range deltas {
		if d.weight != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // sorted batches apply faster and deterministically
	for _, k := range keys {
		d := deltas[k]
		var cur int64
		old, closer, err := db.Get([]byte(k))
		switch {
		case errors.Is(err, pebble.ErrNotFound):
		case err != nil:
			return err
		default:
			cur, err = multiplicity(old)
			closer.Close()
			if err != nil {
				return err
			}
		}
		n := cur + d.weight
		if n <= 0 {
			// Below zero means more retractions than insertions; the
			// engine's invariant forbids it, and like DuckDB's "delete n
			// copies" we cannot delete what is not there.
			if cur > 0 {
				if err := batch.Delete([]byte(k), nil); err != nil {
					return err
				}
			}
			continue
		}
		w.val, err = setMultiplicity(w.val[:0], d.value, n)
		if err != nil {
			return err
		}
		if err := batch.Set([]byte(k), w.val, nil); err != nil {
			return fmt.Errorf("set row: %w", err)
		}
	}
	return nil
}
