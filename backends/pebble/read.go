package pebble

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/stratadb/strata/backends/internal/keyenc"
	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// Lookup returns the row of view whose key columns equal key, and the epoch
// it reflects. Key values are converted to the key columns' types (see
// schema.Coerce: Go values, or text such as "42" for a bigint column). For a
// view without key columns the key is the whole row. The row is in
// core.ValueAt form and owned by the caller.
func (b *Backend) Lookup(ctx context.Context, viewName string, key []any) (row []any, found bool, epoch core.Epoch, err error) {
	if err := b.acquire(); err != nil {
		return nil, false, 0, err
	}
	defer b.mu.RUnlock()
	v, err := b.view(viewName)
	if err != nil {
		return nil, false, 0, err
	}
	k, err := b.encodeKey(v, key, false)
	if err != nil {
		return nil, false, 0, err
	}
	snap := b.db.NewSnapshot()
	defer snap.Close()
	epoch, _, err = readEpoch(snap)
	if err != nil {
		return nil, false, 0, err
	}
	val, closer, err := snap.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, epoch, nil
	}
	if err != nil {
		return nil, false, 0, fmt.Errorf("pebble: lookup in view %q: %w", viewName, err)
	}
	defer closer.Close()
	row, _, err = decodeRow(v.def.Columns, val, v.multiset)
	if err != nil {
		return nil, false, 0, fmt.Errorf("pebble: lookup in view %q: %w", viewName, err)
	}
	return row, true, epoch, nil
}

// encodeKey returns the row key (or key prefix, if prefix) of key in v.
func (b *Backend) encodeKey(v *view, key []any, prefix bool) ([]byte, error) {
	idx := v.identity
	if prefix {
		if len(key) > len(idx) {
			return nil, fmt.Errorf("pebble: view %q: prefix has %d values, the key only %d", v.def.Name, len(key), len(idx))
		}
		idx = idx[:len(key)]
	}
	vals, err := schema.CoerceKey(v.def, idx, key)
	if err != nil {
		return nil, fmt.Errorf("pebble: %w", err)
	}
	k := append([]byte{}, v.prefix...)
	for i, x := range vals {
		k, err = keyenc.AppendValue(k, v.def.Columns[idx[i]].Type, x)
		if err != nil {
			return nil, fmt.Errorf("pebble: view %q: %w", v.def.Name, err)
		}
	}
	return k, nil
}

// Scan calls fn, in key order, with every row of view whose first key
// columns equal prefix (all rows for an empty prefix), and returns the epoch
// the rows reflect. Prefix values are converted like Lookup's key. A row of a
// multiset view is passed once per copy. Each row is freshly allocated and
// owned by fn. An error from fn stops the scan and is returned as is.
func (b *Backend) Scan(ctx context.Context, viewName string, prefix []any, fn func(row []any) error) (core.Epoch, error) {
	if err := b.acquire(); err != nil {
		return 0, err
	}
	defer b.mu.RUnlock()
	v, err := b.view(viewName)
	if err != nil {
		return 0, err
	}
	lower, err := b.encodeKey(v, prefix, true)
	if err != nil {
		return 0, err
	}
	snap := b.db.NewSnapshot()
	defer snap.Close()
	epoch, _, err := readEpoch(snap)
	if err != nil {
		return 0, err
	}
	it, err := snap.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return 0, fmt.Errorf("pebble: scan view %q: %w", viewName, err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("pebble: scan view %q: %w", viewName, err)
			}
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return 0, fmt.Errorf("pebble: scan view %q: %w", viewName, err)
		}
		row, mult, err := decodeRow(v.def.Columns, val, v.multiset)
		if err != nil {
			return 0, fmt.Errorf("pebble: scan view %q: %w", viewName, err)
		}
		for c := int64(0); c < mult; c++ {
			r := row
			if c < mult-1 {
				r = append([]any{}, row...) // fn owns each copy
			}
			if err := fn(r); err != nil {
				return epoch, err
			}
		}
	}
	if err := it.Error(); err != nil {
		return 0, fmt.Errorf("pebble: scan view %q: %w", viewName, err)
	}
	return epoch, nil
}

// prefixEnd returns the smallest key greater than every key with prefix p.
// The encodings guarantee p is non-empty and not all 0xFF (it starts with
// rowPrefix).
func prefixEnd(p []byte) []byte {
	end := append([]byte{}, p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
