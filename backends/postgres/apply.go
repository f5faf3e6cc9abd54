package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// Apply applies ch's changes and records its epoch and offsets in one
// transaction. An epoch at or below the committed one is skipped: the check
// reads the epoch row FOR UPDATE inside the transaction, so it holds even
// against a writer of another process.
func (b *Backend) Apply(ctx context.Context, ch *core.EpochChanges) error {
	if b.readOnly {
		return fmt.Errorf("postgres: apply epoch %d: %w", ch.Epoch, core.ErrReadOnly)
	}
	if err := b.checkOpen(); err != nil {
		return err
	}
	b.mu.Lock()
	committed := b.committed
	b.mu.Unlock()
	if ch.Epoch <= committed {
		return nil
	}
	names := make([]string, 0, len(ch.Changes))
	for name := range ch.Changes {
		names = append(names, name)
	}
	slices.Sort(names)
	views := make([]*view, len(names))
	for i, name := range names {
		b.viewsMu.Lock()
		v := b.views[name]
		b.viewsMu.Unlock()
		if v == nil || !v.ensured {
			return fmt.Errorf("postgres: apply epoch %d: view %q: %w (EnsureView it first)", ch.Epoch, name, core.ErrUnknownView)
		}
		for _, rb := range ch.Changes[name] {
			if err := schema.CheckBatch(v.def, rb); err != nil {
				return fmt.Errorf("postgres: apply epoch %d to view %q: %w", ch.Epoch, name, err)
			}
		}
		views[i] = v
	}
	offsets := ch.Offsets.Marshal()
	errSkip := errors.New("already committed")
	var stored int64
	err := b.inTx(ctx, b.writer, func() error {
		if err := b.writer.QueryRow(ctx, "SELECT epoch FROM "+b.table(epochTable)+" FOR UPDATE").Scan(&stored); err != nil {
			return fmt.Errorf("postgres: apply epoch %d: read committed epoch: %w", ch.Epoch, err)
		}
		if core.Epoch(stored) >= ch.Epoch {
			return errSkip
		}
		for i, v := range views {
			if err := b.applyView(ctx, v, ch.Changes[names[i]], &b.copyBuf); err != nil {
				return fmt.Errorf("postgres: apply epoch %d to view %q: %w", ch.Epoch, v.def.Name, err)
			}
		}
		if _, err := b.writer.Exec(ctx, "UPDATE "+b.table(epochTable)+" SET epoch = $1, offsets = $2::text::jsonb", int64(ch.Epoch), string(offsets)); err != nil {
			return fmt.Errorf("postgres: record epoch %d: %w", ch.Epoch, err)
		}
		return nil
	})
	if errors.Is(err, errSkip) {
		b.mu.Lock()
		b.committed = core.Epoch(stored)
		b.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.committed = ch.Epoch
	b.mu.Unlock()
	return nil
}

// applyView copies one view's batches into its staging table and applies
// them with set-based statements, inside Apply's transaction. The staging
// table empties itself at commit (ON COMMIT DELETE ROWS).
func (b *Backend) applyView(ctx context.Context, v *view, rbs []arrow.RecordBatch, buf *bytes.Buffer) error {
	st, err := v.encodeCopy(buf, rbs)
	if err != nil {
		return err
	}
	if st.rows == 0 {
		return nil
	}
	sql := "COPY " + v.stage + " FROM STDIN (FORMAT binary)"
	if _, err := b.writer.PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()), sql); err != nil {
		return fmt.Errorf("copy %d changelog rows into the staging table: %w", st.rows, err)
	}
	var stmts []string
	if v.multiset {
		if st.negative {
			stmts = append(stmts, v.deleteCopies)
		}
		if st.positive {
			stmts = append(stmts, v.insertCopies)
		}
	} else {
		stmts = append(stmts, v.deleteKeys)
		if st.nullKey {
			stmts = append(stmts, v.deleteNullKeys)
		}
		if st.positive {
			stmts = append(stmts, v.insertRows)
		}
	}
	for _, s := range stmts {
		if _, err := b.writer.Exec(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// copyStats describes what encodeCopy wrote, so that Apply runs only the
// statements the epoch needs.
type copyStats struct {
	rows               int64
	positive, negative bool // some weight is > 0, < 0
	nullKey            bool // some row with a weight holds a NULL key column
}

// copySignature starts a binary COPY stream: the signature, flags and an
// empty header extension.
var copySignature = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// encodeCopy writes rbs into buf in COPY's binary format: the view's
// columns, the weight and a sequence number (the rows' order, which decides
// which of two insertions of one key wins). Arrow columns are read
// directly: no per-value boxing. Rows with weight 0 are left out.
func (v *view) encodeCopy(buf *bytes.Buffer, rbs []arrow.RecordBatch) (copyStats, error) {
	var st copyStats
	buf.Reset()
	out := append(buf.AvailableBuffer(), copySignature...)
	nf := uint16(len(v.kinds) + 2)
	var seq int64
	for _, rb := range rbs {
		wcol := core.Weights(rb)
		for i := 0; i < int(rb.NumRows()); i++ {
			seq++
			w := wcol.Value(i)
			if w == 0 {
				continue
			}
			st.rows++
			st.positive = st.positive || w > 0
			st.negative = st.negative || w < 0
			if !v.multiset && !st.nullKey {
				for _, j := range v.identity {
					if rb.Column(j).IsNull(i) {
						st.nullKey = true
					}
				}
			}
			out = binary.BigEndian.AppendUint16(out, nf)
			for j, k := range v.kinds {
				var err error
				if out, err = appendField(out, k, rb.Column(j), i); err != nil {
					return st, fmt.Errorf("column %q: %w", v.def.Columns[j].Name, err)
				}
			}
			out = binary.BigEndian.AppendUint32(out, 8)
			out = binary.BigEndian.AppendUint64(out, uint64(w))
			out = binary.BigEndian.AppendUint32(out, 8)
			out = binary.BigEndian.AppendUint64(out, uint64(seq))
		}
	}
	out = binary.BigEndian.AppendUint16(out, 0xFFFF) // trailer
	buf.Write(out)
	return st, nil
}
