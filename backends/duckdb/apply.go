//go:build duckdb_arrow && cgo

package duckdb

import (
	"context"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stratadb/strata/backends/internal/schema"
	"github.com/stratadb/strata/engine/core"
)

// Apply applies ch's changes and records its epoch and offsets in one
// transaction. An epoch at or below the committed one is skipped.
func (b *Backend) Apply(ctx context.Context, ch *core.EpochChanges) error {
	if b.readOnly {
		return fmt.Errorf("duckdb: apply epoch %d: %w", ch.Epoch, core.ErrReadOnly)
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
			return fmt.Errorf("duckdb: apply epoch %d: view %q: %w (EnsureView it first)", ch.Epoch, name, core.ErrUnknownView)
		}
		for _, rb := range ch.Changes[name] {
			if err := schema.CheckBatch(v.def, rb); err != nil {
				return fmt.Errorf("duckdb: apply epoch %d to view %q: %w", ch.Epoch, name, err)
			}
		}
		views[i] = v
	}
	offsets := ch.Offsets.Marshal()
	err := b.inTx(ctx, b.writer, func() error {
		for i, v := range views {
			if err := b.applyView(ctx, v, ch.Changes[names[i]]); err != nil {
				return fmt.Errorf("duckdb: apply epoch %d to view %q: %w", ch.Epoch, v.def.Name, err)
			}
		}
		if err := exec(ctx, b.writer, "UPDATE "+epochTable+" SET epoch = $1, offsets = $2", int64(ch.Epoch), string(offsets)); err != nil {
			return fmt.Errorf("duckdb: record epoch %d: %w", ch.Epoch, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.committed, b.offsets = ch.Epoch, offsets
	b.mu.Unlock()
	return nil
}

// applyView applies one view's batches inside Apply's transaction.
func (b *Backend) applyView(ctx context.Context, v *view, rbs []arrow.RecordBatch) error {
	var rows int64
	for _, rb := range rbs {
		rows += rb.NumRows()
	}
	if rows == 0 {
		return nil
	}
	if v.multiset && allInserts(rbs) {
		// An append-only epoch (every weight +1, the common case of a
		// stream) needs no regrouping and no delete pass: its rows go
		// straight from the Arrow batches into the table.
		return b.stage(ctx, v, rbs, v.appendRows)
	}
	if err := b.stage(ctx, v, rbs, v.fillStage); err != nil {
		return err
	}
	stmts := []string{v.deleteKeys, v.insertRows}
	if v.multiset {
		stmts = []string{v.deleteCopies, v.insertCopies}
	}
	for _, s := range append(stmts, v.clearStage) {
		if err := exec(ctx, b.writer, s); err != nil {
			return err
		}
	}
	return nil
}

// allInserts reports whether every row of rbs has weight +1.
func allInserts(rbs []arrow.RecordBatch) bool {
	for _, rb := range rbs {
		for _, w := range core.Weights(rb).Int64Values() {
			if w != 1 {
				return false
			}
		}
	}
	return true
}

// stage runs stmt (v.fillStage: into v's staging table; v.appendRows:
// straight into its table) over rbs, exposed as a temporary Arrow view.
// The Arrow stream is exported to DuckDB through the C data interface; it
// is released, and the view dropped, before stage returns.
func (b *Backend) stage(ctx context.Context, v *view, rbs []arrow.RecordBatch, stmt string) (err error) {
	canon := make([]arrow.RecordBatch, 0, len(rbs))
	for _, rb := range rbs {
		if rb.NumRows() > 0 {
			canon = append(canon, schema.Canonical(v.changelog, rb))
		}
	}
	rdr, err := array.NewRecordReader(v.changelog, canon)
	for _, rb := range canon {
		rb.Release() // the reader holds its own references
	}
	if err != nil {
		return fmt.Errorf("read changelog batches: %w", err)
	}
	ar, err := duckdb.NewArrowFromConn(b.writer)
	if err != nil {
		rdr.Release()
		return err
	}
	release, err := ar.RegisterView(rdr, inputView)
	rdr.Release() // the exported stream holds its own reference
	if err != nil {
		return fmt.Errorf("register changelog batches: %w", err)
	}
	defer func() {
		release()
		if derr := exec(ctx, b.writer, "DROP VIEW IF EXISTS "+inputView); derr != nil && err == nil {
			err = fmt.Errorf("drop input view: %w", derr)
		}
	}()
	if err := exec(ctx, b.writer, stmt); err != nil {
		return fmt.Errorf("stage changelog batches: %w", err)
	}
	return nil
}
