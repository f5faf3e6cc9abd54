package nexmark

import (
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// Defaults of the model, as in the standard Nexmark generator.
const (
	DefaultSeed                = 1
	DefaultFirstEventRate      = 10_000 // events per second of event time
	DefaultPersonProportion    = 1
	DefaultAuctionProportion   = 3
	DefaultBidProportion       = 46
	DefaultHotAuctionRatio     = 2
	DefaultHotBiddersRatio     = 4
	DefaultHotSellersRatio     = 4
	DefaultNumInFlightAuctions = 100
	DefaultNumActivePeople     = 1000
	DefaultAvgPersonByteSize   = 200
	DefaultAvgAuctionByteSize  = 500
	DefaultAvgBidByteSize      = 100
)

// DefaultBaseTime is the event time of event 0. The standard generator uses
// the wall clock at start; a fixed default keeps runs reproducible.
var DefaultBaseTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// config is the model's parameters; see the With options.
type config struct {
	seed                uint64
	firstEventRate      int64
	baseTime            time.Time
	prop                [3]int64 // by Table
	hotAuctionRatio     int64
	hotBiddersRatio     int64
	hotSellersRatio     int64
	numInFlightAuctions int64
	numActivePeople     int64
	avgSize             [3]int64 // by Table
}

func defaultConfig() config {
	return config{
		seed:                DefaultSeed,
		firstEventRate:      DefaultFirstEventRate,
		baseTime:            DefaultBaseTime,
		prop:                [3]int64{DefaultPersonProportion, DefaultAuctionProportion, DefaultBidProportion},
		hotAuctionRatio:     DefaultHotAuctionRatio,
		hotBiddersRatio:     DefaultHotBiddersRatio,
		hotSellersRatio:     DefaultHotSellersRatio,
		numInFlightAuctions: DefaultNumInFlightAuctions,
		numActivePeople:     DefaultNumActivePeople,
		avgSize:             [3]int64{DefaultAvgPersonByteSize, DefaultAvgAuctionByteSize, DefaultAvgBidByteSize},
	}
}

// validate reports every problem at once. The names are the connector's
// option names, so the connector can return these errors as they are.
func (c *config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("nexmark: "+format, args...)) }
	if c.firstEventRate <= 0 {
		bad("option first_event_rate must be > 0 events per second of event time, got %d (the default is %d: events 100µs apart)", c.firstEventRate, DefaultFirstEventRate)
	}
	for _, t := range Tables {
		if c.prop[t] < 0 {
			bad("option %s_proportion must be >= 0, got %d", t, c.prop[t])
		}
		if c.avgSize[t] < 0 || c.avgSize[t] > maxAvgByteSize {
			bad("avg_%s_byte_size must be in [0, %d], got %d", t, maxAvgByteSize, c.avgSize[t])
		}
	}
	if c.prop[Person] >= 0 && c.prop[Auction] >= 0 && c.prop[Bid] >= 0 && c.prop[Person]+c.prop[Auction]+c.prop[Bid] == 0 {
		bad("the proportions person_proportion, auction_proportion and bid_proportion are all 0; set at least one > 0 (the defaults are 1, 3 and 46)")
	}
	for _, r := range []struct {
		name string
		v    int64
	}{{"hot_auction_ratio", c.hotAuctionRatio}, {"hot_bidders_ratio", c.hotBiddersRatio}, {"hot_sellers_ratio", c.hotSellersRatio}} {
		if r.v < 1 {
			bad("option %s must be >= 1 (1 - 1/ratio of the choices are hot; 1 means none), got %d", r.name, r.v)
		}
	}
	if c.numInFlightAuctions < 1 {
		bad("num_in_flight_auctions must be >= 1, got %d", c.numInFlightAuctions)
	}
	if c.numActivePeople < 1 {
		bad("num_active_people must be >= 1, got %d", c.numActivePeople)
	}
	return errors.Join(errs...)
}

// Option configures a Generator.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSeed sets the seed; the same seed always generates the same events.
func WithSeed(seed uint64) Option { return optionFunc(func(c *config) { c.seed = seed }) }

// WithFirstEventRate sets the event-time spacing: event n happens at
// base time + n/eventsPerSecond seconds (rounded down to the microsecond).
func WithFirstEventRate(eventsPerSecond int64) Option {
	return optionFunc(func(c *config) { c.firstEventRate = eventsPerSecond })
}

// WithBaseTime sets the event time of event 0.
func WithBaseTime(t time.Time) Option { return optionFunc(func(c *config) { c.baseTime = t }) }

// WithProportions sets how many of every person+auction+bid events are
// persons, auctions and bids (defaults 1, 3, 46: blocks of 50 events).
func WithProportions(person, auction, bid int64) Option {
	return optionFunc(func(c *config) { c.prop = [3]int64{person, auction, bid} })
}

// WithHotRatios sets the skew: a bid goes to a hot auction with probability
// 1-1/auction, is by a hot bidder with 1-1/bidders, and an auction is by a
// hot seller with 1-1/sellers (defaults 2, 4, 4).
func WithHotRatios(auction, bidders, sellers int64) Option {
	return optionFunc(func(c *config) {
		c.hotAuctionRatio, c.hotBiddersRatio, c.hotSellersRatio = auction, bidders, sellers
	})
}

// WithNumInFlightAuctions sets how many recent auctions a cold bid picks
// from (default 100); it also sets the mean auction length.
func WithNumInFlightAuctions(n int64) Option {
	return optionFunc(func(c *config) { c.numInFlightAuctions = n })
}

// WithNumActivePeople sets how many recent people a cold bidder or seller
// is picked from (default 1000).
func WithNumActivePeople(n int64) Option {
	return optionFunc(func(c *config) { c.numActivePeople = n })
}

// WithAvgByteSizes sets the average size each event kind is padded to with
// its extra column (defaults 200, 500, 100).
func WithAvgByteSizes(person, auction, bid int64) Option {
	return optionFunc(func(c *config) { c.avgSize = [3]int64{person, auction, bid} })
}

// Generator generates the Nexmark event stream: event n is a person, an
// auction or a bid depending on n alone, and its values are a pure function
// of (seed, n). A Generator is immutable and safe for concurrent use.
type Generator struct {
	cfg   config
	v     *vocab
	total int64    // events per block: the sum of the proportions
	off   [3]int64 // a table's first offset in a block
	keys  [numStreams]uint64
	base  int64 // event time of event 0, µs since the Unix epoch
	step  int64 // µs between events when exact, else 0
	// auctionSpan is how many events it takes to generate
	// numInFlightAuctions auctions; auctions last that long on average.
	auctionSpan int64
}

// The random streams of the fields, one per randomly drawn field.
const (
	sPersonName = iota
	sPersonEmail
	sPersonCard
	sPersonCity
	sPersonState
	sPersonExtra
	sAuctionItem
	sAuctionDesc
	sAuctionInitial
	sAuctionReserve
	sAuctionExpires
	sAuctionSeller
	sAuctionCategory
	sAuctionExtra
	sBidAuction
	sBidBidder
	sBidPrice
	sBidChannel
	sBidExtra
	numStreams
)

// NewGenerator returns a generator with the standard model's defaults
// changed by opts.
func NewGenerator(opts ...Option) (*Generator, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg, v: loadVocab()}
	g.total = cfg.prop[Person] + cfg.prop[Auction] + cfg.prop[Bid]
	g.off = [3]int64{0, cfg.prop[Person], cfg.prop[Person] + cfg.prop[Auction]}
	for s := range g.keys {
		g.keys[s] = mix64(cfg.seed*golden + mix64(uint64(s)+1))
	}
	g.base = cfg.baseTime.UnixMicro()
	if 1_000_000%cfg.firstEventRate == 0 {
		g.step = 1_000_000 / cfg.firstEventRate
	}
	if cfg.prop[Auction] > 0 {
		g.auctionSpan = cfg.numInFlightAuctions * g.total / cfg.prop[Auction]
	}
	return g, nil
}

// stream returns field stream s of event n.
func (g *Generator) stream(s int, n int64) rng {
	return rng{s: mix64(g.keys[s] + uint64(n)*golden)}
}

// Kind returns the table event n belongs to.
func (g *Generator) Kind(n int64) Table {
	r := n % g.total
	switch {
	case r < g.off[Auction]:
		return Person
	case r < g.off[Bid]:
		return Auction
	}
	return Bid
}

// cum returns how many of the events before n (n >= 0) belong to t.
func (g *Generator) cum(t Table, n int64) int64 {
	p := g.cfg.prop[t]
	return n/g.total*p + min(max(n%g.total-g.off[t], 0), p)
}

// Count returns how many events in [from, to) belong to table t. Neither
// may be negative.
func (g *Generator) Count(t Table, from, to int64) int64 {
	if to <= from {
		return 0
	}
	return g.cum(t, to) - g.cum(t, from)
}

// eventOfRow returns the event number of the i-th row of table t (the
// table's proportion must not be 0).
func (g *Generator) eventOfRow(t Table, i int64) int64 {
	p := g.cfg.prop[t]
	return i/p*g.total + g.off[t] + i%p
}

// micros returns the event time of event n in µs since the Unix epoch.
func (g *Generator) micros(n int64) int64 {
	if g.step > 0 {
		return g.base + n*g.step
	}
	r := g.cfg.firstEventRate
	return g.base + n/r*1_000_000 + n%r*1_000_000/r
}

// EventTime returns the event time of event n: the base time plus
// n/first_event_rate seconds, rounded down to the microsecond.
func (g *Generator) EventTime(n int64) time.Time { return time.UnixMicro(g.micros(n)).UTC() }

// events yields the event numbers in [from, to) of table t with the block
// (n / total) each is in, without a division per event.
func (g *Generator) events(t Table, from, to int64) iter.Seq2[int64, int64] {
	return func(yield func(int64, int64) bool) {
		lo, hi := g.off[t], g.off[t]+g.cfg.prop[t]
		if lo == hi || from >= to {
			return
		}
		block := from / g.total
		for base := block * g.total; base < to; base += g.total {
			for n := max(base+lo, from); n < min(base+hi, to); n++ {
				if !yield(n, block) {
					return
				}
			}
			block++
		}
	}
}

// Projection is a choice of a table's columns, any subset in any order,
// optionally followed by the changelog weight column (core.WeightColumn,
// int64, always 1). It is immutable.
type Projection struct {
	table  Table
	cols   []int // indexes into the table's columns
	weight bool
	schema *arrow.Schema
}

// NewProjection checks that every field of schema is a column of table t,
// by name (case-insensitive) and type, optionally followed by a
// core.WeightColumn int64 field.
func NewProjection(t Table, schema *arrow.Schema) (*Projection, error) {
	if t < 0 || int(t) >= len(tableColumns) {
		return nil, fmt.Errorf("nexmark: unknown table %d", t)
	}
	p := &Projection{table: t, schema: schema}
	fs := schema.Fields()
	if n := len(fs); n > 0 && fs[n-1].Name == core.WeightColumn {
		if fs[n-1].Type.ID() != arrow.INT64 {
			return nil, fmt.Errorf("nexmark: table %s: column %s must be int64, got %s", t, core.WeightColumn, fs[n-1].Type)
		}
		p.weight, fs = true, fs[:n-1]
	}
	seen := map[int]bool{}
	for _, f := range fs {
		i, ok := lookupColumn(t, f.Name)
		if !ok {
			return nil, fmt.Errorf("nexmark: %q is not a column of table %s (its columns: %s)", f.Name, t, columnNames(t))
		}
		c := tableColumns[t][i]
		if !arrow.TypeEqual(f.Type, c.typ.Arrow) {
			return nil, fmt.Errorf("nexmark: column %s of table %s is %s (%s), not %s", f.Name, t, c.typ.Name, c.typ.Arrow, f.Type)
		}
		if seen[i] {
			return nil, fmt.Errorf("nexmark: column %s of table %s is projected twice", f.Name, t)
		}
		seen[i] = true
		p.cols = append(p.cols, i)
	}
	return p, nil
}

// Table returns the projected table.
func (p *Projection) Table() Table { return p.table }

// Schema returns the schema of the batches the projection makes.
func (p *Projection) Schema() *arrow.Schema { return p.schema }

var fullProjections = func() (ps [3]*Projection) {
	for _, t := range Tables {
		ps[t] = &Projection{table: t, schema: Schema(t)}
		for i := range tableColumns[t] {
			ps[t].cols = append(ps[t].cols, i)
		}
	}
	return ps
}()

// NewRecordBatch returns the rows of table t among the events [from, to),
// in event order, as one batch of Schema(t). The caller must Release it.
func (g *Generator) NewRecordBatch(mem memory.Allocator, t Table, from, to int64) (arrow.RecordBatch, error) {
	if t < 0 || int(t) >= len(tableColumns) {
		return nil, fmt.Errorf("nexmark: unknown table %d", t)
	}
	return g.NewProjectedBatch(mem, fullProjections[t], from, to)
}

// NewProjectedBatch returns the rows of p's table among the events
// [from, to), in event order, as one batch of p.Schema(). Each column is
// allocated once from mem at its exact size. The caller must Release it.
func (g *Generator) NewProjectedBatch(mem memory.Allocator, p *Projection, from, to int64) (arrow.RecordBatch, error) {
	if from < 0 {
		return nil, fmt.Errorf("nexmark: negative event number %d", from)
	}
	s := span{t: p.table, from: from, to: max(from, to), mem: mem}
	s.n = int(g.Count(s.t, s.from, s.to))
	cols := make([]arrow.Array, 0, len(p.cols)+1)
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, i := range p.cols {
		c, err := tableColumns[p.table][i].fill(g, s)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	if p.weight {
		cols = append(cols, s.weights())
	}
	return array.NewRecordBatch(p.schema, cols, int64(s.n)), nil
}

// lookupColumn returns the index of table t's column name
// (case-insensitive).
func lookupColumn(t Table, name string) (int, bool) {
	for i, c := range tableColumns[t] {
		if strings.EqualFold(c.name, name) {
			return i, true
		}
	}
	return 0, false
}
