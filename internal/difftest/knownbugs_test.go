package difftest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/stratadb/strata/engine/core"
)

// emptyBatch pushes a changelog batch without rows into every input of p
// in an epoch of its own, then runs a few epochs of changes with empty
// batches mixed in. Operators must accept an empty batch (a source may
// produce one) like any other.
//
// Not testutil.Alloc: an operator that panics mid-batch leaks by
// construction, so the leak check runs only when nothing panicked.
func emptyBatch(p *Planned) (err error) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r, err := NewRun(p, mem)
	if err != nil {
		return err
	}
	defer func() {
		r.Close()
		if x := recover(); x != nil {
			err = fmt.Errorf("panic: %v at %s", x, panicSite(debug.Stack()))
		} else if err == nil && mem.CurrentAlloc() != 0 {
			err = fmt.Errorf("%d bytes of Arrow memory still allocated after Close", mem.CurrentAlloc())
		}
	}()
	ctx := context.Background()
	for _, src := range p.Sources {
		rel := RelationNamed(src)
		bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(rel.Columns)))
		b := bld.NewRecordBatch()
		bld.Release()
		err := r.push(ctx, 0, src, b)
		b.Release()
		if err != nil {
			return fmt.Errorf("push an empty %s batch: %w", src, err)
		}
	}
	r.EmptyBatches = true
	changes := Generate(1, 200)
	return r.RunAll(ctx, rand.New(rand.NewPCG(1, 1)), changes, Cut(rand.New(rand.NewPCG(1, 2)), len(changes)), nil)
}

// panicSite returns the first strata function (and its file:line) below
// the panic in a stack trace.
func panicSite(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			var sites []string
			for j := i + 2; j+1 < len(lines) && len(sites) < 2; j += 2 {
				if strings.Contains(lines[j], "stratadb/strata/") {
					fn := strings.TrimPrefix(lines[j], "github.com/stratadb/strata/")
					if k := strings.LastIndex(fn, "("); k > 0 {
						fn = fn[:k]
					}
					file := strings.TrimSpace(strings.Split(lines[j+1], " +")[0])
					if k := strings.Index(file, "/engine/"); k >= 0 {
						file = file[k+1:]
					}
					sites = append(sites, fn+" "+file)
				}
			}
			return strings.Join(sites, " <- ")
		}
	}
	return "?"
}

// TestEmptyBatches runs emptyBatch for every query that plans. Known bug
// (reported, not fixed here: engine/ belongs to others): an empty array may
// have no value buffer; 175c433 taught engine.fixed so, but engine.values
// (engine/func_call.go) still reads Buffers()[1].Bytes() and panics, through
// IN (inConstSet), CAST (castAny) and date_trunc (dateTruncKernel). Until it
// is fixed the failures are logged; -strict makes them errors, and once no
// query fails the test says so, so the check can become strict.
func TestEmptyBatches(t *testing.T) {
	var failed []string
	for _, p := range planAll(t, "TestEmptyBatches", 1) {
		if err := emptyBatch(p); err != nil {
			failed = append(failed, p.Query.Name)
			msg := fmt.Sprintf("query %s: empty batch: %v\n  sql: %s", p.Query.Name, err, p.Query.SQL)
			if *flagStrict {
				t.Error(msg)
			} else {
				t.Log("known bug: " + msg)
			}
		}
	}
	if len(failed) == 0 {
		t.Log("no query fails on empty batches any more: make the check strict (default -strict=true) and drop the known bug")
	} else {
		t.Logf("known bug: %d queries fail on an empty batch: %s", len(failed), strings.Join(failed, ", "))
	}
}
