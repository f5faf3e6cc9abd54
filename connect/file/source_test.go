package file_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/connect"
	"github.com/stratadb/strata/connect/file"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

var cols = []core.Column{
	{Name: "id", Type: core.Bigint},
	{Name: "name", Type: core.Varchar},
	{Name: "ts", Type: core.Timestamp},
}

// writeFiles creates files under dir (names may contain '/').
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonLines returns n records with ids from first on, each line ending in
// '\n' except the last when unterminated.
func jsonLines(first, n int, unterminated bool) string {
	var sb strings.Builder
	for i := range n {
		id := first + i
		fmt.Fprintf(&sb, `{"id": %d, "name": "n%d", "ts": "2024-01-01 00:00:%02d"}`, id, id, id%60)
		if i < n-1 || !unterminated {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func open(t testing.TB, mem memory.Allocator, dir string, batchRows int, opts map[string]any) *file.Source {
	t.Helper()
	s, err := file.Open(context.Background(), connect.SourceConfig{
		Name: "src", Options: opts, Format: "json", Columns: cols,
		BaseDir: dir, Alloc: mem, BatchRows: batchRows,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// read reads ranges and renders every row as "id|name|ts".
func read(t testing.TB, s core.Source, r core.Ranges, batchRows int) ([]string, []core.DeadLetter) {
	t.Helper()
	var rows []string
	dead, err := s.Read(context.Background(), r, func(b arrow.RecordBatch) error {
		if err := core.CheckChangelog(b); err != nil {
			t.Fatal(err)
		}
		if batchRows > 0 && b.NumRows() > int64(batchRows) {
			t.Fatalf("batch of %d rows, BatchRows is %d", b.NumRows(), batchRows)
		}
		for i := range int(b.NumRows()) {
			var f []string
			for c := range int(b.NumCols()) {
				f = append(f, core.FormatValue(core.ValueAt(b.Column(c), i)))
			}
			rows = append(rows, strings.Join(f, "|"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, dead
}

func ids(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _, _ = strings.Cut(r, "|")
	}
	return out
}

func seq(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// threeFiles writes a glob's worth of files: 0..49 in a.jsonl, none in
// b.jsonl, 50..56 in c.jsonl (unterminated), and a file the glob skips.
func threeFiles(t testing.TB) string {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"data/a.jsonl":   jsonLines(0, 50, false),
		"data/b.jsonl":   "",
		"data/c.jsonl":   jsonLines(50, 7, true),
		"data/other.txt": "not json\n",
		"data/d.jsonl/x": "a directory the glob skips\n",
	})
	return dir
}

func TestPartitions(t *testing.T) {
	dir := threeFiles(t)
	s := open(t, testutil.Alloc(t), dir, 0, map[string]any{"path": "data/*.jsonl"})
	want := []string{"data/a.jsonl", "data/b.jsonl", "data/c.jsonl"}
	if got := s.Partitions(); !slices.Equal(got, want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
	abs := open(t, testutil.Alloc(t), "", 0, map[string]any{"path": filepath.Join(dir, "data", "*.jsonl")})
	if got := abs.Partitions(); len(got) != 3 || !filepath.IsAbs(got[0]) {
		t.Fatalf("absolute pattern: partitions %v, want 3 absolute paths", got)
	}
}

// TestEveryLineOnce drives Next/Read with random max and batch sizes and
// checks every line is read exactly once, in order.
func TestEveryLineOnce(t *testing.T) {
	dir := threeFiles(t)
	for trial := range 20 {
		seed := uint64(time.Now().UnixNano()) + uint64(trial)
		rng := rand.New(rand.NewPCG(seed, 0))
		batchRows := 1 + rng.IntN(10)
		t.Run(fmt.Sprintf("seed=%d/batch=%d", seed, batchRows), func(t *testing.T) {
			s := open(t, testutil.Alloc(t), dir, batchRows, map[string]any{"path": "data/*.jsonl"})
			ctx := context.Background()
			next := core.Positions{}
			var got []string
			for i := 0; !s.Exhausted(); i++ {
				if i > 1000 {
					t.Fatal("source never exhausted")
				}
				max := rng.IntN(12) - 1 // -1 and 0 mean no limit
				r, err := s.Next(ctx, max)
				if err != nil {
					t.Fatal(err)
				}
				total := int64(0)
				for p, x := range r {
					if x.From != next[p] {
						t.Fatalf("partition %s: range %v does not start at %d", p, x, next[p])
					}
					next[p] = x.To
					total += x.To - x.From
				}
				if max > 0 && total > int64(max) {
					t.Fatalf("Next(%d) proposed %d lines", max, total)
				}
				rows, dead := read(t, s, r, batchRows)
				if len(dead) > 0 {
					t.Fatalf("dead letters %v", dead)
				}
				got = append(got, ids(rows)...)
			}
			if want := seq(0, 57); !slices.Equal(got, want) {
				t.Fatalf("read ids %v, want %v", got, want)
			}
			if r, err := s.Next(ctx, 0); err != nil || !r.Empty() {
				t.Fatalf("Next after exhaustion: %v, %v", r, err)
			}
		})
	}
}

func TestSeekResumes(t *testing.T) {
	dir := threeFiles(t)
	ctx := context.Background()
	for _, stop := range []int{0, 1, 49, 50, 51, 56, 57} {
		t.Run(fmt.Sprintf("after=%d", stop), func(t *testing.T) {
			mem := testutil.Alloc(t)
			first := open(t, mem, dir, 4, map[string]any{"path": "data/*.jsonl"})
			var got []string
			pos := core.Positions{}
			if stop > 0 {
				r, err := first.Next(ctx, stop)
				if err != nil {
					t.Fatal(err)
				}
				rows, _ := read(t, first, r, 4)
				got = append(got, ids(rows)...)
				for p, x := range r {
					pos[p] = x.To
				}
			}
			// A restart: a fresh source, sought to the logged positions,
			// plus one for a file that no longer exists.
			pos["data/gone.jsonl"] = 7
			second := open(t, mem, dir, 4, map[string]any{"path": "data/*.jsonl"})
			if err := second.Seek(ctx, pos); err != nil {
				t.Fatal(err)
			}
			r, err := second.Next(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := read(t, second, r, 4)
			got = append(got, ids(rows)...)
			if want := seq(0, 57); !slices.Equal(got, want) {
				t.Fatalf("read ids %v, want %v", got, want)
			}
			if !second.Exhausted() {
				t.Fatal("not exhausted after reading everything")
			}
		})
	}
}

// TestReplay reads old ranges again, from the same source (indexed) and from
// a reopened one (scanning), and expects identical rows.
func TestReplay(t *testing.T) {
	dir := threeFiles(t)
	ctx := context.Background()
	mem := testutil.Alloc(t)
	s := open(t, mem, dir, 3, map[string]any{"path": "data/*.jsonl"})
	type epoch struct {
		r    core.Ranges
		rows []string
	}
	var epochs []epoch
	for !s.Exhausted() {
		r, err := s.Next(ctx, 9)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := read(t, s, r, 3)
		epochs = append(epochs, epoch{r, rows})
	}
	reopened := open(t, mem, dir, 5, map[string]any{"path": "data/*.jsonl"})
	for i := len(epochs) - 1; i >= 0; i-- {
		e := epochs[i]
		for name, src := range map[string]*file.Source{"same": s, "reopened": reopened} {
			rows, _ := read(t, src, e.r, 0)
			if !slices.Equal(rows, e.rows) {
				t.Fatalf("%s: replay of %v: %v, want %v", name, e.r, rows, e.rows)
			}
		}
	}
	// A range across epoch boundaries and a sub-range.
	rows, _ := read(t, reopened, core.Ranges{"data/a.jsonl": {From: 5, To: 23}, "data/c.jsonl": {From: 2, To: 4}}, 0)
	if want := append(seq(5, 23), seq(52, 54)...); !slices.Equal(ids(rows), want) {
		t.Fatalf("ids %v, want %v", ids(rows), want)
	}
	// Past the end of a file: the file changed, an error not a dead letter.
	_, err := reopened.Read(ctx, core.Ranges{"data/c.jsonl": {From: 5, To: 9}}, func(arrow.RecordBatch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "data/c.jsonl") || !strings.Contains(err.Error(), "line 8") {
		t.Fatalf("read past end: %v", err)
	}
	// The decoder holds nothing from the failed read.
	rows, _ = read(t, reopened, core.Ranges{"data/a.jsonl": {From: 0, To: 1}}, 0)
	if !slices.Equal(ids(rows), []string{"0"}) {
		t.Fatalf("after a failed read: %v", rows)
	}
}

func TestDeadLetters(t *testing.T) {
	long := `{"id": 99, "name": "` + strings.Repeat("x", 100) + `"}`
	body := strings.Join([]string{
		`{"id": 1, "name": "a"}`,            // 1
		`{"id": 2, "name": `,                // 2 malformed
		``,                                  // 3 blank
		`{"id": "three"}`,                   // 4 wrong type
		"   \t",                             // 5 blank
		long,                                // 6 overlong
		`{"id": 7, "ts": "yesterday"}`,      // 7 bad timestamp
		"{\"id\": 8, \"name\": \"crlf\"}\r", // 8 CRLF
		`[1, 2]`,                            // 9 not an object
		`{"id": 10}`,                        // 10 unterminated
	}, "\n")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"bad.jsonl": body, "good.jsonl": jsonLines(100, 2, false)})
	type want struct {
		line   int64
		reason string
		raw    string
	}
	wants := []want{
		{2, "malformed JSON", `{"id": 2, "name": `},
		{4, `column "id": want bigint, got string`, `{"id": "three"}`},
		{6, fmt.Sprintf("line is %d bytes, longer than max_line_bytes 64", len(long)), long[:64]},
		{7, `column "ts"`, `{"id": 7, "ts": "yesterday"}`},
		{9, "want an object", `[1, 2]`},
	}
	for _, batchRows := range []int{1, 2, 100} {
		t.Run(fmt.Sprintf("batch=%d", batchRows), func(t *testing.T) {
			s := open(t, testutil.Alloc(t), dir, batchRows, map[string]any{"path": "*.jsonl", "max_line_bytes": 64})
			r, err := s.Next(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if x := r["bad.jsonl"]; x != (core.Range{From: 0, To: 10}) {
				t.Fatalf("bad.jsonl range %v, want [0, 10)", x)
			}
			rows, dead := read(t, s, r, batchRows)
			if got, want := ids(rows), []string{"1", "8", "10", "100", "101"}; !slices.Equal(got, want) {
				t.Fatalf("ids %v, want %v", got, want)
			}
			if rows[1] != "8|crlf|NULL|1" {
				t.Fatalf("CRLF row %q", rows[1])
			}
			if len(dead) != len(wants) {
				t.Fatalf("%d dead letters, want %d: %+v", len(dead), len(wants), dead)
			}
			for i, w := range wants {
				d := dead[i]
				if d.Source != "src" || d.Partition != "bad.jsonl" || d.Offset != w.line ||
					!strings.Contains(d.Reason, w.reason) || string(d.Raw) != w.raw {
					t.Errorf("dead letter %d: %+v\nwant line %d, reason containing %q, raw %q", i, d, w.line, w.reason, w.raw)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := threeFiles(t)
	tests := []struct {
		name string
		opts map[string]any
		fmt  string
		want []string
	}{
		{"missing file", map[string]any{"path": "data/nope.jsonl"}, "json", []string{`file: path "data/nope.jsonl" matches no file`, dir}},
		{"empty glob", map[string]any{"path": "logs/*.jsonl"}, "json", []string{`"logs/*.jsonl"`, dir}},
		{"only directories", map[string]any{"path": "data/d.*"}, "json", []string{`"data/d.*" matches no file`}},
		{"bad pattern", map[string]any{"path": "data/[.jsonl"}, "json", []string{`file: path "data/[.jsonl"`, "syntax error"}},
		{"no path", map[string]any{}, "json", []string{"file: option path is required"}},
		{"path not a string", map[string]any{"path": 3}, "json", []string{"file: option path: want a string"}},
		{"bad max_line_bytes", map[string]any{"path": "data/a.jsonl", "max_line_bytes": 0}, "json", []string{"max_line_bytes must be in [1, "}},
		{"unknown format", map[string]any{"path": "data/a.jsonl"}, "avro", []string{`file: format: unknown format "avro"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := file.Open(context.Background(), connect.SourceConfig{
				Name: "src", Options: tc.opts, Format: tc.fmt, Columns: cols,
				BaseDir: dir, Alloc: testutil.Alloc(t),
			})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	dir := threeFiles(t)
	ctx := context.Background()
	src, err := connect.OpenSource(ctx, "file", connect.SourceConfig{
		Name: "src", Options: map[string]any{"path": "data/a.jsonl"}, Format: "json",
		Columns: cols, BaseDir: dir, Alloc: testutil.Alloc(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := src.Next(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := read(t, src, r, 4096)
	if len(rows) != 50 || rows[0] != "0|n0|2024-01-01 00:00:00|1" {
		t.Fatalf("%d rows, first %q", len(rows), rows[0])
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := src.Next(ctx, 0); err == nil {
		t.Fatal("Next after Close: no error")
	}
}

func BenchmarkRead(b *testing.B) {
	for _, lines := range []int{10_000} {
		for _, batchRows := range []int{1024, 4096} {
			b.Run(fmt.Sprintf("lines=%d/batch=%d", lines, batchRows), func(b *testing.B) {
				dir := b.TempDir()
				body := jsonLines(0, lines, false)
				writeFiles(b, dir, map[string]string{"bench.jsonl": body})
				s := open(b, memory.NewGoAllocator(), dir, batchRows, map[string]any{"path": "bench.jsonl"})
				r := core.Ranges{"bench.jsonl": {From: 0, To: int64(lines)}}
				ctx := context.Background()
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					n := int64(0)
					if _, err := s.Read(ctx, r, func(rb arrow.RecordBatch) error { n += rb.NumRows(); return nil }); err != nil {
						b.Fatal(err)
					}
					if n != int64(lines) {
						b.Fatalf("%d rows", n)
					}
				}
				b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
			})
		}
	}
}
