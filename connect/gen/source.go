package gen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stratadb/strata/connect"
	"github.com/stratadb/strata/connect/format"
	"github.com/stratadb/strata/engine/core"
)

// Name is the connector's name in a deployment file.
const Name = "datagen"

// Partition is the name of the source's only partition.
const Partition = "0"

// MaxProposal bounds what one Next proposes when neither max, rows nor rate
// bound it, so an unbounded generator never proposes an infinite range.
const MaxProposal = 1 << 16

// Defaults of the options.
const (
	DefaultSeed        = 1
	DefaultCardinality = 100
	DefaultStart       = "2024-01-01 00:00:00"
	DefaultInterval    = time.Millisecond
)

// Options lists the connector's options.
var Options = []connect.OptionSpec{
	{Name: "rows", Kind: "int", Default: 0, Doc: "rows to generate; 0 is unbounded"},
	{Name: "seed", Kind: "int", Default: DefaultSeed, Doc: "the same seed always generates the same rows"},
	{Name: "cardinality", Kind: "int", Default: DefaultCardinality, Doc: "distinct values of integer, bigint, varchar and bytea columns"},
	{Name: "rate", Kind: "int", Default: 0, Doc: "rows per second; 0 generates as fast as the engine reads"},
	{Name: "start", Kind: "string", Default: DefaultStart, Doc: "event time of row 0 for date and timestamp columns"},
	{Name: "interval", Kind: "duration", Default: DefaultInterval.String(), Doc: "event-time step between consecutive rows"},
}

func init() {
	connect.RegisterSource(connect.Source{
		Name:    Name,
		Doc:     "Generates deterministic rows of the declared schema: the value of a column in a row depends only on the seed, the row number and the column.",
		Options: Options,
		Open: func(ctx context.Context, cfg connect.SourceConfig) (core.Source, error) {
			return Open(ctx, cfg)
		},
	})
}

// Source generates rows. It implements core.Source; see the package
// documentation for its contract.
type Source struct {
	cfg      connect.SourceConfig
	schema   *arrow.Schema
	rows     int64 // 0: unbounded
	rate     int64 // rows per second, 0: unpaced
	card     uint64
	start    int64 // microseconds since the Unix epoch
	interval time.Duration
	cols     []column
	b        *array.RecordBuilder
	weights  *array.Int64Builder

	pos    int64
	pace   connect.Pacer // rate, when set
	now    func() time.Time
	closed bool
}

// column generates one column's values.
type column struct {
	key  uint64 // the column's splitmix64 stream: mix(seed, column index)
	fill func(s *Source, c *column, b array.Builder, from, to int64)
	pre  []byte // "<name>_" for varchar and bytea
	buf  []byte
}

// Open validates the options and declared columns and returns a source at
// row 0.
func Open(_ context.Context, cfg connect.SourceConfig) (*Source, error) {
	o := connect.NewOptions(cfg.Options)
	rows := o.Int("rows", 0)
	seed := o.Int("seed", DefaultSeed)
	card := o.Int("cardinality", DefaultCardinality)
	rate := o.Int("rate", 0)
	start := o.String("start", DefaultStart)
	interval := o.Duration("interval", DefaultInterval)
	if err := o.Err(); err != nil {
		return nil, fmt.Errorf("datagen: %w", err)
	}
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("datagen: "+format, args...))
	}
	if rows < 0 {
		bad("option rows must be >= 0 (0 is unbounded), got %d", rows)
	}
	if card < 1 {
		bad("option cardinality must be >= 1, got %d", card)
	}
	if rate < 0 {
		bad("option rate must be >= 0 (0 is unpaced), got %d", rate)
	}
	if interval < 0 {
		bad("option interval must not be negative, got %s", interval)
	}
	t0, err := format.ParseTimestamp(start)
	if err != nil {
		bad("option start: %v", err)
	}
	if cfg.Alloc == nil {
		bad("no allocator given")
	}
	if len(cfg.Columns) == 0 {
		bad("the source declares no columns")
	}
	cols := make([]column, len(cfg.Columns))
	for i, c := range cfg.Columns {
		cols[i] = column{key: mix64(uint64(seed) ^ mix64(uint64(i)+1))}
		switch c.Type.Arrow.ID() {
		case arrow.BOOL:
			cols[i].fill = fillBool
		case arrow.INT32:
			cols[i].fill = fillInt32
		case arrow.INT64:
			cols[i].fill = fillInt64
		case arrow.FLOAT64:
			cols[i].fill = fillDouble
		case arrow.STRING, arrow.BINARY:
			cols[i].fill = fillText
			cols[i].pre = []byte(c.Name + "_")
		case arrow.DATE32:
			cols[i].fill = fillDate
		case arrow.TIMESTAMP:
			cols[i].fill = fillTimestamp
		default:
			bad("column %q: type %s cannot be generated", c.Name, c.Type.Name)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 4096
	}
	schema := core.ArrowSchema(cfg.Columns)
	b := array.NewRecordBuilder(cfg.Alloc, core.ChangelogSchema(schema))
	return &Source{
		cfg:      cfg,
		schema:   schema,
		rows:     rows,
		rate:     rate,
		card:     uint64(card),
		start:    t0.UnixMicro(),
		interval: interval,
		cols:     cols,
		b:        b,
		weights:  b.Field(len(cols)).(*array.Int64Builder),
		now:      time.Now,
	}, nil
}

// Schema implements core.Source.
func (s *Source) Schema() *arrow.Schema { return s.schema }

// Seek implements core.Source. Pacing restarts at the next Next.
func (s *Source) Seek(_ context.Context, pos core.Positions) error {
	if s.closed {
		return ErrClosed
	}
	for p := range pos {
		if p != Partition {
			return fmt.Errorf("datagen: seek: unknown partition %q (the only one is %q)", p, Partition)
		}
	}
	p := pos[Partition]
	if p < 0 {
		return fmt.Errorf("datagen: seek: negative row %d", p)
	}
	s.pos = p
	s.pace.Reset()
	return nil
}

// Next implements core.Source: it proposes [pos, min(pos+max, rows)),
// further bounded by what rate allows since the first Next.
func (s *Source) Next(ctx context.Context, max int) (core.Ranges, error) {
	if s.closed {
		return nil, ErrClosed
	}
	end := int64(-1) // no bound
	if s.rows > 0 {
		end = s.rows
	}
	if max > 0 {
		end = minBound(end, s.pos+int64(max))
	}
	if end < 0 {
		end = s.pos + MaxProposal
	}
	if s.rate > 0 && s.pos < end {
		s.pace.Rate, s.pace.Now = s.rate, s.now
		due, err := s.pace.Due(ctx, s.pos)
		if err != nil {
			return nil, err
		}
		end = min(end, due)
	}
	if end <= s.pos {
		return core.Ranges{}, nil
	}
	r := core.Range{From: s.pos, To: end}
	s.pos = end
	return core.Ranges{Partition: r}, nil
}

func minBound(end, x int64) int64 {
	if end < 0 {
		return x
	}
	return min(end, x)
}

// Read implements core.Source. It generates exactly the rows of ranges,
// in batches of at most BatchRows rows; it never produces dead letters.
func (s *Source) Read(ctx context.Context, ranges core.Ranges, emit func(arrow.RecordBatch) error) ([]core.DeadLetter, error) {
	if s.closed {
		return nil, ErrClosed
	}
	for p, r := range ranges {
		if p != Partition {
			return nil, fmt.Errorf("datagen: read: unknown partition %q (the only one is %q)", p, Partition)
		}
		if r.From < 0 && !r.Empty() {
			return nil, fmt.Errorf("datagen: read: negative row %d", r.From)
		}
	}
	r := ranges[Partition]
	for from := r.From; from < r.To; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		to := min(r.To, from+int64(s.cfg.BatchRows))
		if err := s.emitRows(from, to, emit); err != nil {
			return nil, err
		}
		from = to
	}
	return nil, nil
}

// emitRows builds the batch of rows [from, to) and emits it.
func (s *Source) emitRows(from, to int64, emit func(arrow.RecordBatch) error) error {
	n := int(to - from)
	for i := range s.cols {
		c := &s.cols[i]
		fb := s.b.Field(i)
		fb.Reserve(n)
		c.fill(s, c, fb, from, to)
	}
	s.weights.Reserve(n)
	for range n {
		s.weights.UnsafeAppend(1)
	}
	b := s.b.NewRecordBatch()
	defer b.Release()
	return emit(b)
}

// Exhausted implements core.Source: rows is set and every row was proposed.
func (s *Source) Exhausted() bool { return s.rows > 0 && s.pos >= s.rows }

// Close implements core.Source. It is idempotent.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.b.Release()
	return nil
}

// ErrClosed is returned by every method of a closed Source but Close.
var ErrClosed = errors.New("datagen: source is closed")

// mix64 is the splitmix64 finalizer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const golden = 0x9e3779b97f4a7c15

// hash is the r-th output of the splitmix64 stream of column c: a pure
// function of (seed, row, column).
func (c *column) hash(r int64) uint64 { return mix64(c.key + uint64(r+1)*golden) }

func fillBool(_ *Source, c *column, b array.Builder, from, to int64) {
	bb := b.(*array.BooleanBuilder)
	for r := from; r < to; r++ {
		bb.UnsafeAppend(c.hash(r)&1 == 1)
	}
}

func fillInt32(s *Source, c *column, b array.Builder, from, to int64) {
	bb := b.(*array.Int32Builder)
	for r := from; r < to; r++ {
		bb.UnsafeAppend(int32(c.hash(r) % s.card))
	}
}

func fillInt64(s *Source, c *column, b array.Builder, from, to int64) {
	bb := b.(*array.Int64Builder)
	for r := from; r < to; r++ {
		bb.UnsafeAppend(int64(c.hash(r) % s.card))
	}
}

func fillDouble(_ *Source, c *column, b array.Builder, from, to int64) {
	bb := b.(*array.Float64Builder)
	for r := from; r < to; r++ {
		bb.UnsafeAppend(float64(c.hash(r)%100000) / 100)
	}
}

func fillText(s *Source, c *column, b array.Builder, from, to int64) {
	var bb *array.BinaryBuilder
	switch x := b.(type) {
	case *array.StringBuilder:
		bb = x.BinaryBuilder
	case *array.BinaryBuilder:
		bb = x
	}
	bb.ReserveData(int(to-from) * (len(c.pre) + 3))
	for r := from; r < to; r++ {
		c.buf = strconv.AppendUint(append(c.buf[:0], c.pre...), c.hash(r)%s.card, 10)
		bb.Append(c.buf)
	}
}

// micros returns the event time of row r in microseconds since the epoch.
func (s *Source) micros(r int64) int64 {
	if s.interval%time.Microsecond == 0 {
		return s.start + r*int64(s.interval/time.Microsecond)
	}
	return s.start + r*int64(s.interval)/1000
}

func fillTimestamp(s *Source, _ *column, b array.Builder, from, to int64) {
	bb := b.(*array.TimestampBuilder)
	for r := from; r < to; r++ {
		bb.UnsafeAppend(arrow.Timestamp(s.micros(r)))
	}
}

func fillDate(s *Source, _ *column, b array.Builder, from, to int64) {
	const day = 86_400_000_000
	bb := b.(*array.Date32Builder)
	for r := from; r < to; r++ {
		m := s.micros(r)
		d := m / day
		if m%day < 0 {
			d--
		}
		bb.UnsafeAppend(arrow.Date32(d))
	}
}
