package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stratadb/strata/connect"
	"github.com/stratadb/strata/connect/format"
	"github.com/stratadb/strata/engine/core"
)

// Name is the connector's name in a deployment file.
const Name = "file"

// DefaultMaxLineBytes is the default of the max_line_bytes option.
const DefaultMaxLineBytes = 1 << 20

// maxIndex bounds the epoch boundaries remembered per file.
const maxIndex = 256

// Options lists the connector's options.
var Options = []connect.OptionSpec{
	{Name: "path", Kind: "string", Required: true, Doc: "file or glob to read, one JSON record a line; relative to the deployment file's directory"},
	{Name: "max_line_bytes", Kind: "int", Default: DefaultMaxLineBytes, Doc: "longer lines go to dead_letters (raw truncated to this size)"},
}

func init() {
	connect.RegisterSource(connect.Source{
		Name:    Name,
		Doc:     "Reads bounded files of JSON lines matched by a glob; one partition per file, positions are 0-based line numbers.",
		Options: Options,
		Formats: format.Names(),
		Open: func(ctx context.Context, cfg connect.SourceConfig) (core.Source, error) {
			return Open(ctx, cfg)
		},
	})
}

// Source reads the files matched by a glob as JSON lines. It implements
// core.Source; see the package documentation for its contract.
type Source struct {
	cfg     connect.SourceConfig
	base    string
	pattern string
	maxLine int
	schema  *arrow.Schema
	dec     format.Decoder
	files   []*fileState // sorted by partition
	byPart  map[string]*fileState
	closed  bool
}

// fileState is what the source knows of one matched file.
type fileState struct {
	part string // partition: the path as matched, relative to BaseDir
	path string // the path to open
	pos  int64  // next line to propose
	off  int64  // byte offset of line pos, -1 when unknown (after Seek)
	done bool   // every line has been proposed
	// index holds (line, byte offset) pairs of epoch boundaries, sorted by
	// line, so Read seeks instead of scanning.
	index []mark
}

type mark struct{ line, off int64 }

// Open matches the path option's glob and returns a source positioned at the
// start of every file. It fails when the glob matches no regular file.
func Open(_ context.Context, cfg connect.SourceConfig) (*Source, error) {
	o := connect.NewOptions(cfg.Options)
	pattern := o.String("path", "")
	maxLine := o.Int("max_line_bytes", DefaultMaxLineBytes)
	if err := o.Err(); err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	var problems []error
	if pattern == "" {
		problems = append(problems, errors.New("file: option path is required"))
	}
	if maxLine <= 0 || maxLine > 1<<30 {
		problems = append(problems, fmt.Errorf("file: option max_line_bytes must be in [1, %d], got %d", 1<<30, maxLine))
	}
	if cfg.Alloc == nil {
		problems = append(problems, errors.New("file: no allocator given"))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 4096
	}
	base := cfg.BaseDir
	if base == "" {
		base = "."
	}
	files, err := match(base, pattern)
	if err != nil {
		return nil, err
	}
	dec, err := format.New(cfg.Format, cfg.Columns, cfg.Alloc)
	if err != nil {
		return nil, fmt.Errorf("file: %w", err)
	}
	s := &Source{
		cfg:     cfg,
		base:    base,
		pattern: pattern,
		maxLine: int(maxLine),
		schema:  core.ArrowSchema(cfg.Columns),
		dec:     dec,
		files:   files,
		byPart:  make(map[string]*fileState, len(files)),
	}
	for _, f := range files {
		s.byPart[f.part] = f
	}
	return s, nil
}

// match expands pattern (relative to base unless absolute) to the regular
// files it names, sorted by partition name.
func match(base, pattern string) ([]*fileState, error) {
	full := pattern
	if !filepath.IsAbs(pattern) {
		full = filepath.Join(base, pattern)
	}
	paths, err := filepath.Glob(full)
	if err != nil {
		return nil, fmt.Errorf("file: path %q: %w", pattern, err)
	}
	var files []*fileState
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		part := filepath.Clean(p)
		if !filepath.IsAbs(pattern) {
			if part, err = filepath.Rel(base, p); err != nil {
				return nil, fmt.Errorf("file: path %q: %w", pattern, err)
			}
		}
		files = append(files, &fileState{part: part, path: p})
	}
	if len(files) == 0 {
		dir, _ := filepath.Abs(base)
		return nil, fmt.Errorf("file: path %q matches no file (relative paths are resolved in %s)", pattern, dir)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].part < files[j].part })
	return files, nil
}

// Partitions returns the partition names (the matched paths), sorted.
func (s *Source) Partitions() []string {
	out := make([]string, len(s.files))
	for i, f := range s.files {
		out[i] = f.part
	}
	return out
}

// Schema implements core.Source.
func (s *Source) Schema() *arrow.Schema { return s.schema }

// Seek implements core.Source. Positions of files that no longer match are
// ignored; files absent from pos start at line 0.
func (s *Source) Seek(_ context.Context, pos core.Positions) error {
	if s.closed {
		return ErrClosed
	}
	for _, f := range s.files {
		p := pos[f.part]
		if p < 0 {
			return fmt.Errorf("file: seek %s: negative line %d", f.part, p)
		}
		f.pos, f.off, f.done = p, -1, false
		if p == 0 {
			f.off = 0
		}
	}
	return nil
}

// Next implements core.Source: it proposes the lines beyond the current
// position, file after file in sorted order, at most max in total.
func (s *Source) Next(ctx context.Context, max int) (core.Ranges, error) {
	if s.closed {
		return nil, ErrClosed
	}
	out := core.Ranges{}
	budget := int64(max)
	if max <= 0 {
		budget = -1
	}
	for _, f := range s.files {
		if budget == 0 {
			break
		}
		if f.done {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := s.advance(f, budget)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out[f.part] = core.Range{From: f.pos - n, To: f.pos}
			if budget > 0 {
				budget -= n
			}
		}
	}
	return out, nil
}

// advance moves f past up to budget lines (budget < 0: all), recording the
// boundaries in its index, and returns how many lines it moved.
func (s *Source) advance(f *fileState, budget int64) (int64, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return 0, fmt.Errorf("file: %w", err)
	}
	defer fh.Close()
	var lr *lineReader
	if f.off < 0 {
		// After Seek: find the byte offset of line f.pos.
		lr, err = s.seekLine(fh, f, f.pos)
		if errors.Is(err, errPastEnd) {
			f.done = true // the file is shorter than the position
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		f.off = lr.off
	} else {
		if _, err := fh.Seek(f.off, io.SeekStart); err != nil {
			return 0, fmt.Errorf("file: %s: %w", f.part, err)
		}
		lr = newLineReader(fh, f.off, s.maxLine)
	}
	from := f.pos
	f.remember(f.pos, f.off)
	var n int64
	for budget < 0 || n < budget {
		if _, _, err := lr.next(false); err != nil {
			if errors.Is(err, io.EOF) {
				f.done = true
				break
			}
			return 0, fmt.Errorf("file: %s line %d: %w", f.part, from+n+1, err)
		}
		n++
	}
	if !f.done {
		// Peek: the budget ran out exactly at the end of the file.
		if _, err := lr.r.Peek(1); errors.Is(err, io.EOF) {
			f.done = true
		}
	}
	f.pos, f.off = from+n, lr.off
	f.remember(f.pos, f.off)
	return n, nil
}

var errPastEnd = errors.New("file: position past end of file")

// seekLine positions fh at line (via the index, then scanning) and returns a
// line reader there; errPastEnd when the file has fewer lines.
func (s *Source) seekLine(fh *os.File, f *fileState, line int64) (*lineReader, error) {
	at := mark{}
	if f != nil {
		at = f.lookup(line)
	}
	if _, err := fh.Seek(at.off, io.SeekStart); err != nil {
		return nil, fmt.Errorf("file: %s: %w", fh.Name(), err)
	}
	lr := newLineReader(fh, at.off, s.maxLine)
	for l := at.line; l < line; l++ {
		if _, _, err := lr.next(false); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errPastEnd
			}
			return nil, fmt.Errorf("file: %s line %d: %w", fh.Name(), l+1, err)
		}
	}
	return lr, nil
}

// remember records that line starts at byte offset off.
func (f *fileState) remember(line, off int64) {
	i := sort.Search(len(f.index), func(i int) bool { return f.index[i].line >= line })
	if i < len(f.index) && f.index[i].line == line {
		return
	}
	f.index = append(f.index, mark{})
	copy(f.index[i+1:], f.index[i:])
	f.index[i] = mark{line, off}
	if len(f.index) > maxIndex {
		// Drop the oldest boundary: replays read recent epochs.
		f.index = append(f.index[:0], f.index[1:]...)
	}
}

// lookup returns the indexed boundary closest at or before line, or the
// start of the file.
func (f *fileState) lookup(line int64) mark {
	i := sort.Search(len(f.index), func(i int) bool { return f.index[i].line > line })
	if i == 0 {
		return mark{}
	}
	return f.index[i-1]
}

// Read implements core.Source.
func (s *Source) Read(ctx context.Context, ranges core.Ranges, emit func(arrow.RecordBatch) error) (dead []core.DeadLetter, err error) {
	if s.closed {
		return nil, ErrClosed
	}
	// Never leave rows in the decoder for the next call.
	defer func() {
		if err != nil {
			if b := s.dec.Flush(); b != nil {
				b.Release()
			}
		}
	}()
	for _, part := range ranges.Partitions() {
		r := ranges[part]
		if r.Empty() {
			continue
		}
		if r.From < 0 {
			return nil, fmt.Errorf("file: read %s: negative line %d", part, r.From)
		}
		if dead, err = s.readRange(ctx, part, r, dead, emit); err != nil {
			return nil, err
		}
	}
	if err := s.flush(emit); err != nil {
		return nil, err
	}
	return dead, nil
}

func (s *Source) readRange(ctx context.Context, part string, r core.Range, dead []core.DeadLetter, emit func(arrow.RecordBatch) error) ([]core.DeadLetter, error) {
	f := s.byPart[part]
	path := part
	if f != nil {
		path = f.path
	} else if !filepath.IsAbs(part) {
		// A file from an earlier run that the glob no longer matches.
		path = filepath.Join(s.base, part)
	}
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("file: read %s lines %d-%d: file no longer exists: %w", part, r.From+1, r.To, err)
		}
		return nil, fmt.Errorf("file: read %s: %w", part, err)
	}
	defer fh.Close()
	lr, err := s.seekLine(fh, f, r.From)
	if errors.Is(err, errPastEnd) {
		return nil, fmt.Errorf("file: read %s: line %d is past the end of the file (was it truncated?)", part, r.From+1)
	}
	if err != nil {
		return nil, err
	}
	if f != nil {
		f.remember(r.From, lr.off)
	}
	for l := r.From; l < r.To; l++ {
		line, n, err := lr.next(true)
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("file: read %s: line %d is past the end of the file (was it truncated?)", part, l+1)
		}
		if err != nil {
			return nil, fmt.Errorf("file: read %s line %d: %w", part, l+1, err)
		}
		switch {
		case n > s.maxLine:
			dead = append(dead, core.DeadLetter{
				Source: s.cfg.Name, Partition: part, Offset: l + 1,
				Reason: fmt.Sprintf("line is %d bytes, longer than max_line_bytes %d (raw truncated)", n, s.maxLine),
				Raw:    bytes.Clone(line),
			})
			continue
		case len(bytes.TrimSpace(line)) == 0:
			continue
		}
		if err := s.dec.Append(line); err != nil {
			dead = append(dead, core.DeadLetter{
				Source: s.cfg.Name, Partition: part, Offset: l + 1,
				Reason: err.Error(), Raw: bytes.Clone(line),
			})
			continue
		}
		if s.dec.Len() >= s.cfg.BatchRows {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := s.flush(emit); err != nil {
				return nil, err
			}
		}
	}
	if f != nil {
		f.remember(r.To, lr.off)
	}
	return dead, nil
}

// flush emits the decoder's rows, if any, and releases the batch.
func (s *Source) flush(emit func(arrow.RecordBatch) error) error {
	b := s.dec.Flush()
	if b == nil {
		return nil
	}
	defer b.Release()
	return emit(b)
}

// Exhausted implements core.Source: every file has been proposed to its end.
func (s *Source) Exhausted() bool {
	for _, f := range s.files {
		if !f.done {
			return false
		}
	}
	return true
}

// Close implements core.Source. It is idempotent.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.dec.Release()
	return nil
}
