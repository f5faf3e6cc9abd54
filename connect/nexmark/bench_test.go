package nexmark

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkGenerate measures the rows/s of each table's full rows, made
// 4096 rows a batch as the source makes them. alloc=go allocates every
// batch afresh from the Go allocator, as the engine does today;
// alloc=reuse recycles freed buffers, which shows the generator's own cost
// apart from first-touch page faults (expensive on some VMs).
func BenchmarkGenerate(b *testing.B) {
	g, err := NewGenerator()
	if err != nil {
		b.Fatal(err)
	}
	for _, alloc := range []string{"go", "reuse"} {
		for _, t := range Tables {
			b.Run(fmt.Sprintf("table=%s/alloc=%s", t, alloc), func(b *testing.B) {
				var mem memory.Allocator = memory.NewGoAllocator()
				if alloc == "reuse" {
					mem = newReuseAllocator()
				}
				const batch = 4096
				var n, rows, bytes int64
				b.ReportAllocs()
				for b.Loop() {
					to := g.eventOfRow(t, g.cum(t, n)+batch)
					rec, err := g.NewRecordBatch(mem, t, n, to)
					if err != nil {
						b.Fatal(err)
					}
					for _, c := range rec.Columns() {
						for _, buf := range c.Data().Buffers() {
							if buf != nil {
								bytes += int64(buf.Len())
							}
						}
					}
					rows += rec.NumRows()
					rec.Release()
					n = to
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(bytes)/float64(rows), "B/row")
			})
		}
	}
}

// reuseAllocator keeps freed buffers by size and hands them out again.
type reuseAllocator struct{ free map[int][][]byte }

func newReuseAllocator() *reuseAllocator { return &reuseAllocator{free: map[int][][]byte{}} }

func (a *reuseAllocator) Allocate(n int) []byte {
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		clear(b)
		return b
	}
	return make([]byte, n)
}

func (a *reuseAllocator) Reallocate(n int, b []byte) []byte {
	nb := a.Allocate(n)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *reuseAllocator) Free(b []byte) { a.free[len(b)] = append(a.free[len(b)], b) }
