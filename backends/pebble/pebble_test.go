package pebble_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/goleak"

	"github.com/stratadb/strata/backends"
	"github.com/stratadb/strata/backends/pebble"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var kv = core.ViewDef{
	Name:    "kv",
	Columns: []core.Column{{Name: "a", Type: core.Varchar}, {Name: "b", Type: core.Bigint}, {Name: "v", Type: core.Bigint}},
	Key:     []string{"a", "b"},
}

func open(t testing.TB, dir string) *pebble.Backend {
	t.Helper()
	b, err := pebble.Open(context.Background(), backends.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// batch builds a changelog batch of kv: rows of (a, b, v, weight); a nil a
// is NULL.
func batch(mem memory.Allocator, rows ...[4]any) arrow.RecordBatch {
	bld := array.NewRecordBuilder(mem, core.ChangelogSchema(core.ArrowSchema(kv.Columns)))
	defer bld.Release()
	for _, r := range rows {
		if r[0] == nil {
			bld.Field(0).AppendNull()
		} else {
			bld.Field(0).(*array.StringBuilder).Append(r[0].(string))
		}
		bld.Field(1).(*array.Int64Builder).Append(int64(r[1].(int)))
		bld.Field(2).(*array.Int64Builder).Append(int64(r[2].(int)))
		bld.Field(3).(*array.Int64Builder).Append(int64(r[3].(int)))
	}
	return bld.NewRecordBatch()
}

func apply(t testing.TB, b core.Backend, epoch core.Epoch, rb arrow.RecordBatch) {
	t.Helper()
	defer rb.Release()
	err := b.Apply(context.Background(), &core.EpochChanges{Epoch: epoch, Changes: map[string][]arrow.RecordBatch{kv.Name: {rb}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestScan checks that Scan returns rows in key order, NULLs first, and that
// a prefix selects exactly the rows whose first key columns equal it, also
// when one string is a prefix of another or holds zero bytes.
func TestScan(t *testing.T) {
	mem := testutil.Alloc(t)
	b := open(t, t.TempDir())
	defer b.Close()
	ctx := context.Background()
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	apply(t, b, 1, batch(mem,
		[4]any{"ab", 1, 0, 1}, [4]any{"a", 2, 0, 1}, [4]any{"a\x00", 1, 0, 1}, [4]any{"a", -5, 0, 1},
		[4]any{nil, 3, 0, 1}, [4]any{"a", 10, 0, 1}, [4]any{"", 0, 0, 1}, [4]any{"b", 1, 0, 1},
	))
	scan := func(prefix ...any) string {
		var out []string
		e, err := b.Scan(ctx, kv.Name, prefix, func(r []any) error {
			out = append(out, fmt.Sprintf("%q/%v", r[0], r[1]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if e != 1 {
			t.Fatalf("Scan epoch = %d, want 1", e)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		prefix []any
		want   string
	}{
		{nil, `[%!q(<nil>)/3 ""/0 "a"/-5 "a"/2 "a"/10 "a\x00"/1 "ab"/1 "b"/1]`},
		{[]any{"a"}, `["a"/-5 "a"/2 "a"/10]`},
		{[]any{"a", "2"}, `["a"/2]`},
		{[]any{nil}, `[%!q(<nil>)/3]`},
		{[]any{"a\x00"}, `["a\x00"/1]`},
		{[]any{"c"}, `[]`},
	} {
		if got := scan(tc.prefix...); got != tc.want {
			t.Errorf("Scan(%q) = %s, want %s", tc.prefix, got, tc.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	_, err := b.Scan(ctx, kv.Name, nil, func([]any) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Scan with a failing callback: %v after %d rows, want stop after 1", err, n)
	}
	if _, err := b.Scan(ctx, kv.Name, []any{"a", 1, 2}, func([]any) error { return nil }); err == nil {
		t.Error("Scan with a prefix longer than the key succeeded")
	}
}

// TestConsistentReads hammers Lookup and Scan while epochs commit: every
// epoch sets all rows' v to the epoch number, so a read that mixed epochs,
// or reported another epoch than it read, shows.
func TestConsistentReads(t *testing.T) {
	mem := testutil.Alloc(t)
	b := open(t, t.TempDir())
	defer b.Close()
	ctx := context.Background()
	if err := b.EnsureView(ctx, kv); err != nil {
		t.Fatal(err)
	}
	const keys, epochs = 50, 200
	var done atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				if g%2 == 0 {
					row, found, e, err := b.Lookup(ctx, kv.Name, []any{"k", int64(g)})
					if err != nil {
						errc <- err
						return
					}
					if found && row[2].(int64) != int64(e) || !found && e != 0 {
						errc <- fmt.Errorf("Lookup: row %v found=%v at epoch %d", row, found, e)
						return
					}
					continue
				}
				var vs []int64
				e, err := b.Scan(ctx, kv.Name, []any{"k"}, func(r []any) error {
					vs = append(vs, r[2].(int64))
					return nil
				})
				if err != nil {
					errc <- err
					return
				}
				if e > 0 && len(vs) != keys {
					errc <- fmt.Errorf("Scan at epoch %d saw %d rows, want %d", e, len(vs), keys)
					return
				}
				for _, v := range vs {
					if v != int64(e) {
						errc <- fmt.Errorf("Scan at epoch %d saw a row of epoch %d", e, v)
						return
					}
				}
			}
		}()
	}
	for e := 1; e <= epochs; e++ {
		var rows [][4]any
		for k := 0; k < keys; k++ {
			if e > 1 {
				rows = append(rows, [4]any{"k", k, e - 1, -1})
			}
			rows = append(rows, [4]any{"k", k, e, 1})
		}
		apply(t, b, core.Epoch(e), batch(mem, rows...))
	}
	done.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	b := open(t, t.TempDir())
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, _, err := b.Committed(ctx); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("Committed after Close: %v, want ErrClosed", err)
	}
	if _, _, _, err := b.Lookup(ctx, "kv", []any{"a", 1}); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("Lookup after Close: %v, want ErrClosed", err)
	}
	if err := b.Apply(ctx, &core.EpochChanges{Epoch: 1}); !errors.Is(err, backends.ErrClosed) {
		t.Errorf("Apply after Close: %v, want ErrClosed", err)
	}
}

func TestReadOnlyMissing(t *testing.T) {
	_, err := pebble.Open(context.Background(), backends.Config{Dir: t.TempDir() + "/missing", ReadOnly: true})
	if err == nil {
		t.Fatal("read-only Open of a missing directory succeeded")
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	if _, err := pebble.Open(context.Background(), backends.Config{Dir: dir, Options: map[string]any{"nope": 1}}); err == nil {
		t.Error("unknown option accepted")
	}
	b, err := pebble.Open(context.Background(), backends.Config{Dir: dir, Options: map[string]any{"cache_bytes": 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

// BenchmarkLookup measures point lookups by a text key (the CLI's path)
// into a view of 100k rows.
func BenchmarkLookup(b *testing.B) {
	mem := testutil.Alloc(b)
	be := open(b, b.TempDir())
	defer be.Close()
	ctx := context.Background()
	if err := be.EnsureView(ctx, kv); err != nil {
		b.Fatal(err)
	}
	const n = 100_000
	rows := make([][4]any, n)
	for i := range rows {
		rows[i] = [4]any{"k", i, i, 1}
	}
	apply(b, be, 1, batch(mem, rows...))
	key := []any{"k", "0"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key[1] = fmt.Sprint(i * 7919 % n)
		if _, found, _, err := be.Lookup(ctx, kv.Name, key); err != nil || !found {
			b.Fatalf("Lookup(%v): found=%v, %v", key, found, err)
		}
		i++
	}
}
