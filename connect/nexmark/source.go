package nexmark

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/connect"
	"github.com/stratadb/strata/connect/format"
	"github.com/stratadb/strata/engine/core"
)

// Name is the connector's name in a deployment file.
const Name = "nexmark"

// Partition is the name of the source's only partition.
const Partition = "0"

// MaxProposal bounds the rows one Next proposes when neither max, events nor
// rate bound it, so an unbounded source never proposes an infinite range.
const MaxProposal = 1 << 16

// defaultBaseTime is DefaultBaseTime as the base_time option spells it.
const defaultBaseTime = "2024-01-01 00:00:00"

// Options lists the connector's options.
var Options = []connect.OptionSpec{
	{Name: "table", Kind: "string", Required: true, Doc: "the table this source produces: person, auction or bid"},
	{Name: "events", Kind: "int", Default: 0, Doc: "events of the whole stream (all three tables) to generate; 0 is unbounded"},
	{Name: "seed", Kind: "int", Default: DefaultSeed, Doc: "the same seed always generates the same events; give the three tables the same seed"},
	{Name: "rate", Kind: "int", Default: 0, Doc: "events per second of the whole stream to release; 0 generates as fast as the engine reads"},
	{Name: "first_event_rate", Kind: "int", Default: DefaultFirstEventRate, Doc: "events per second of event time: event n happens at base_time + n/first_event_rate s"},
	{Name: "base_time", Kind: "string", Default: defaultBaseTime, Doc: "event time of event 0"},
	{Name: "person_proportion", Kind: "int", Default: DefaultPersonProportion, Doc: "persons in each block of person+auction+bid proportion events"},
	{Name: "auction_proportion", Kind: "int", Default: DefaultAuctionProportion, Doc: "auctions in each block of events"},
	{Name: "bid_proportion", Kind: "int", Default: DefaultBidProportion, Doc: "bids in each block of events"},
	{Name: "hot_auction_ratio", Kind: "int", Default: DefaultHotAuctionRatio, Doc: "1-1/ratio of bids go to a hot auction"},
	{Name: "hot_bidders_ratio", Kind: "int", Default: DefaultHotBiddersRatio, Doc: "1-1/ratio of bids are by a hot bidder"},
	{Name: "hot_sellers_ratio", Kind: "int", Default: DefaultHotSellersRatio, Doc: "1-1/ratio of auctions are by a hot seller"},
}

func init() {
	connect.RegisterSource(connect.Source{
		Name:    Name,
		Doc:     "Generates one table (person, auction or bid) of the Nexmark auction benchmark's event stream; sources with the same seed and events share one stream.",
		Options: Options,
		Open: func(ctx context.Context, cfg connect.SourceConfig) (core.Source, error) {
			return Open(ctx, cfg)
		},
		Schema: schemaOf,
	})
}

// schemaOf returns the columns of the table the options name: what a
// source without declared columns produces.
func schemaOf(options map[string]any) ([]core.Column, error) {
	name, _ := options["table"].(string)
	if name == "" {
		return nil, nil // reported as a missing required option
	}
	t, err := ParseTable(name)
	if err != nil {
		return nil, fmt.Errorf("nexmark: option table must be person, auction or bid, got %q", name)
	}
	return Columns(t), nil
}

// Source generates one table of the Nexmark stream. It implements
// core.Source; see the package documentation for its contract.
type Source struct {
	gen       *Generator
	table     Table
	events    int64 // 0: unbounded
	rate      int64 // events per second, 0: unpaced
	batchRows int
	schema    *arrow.Schema
	proj      *Projection // the declared columns and the weight column
	mem       memory.Allocator

	pos    int64
	pace   connect.Pacer // rate, when set
	now    func() time.Time
	closed bool
}

// Open validates the options and the declared columns and returns a source
// at event 0. Without declared columns the source produces all of the
// table's columns; declared columns must be columns of the table with its
// types, and then only those are generated, in the declared order.
func Open(_ context.Context, cfg connect.SourceConfig) (*Source, error) {
	o := connect.NewOptions(cfg.Options)
	tableName := o.String("table", "")
	events := o.Int("events", 0)
	seed := o.Int("seed", DefaultSeed)
	rate := o.Int("rate", 0)
	firstRate := o.Int("first_event_rate", DefaultFirstEventRate)
	baseTime := o.String("base_time", defaultBaseTime)
	pp := o.Int("person_proportion", DefaultPersonProportion)
	ap := o.Int("auction_proportion", DefaultAuctionProportion)
	bp := o.Int("bid_proportion", DefaultBidProportion)
	har := o.Int("hot_auction_ratio", DefaultHotAuctionRatio)
	hbr := o.Int("hot_bidders_ratio", DefaultHotBiddersRatio)
	hsr := o.Int("hot_sellers_ratio", DefaultHotSellersRatio)
	if err := o.Err(); err != nil {
		return nil, fmt.Errorf("nexmark: %w", err)
	}
	var problems []error
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf("nexmark: "+format, args...))
	}
	table, terr := ParseTable(tableName)
	switch {
	case tableName == "":
		bad("option table is required: set table: person, auction or bid")
	case terr != nil:
		bad("option table must be person, auction or bid, got %q", tableName)
	}
	if events < 0 {
		bad("option events must be >= 0 (0 is unbounded), got %d", events)
	}
	if rate < 0 {
		bad("option rate must be >= 0 events per second (0 generates as fast as the engine reads), got %d", rate)
	}
	t0, err := format.ParseTimestamp(baseTime)
	if err != nil {
		bad("option base_time: %v", err)
	}
	g, err := NewGenerator(WithSeed(uint64(seed)), WithFirstEventRate(firstRate), WithBaseTime(t0),
		WithProportions(pp, ap, bp), WithHotRatios(har, hbr, hsr))
	if err != nil {
		problems = append(problems, err)
	}
	if cfg.Alloc == nil {
		bad("no allocator given")
	}
	var cols []core.Column
	if terr == nil {
		cols, err = checkColumns(table, cfg.Columns)
		if err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 4096
	}
	schema := core.ArrowSchema(cols)
	proj, err := NewProjection(table, core.ChangelogSchema(schema))
	if err != nil {
		return nil, err // unreachable: checkColumns checked the columns
	}
	return &Source{
		gen:       g,
		table:     table,
		events:    events,
		rate:      rate,
		batchRows: cfg.BatchRows,
		schema:    schema,
		proj:      proj,
		mem:       cfg.Alloc,
		now:       time.Now,
	}, nil
}

// checkColumns returns the columns the source produces: all of table t's
// when none are declared, else the declared ones, each of which must be a
// column of t with t's type.
func checkColumns(t Table, declared []core.Column) ([]core.Column, error) {
	if len(declared) == 0 {
		return Columns(t), nil
	}
	var errs []error
	seen := map[string]bool{}
	for _, d := range declared {
		i, ok := lookupColumn(t, d.Name)
		c := tableColumns[t][i]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("nexmark: column %q is not a column of table %s; declare a subset of its columns: %s", d.Name, t, columnNames(t)))
		case seen[c.name]:
			errs = append(errs, fmt.Errorf("nexmark: column %q is declared twice", d.Name))
		case d.Type.Name != c.typ.Name:
			errs = append(errs, fmt.Errorf("nexmark: column %s of table %s is %s, declared %s; declare {name: %s, type: %s}", d.Name, t, c.typ.Name, d.Type.Name, c.name, c.typ.Name))
		}
		seen[c.name] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return declared, nil
}

// Schema implements core.Source.
func (s *Source) Schema() *arrow.Schema { return s.schema }

// Seek implements core.Source: pos is an event number of the whole stream.
// Pacing restarts at the next Next.
func (s *Source) Seek(_ context.Context, pos core.Positions) error {
	if s.closed {
		return ErrClosed
	}
	for p := range pos {
		if p != Partition {
			return fmt.Errorf("nexmark: seek: unknown partition %q (the only one is %q)", p, Partition)
		}
	}
	p := pos[Partition]
	if p < 0 {
		return fmt.Errorf("nexmark: seek: negative event number %d", p)
	}
	s.pos = p
	s.pace.Reset()
	return nil
}

// Next implements core.Source. It proposes the events [pos, end) where end
// is the first bound of: events; the event of the table's (max+1)-th row
// from pos (so at most max rows); what rate allows since the first Next;
// MaxProposal rows when nothing else bounds it.
func (s *Source) Next(ctx context.Context, max int) (core.Ranges, error) {
	if s.closed {
		return nil, ErrClosed
	}
	end := int64(-1) // no bound
	if s.events > 0 {
		end = s.events
	}
	rows := int64(max)
	if rows <= 0 && end < 0 && s.rate == 0 {
		rows = MaxProposal
	}
	if rows > 0 {
		if s.gen.cfg.prop[s.table] > 0 {
			first := s.gen.cum(s.table, s.pos)
			end = minBound(end, s.gen.eventOfRow(s.table, first+rows))
		} else if end < 0 && s.rate == 0 {
			end = s.pos + MaxProposal // the table never has rows
		}
	}
	if s.rate > 0 && (end < 0 || s.pos < end) {
		s.pace.Rate, s.pace.Now = s.rate, s.now
		due, err := s.pace.Due(ctx, s.pos)
		if err != nil {
			return nil, err
		}
		end = minBound(end, due)
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

// Read implements core.Source. It generates exactly the table's rows among
// the events of ranges, in batches of at most BatchRows rows; it never
// produces dead letters.
func (s *Source) Read(ctx context.Context, ranges core.Ranges, emit func(arrow.RecordBatch) error) ([]core.DeadLetter, error) {
	if s.closed {
		return nil, ErrClosed
	}
	for p, r := range ranges {
		if p != Partition {
			return nil, fmt.Errorf("nexmark: read: unknown partition %q (the only one is %q)", p, Partition)
		}
		if r.From < 0 && !r.Empty() {
			return nil, fmt.Errorf("nexmark: read: negative event number %d", r.From)
		}
	}
	r := ranges[Partition]
	if r.Empty() || s.gen.cfg.prop[s.table] == 0 {
		return nil, nil
	}
	row := s.gen.cum(s.table, r.From)
	for from := r.From; from < r.To; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row += int64(s.batchRows)
		to := min(r.To, s.gen.eventOfRow(s.table, row))
		if err := s.emit(from, to, emit); err != nil {
			return nil, err
		}
		from = to
	}
	return nil, nil
}

// emit generates the batch of the events [from, to) and emits it.
func (s *Source) emit(from, to int64, emit func(arrow.RecordBatch) error) error {
	b, err := s.gen.NewProjectedBatch(s.mem, s.proj, from, to)
	if err != nil {
		return err
	}
	defer b.Release()
	if b.NumRows() == 0 {
		return nil
	}
	return emit(b)
}

// Exhausted implements core.Source: events is set and every event was
// proposed.
func (s *Source) Exhausted() bool { return s.events > 0 && s.pos >= s.events }

// Close implements core.Source. It is idempotent.
func (s *Source) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return nil
}
