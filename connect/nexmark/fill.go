package nexmark

import (
	"fmt"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// span is the rows one batch holds: table t's rows among the events
// [from, to), n of them, built in mem.
type span struct {
	t        Table
	from, to int64
	n        int
	mem      memory.Allocator
}

// fillFunc builds one column of the rows of s. The caller must Release the
// array.
type fillFunc func(g *Generator, s span) (arrow.Array, error)

// valid returns a validity bitmap of s.n set bits. Nothing the generator
// makes is NULL; the bitmap is there for consumers that expect one, as an
// array builder would make.
func (s span) valid() *memory.Buffer {
	b := memory.NewResizableBuffer(s.mem)
	b.Resize((s.n + 7) / 8)
	memory.Set(b.Bytes(), 0xff)
	return b
}

// int64s builds an array of type dt (int64 or timestamp) of value(n, block)
// for each event n of s in its block.
func (s span) int64s(g *Generator, dt arrow.DataType, value func(n, block int64) int64) arrow.Array {
	buf := memory.NewResizableBuffer(s.mem)
	defer buf.Release()
	buf.Resize(s.n * 8)
	v := arrow.Int64Traits.CastFromBytes(buf.Bytes())[:s.n]
	i := 0
	for n, block := range g.events(s.t, s.from, s.to) {
		v[i] = value(n, block)
		i++
	}
	valid := s.valid()
	defer valid.Release()
	d := array.NewData(dt, s.n, []*memory.Buffer{valid, buf}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// strings builds a varchar array of value(n) for each event n of s. The
// values must stay valid during the call (slices of the vocabulary or of
// the extra text): they are collected first, to size the data buffer
// exactly, and copied after.
func (s span) strings(g *Generator, value func(n int64) []byte) (arrow.Array, error) {
	vp := valuesPool.Get().(*[][]byte)
	defer valuesPool.Put(vp)
	vs := (*vp)[:0]
	defer func() { clear(vs); *vp = vs[:0] }()
	offBuf := memory.NewResizableBuffer(s.mem)
	defer offBuf.Release()
	offBuf.Resize((s.n + 1) * 4)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())[: s.n+1 : s.n+1]
	total := 0
	offs[0] = 0
	for n := range g.events(s.t, s.from, s.to) {
		v := value(n)
		vs = append(vs, v)
		if total += len(v); total > math.MaxInt32 {
			return nil, s.tooBig()
		}
		offs[len(vs)] = int32(total)
	}
	return s.varchar(offBuf, total, func(d []byte) {
		for i, v := range vs {
			copy(d[offs[i]:offs[i+1]], v)
		}
	}), nil
}

// texts builds a varchar array of the values value(n, buf) appends to buf
// for each event n of s: text generated character by character, gathered
// in a reused buffer and copied once into a data buffer of the exact size.
func (s span) texts(g *Generator, value func(n int64, buf []byte) []byte) (arrow.Array, error) {
	tp := textPool.Get().(*[]byte)
	defer textPool.Put(tp)
	text := (*tp)[:0]
	defer func() { *tp = text[:0] }()
	offBuf := memory.NewResizableBuffer(s.mem)
	defer offBuf.Release()
	offBuf.Resize((s.n + 1) * 4)
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())[: s.n+1 : s.n+1]
	offs[0] = 0
	i := 0
	for n := range g.events(s.t, s.from, s.to) {
		if text = value(n, text); len(text) > math.MaxInt32 {
			return nil, s.tooBig()
		}
		i++
		offs[i] = int32(len(text))
	}
	return s.varchar(offBuf, len(text), func(d []byte) { copy(d, text) }), nil
}

var (
	valuesPool = sync.Pool{New: func() any { return new([][]byte) }}
	textPool   = sync.Pool{New: func() any { return new([]byte) }}
)

func (s span) tooBig() error {
	return fmt.Errorf("nexmark: table %s: the varchar data of events [%d, %d) exceeds 2 GiB; generate fewer events per batch", s.t, s.from, s.to)
}

// varchar assembles a varchar array of s.n values from its offsets and
// total data bytes, which fill writes.
func (s span) varchar(offBuf *memory.Buffer, total int, fill func(d []byte)) arrow.Array {
	data := memory.NewResizableBuffer(s.mem)
	defer data.Release()
	data.Resize(total)
	fill(data.Bytes())
	valid := s.valid()
	defer valid.Release()
	ad := array.NewData(arrow.BinaryTypes.String, s.n, []*memory.Buffer{valid, offBuf, data}, nil, 0, 0)
	defer ad.Release()
	return array.MakeFromData(ad)
}

// The ids of the standard model. block is the block of event n (n / the
// sum of the proportions); off is n's offset in the block.

// lastPerson returns the base-0 id of the last person generated at or
// before the event at (block, off): the standard lastBase0PersonId.
func (g *Generator) lastPerson(block, off int64) int64 {
	p := g.cfg.prop[Person]
	return block*p + min(off, p-1)
}

// lastAuction is the standard lastBase0AuctionId.
func (g *Generator) lastAuction(block, off int64) int64 {
	p, a := g.cfg.prop[Person], g.cfg.prop[Auction]
	switch {
	case off < p:
		return block*a - 1 // the last auction of the previous block
	case off >= p+a:
		return block*a + a - 1
	}
	return block*a + off - p
}

// randomPerson picks one of the numActivePeople most recent people, or one
// of the idLead not yet generated: the standard nextBase0PersonId.
func (g *Generator) randomPerson(r *rng, last int64) int64 {
	people := last + 1
	active := min(people, g.cfg.numActivePeople)
	return people - active + r.intn(active+idLead)
}

// randomAuction picks one of the numInFlightAuctions most recent auctions,
// or one of the idLead not yet generated: the standard nextBase0AuctionId.
func (g *Generator) randomAuction(r *rng, last int64) int64 {
	lo := max(last-g.cfg.numInFlightAuctions, 0)
	return lo + r.intn(last-lo+1+idLead)
}

// extra slices the padding that brings an event of size cur to avg bytes
// on average: avg-cur, +-20%, uniformly.
func (g *Generator) extra(r *rng, cur, avg int64) []byte {
	if cur > avg {
		return nil
	}
	d := avg - cur
	delta := (2*d + 5) / 10 // round(d * 0.2)
	size := d - delta
	if delta > 0 {
		size += r.intn(2 * delta)
	}
	off := r.intn(int64(len(g.v.extra)) - size)
	return g.v.extra[off : off+size]
}

func fillTime(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, timestampType, func(n, _ int64) int64 { return g.micros(n) }), nil
}

// Person.

func (g *Generator) personName(n int64) []byte {
	r := g.stream(sPersonName, n)
	return g.v.names[r.intn(int64(len(g.v.names)))]
}

func (g *Generator) personEmail(buf []byte, n int64) []byte {
	r := g.stream(sPersonEmail, n)
	buf = append(r.text(buf, 7, ' '), '@')
	return append(r.text(buf, 5, ' '), ".com"...)
}

// cardLen is the length of a credit card number, "dddd dddd dddd dddd".
const cardLen = 19

func (g *Generator) personCard(buf []byte, n int64) []byte {
	r := g.stream(sPersonCard, n)
	for i := range 4 {
		if i > 0 {
			buf = append(buf, ' ')
		}
		v := r.intn(10_000)
		buf = append(buf, '0'+byte(v/1000), '0'+byte(v/100%10), '0'+byte(v/10%10), '0'+byte(v%10))
	}
	return buf
}

func (g *Generator) personCity(n int64) []byte {
	r := g.stream(sPersonCity, n)
	return g.v.cities[r.intn(int64(len(g.v.cities)))]
}

func (g *Generator) personState(n int64) []byte {
	r := g.stream(sPersonState, n)
	return g.v.states[r.intn(int64(len(g.v.states)))]
}

func (g *Generator) personExtra(n int64) []byte {
	e := g.stream(sPersonEmail, n)
	email := e.textLen(7, ' ') + 1 + e.textLen(5, ' ') + len(".com")
	cur := 8 + len(g.personName(n)) + email + cardLen + len(g.personCity(n)) + len(g.personState(n))
	r := g.stream(sPersonExtra, n)
	return g.extra(&r, int64(cur), g.cfg.avgSize[Person])
}

func fillPersonID(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, block int64) int64 {
		return g.lastPerson(block, n-block*g.total) + FirstPersonID
	}), nil
}

func fillPersonName(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.personName(n) })
}

func fillPersonEmail(g *Generator, s span) (arrow.Array, error) {
	return s.texts(g, func(n int64, buf []byte) []byte { return g.personEmail(buf, n) })
}

func fillPersonCard(g *Generator, s span) (arrow.Array, error) {
	return s.texts(g, func(n int64, buf []byte) []byte { return g.personCard(buf, n) })
}

func fillPersonCity(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.personCity(n) })
}

func fillPersonState(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.personState(n) })
}

func fillPersonExtra(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.personExtra(n) })
}

// Auction.

func (g *Generator) auctionItem(buf []byte, n int64) []byte {
	r := g.stream(sAuctionItem, n)
	return r.text(buf, 20, ' ')
}

func (g *Generator) auctionDesc(buf []byte, n int64) []byte {
	r := g.stream(sAuctionDesc, n)
	return r.text(buf, 100, ' ')
}

func (g *Generator) initialBid(n int64) int64 {
	r := g.stream(sAuctionInitial, n)
	return r.price(g.v)
}

func (g *Generator) auctionExtra(n int64) []byte {
	item, desc := g.stream(sAuctionItem, n), g.stream(sAuctionDesc, n)
	cur := 8 + item.textLen(20, ' ') + desc.textLen(100, ' ') + 5*8
	r := g.stream(sAuctionExtra, n)
	return g.extra(&r, int64(cur), g.cfg.avgSize[Auction])
}

func fillAuctionID(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, block int64) int64 {
		return g.lastAuction(block, n-block*g.total) + FirstAuctionID
	}), nil
}

func fillAuctionItem(g *Generator, s span) (arrow.Array, error) {
	return s.texts(g, func(n int64, buf []byte) []byte { return g.auctionItem(buf, n) })
}

func fillAuctionDesc(g *Generator, s span) (arrow.Array, error) {
	return s.texts(g, func(n int64, buf []byte) []byte { return g.auctionDesc(buf, n) })
}

func fillAuctionInitial(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, _ int64) int64 { return g.initialBid(n) }), nil
}

// fillAuctionReserve: the reserve is the initial bid plus another price.
func fillAuctionReserve(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, _ int64) int64 {
		r := g.stream(sAuctionReserve, n)
		return g.initialBid(n) + r.price(g.v)
	}), nil
}

// fillAuctionExpires: an auction lasts 1ms plus a uniform time up to twice
// the event time it takes to generate numInFlightAuctions more auctions.
func fillAuctionExpires(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, timestampType, func(n, _ int64) int64 {
		ts := g.micros(n)
		horizon := g.micros(n+g.auctionSpan) - ts
		r := g.stream(sAuctionExpires, n)
		return ts + 1000 + r.intn(max(2*horizon, 1))
	}), nil
}

func fillAuctionSeller(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, block int64) int64 {
		last := g.lastPerson(block, n-block*g.total)
		r := g.stream(sAuctionSeller, n)
		if r.intn(g.cfg.hotSellersRatio) > 0 {
			return last/hotGroup*hotGroup + FirstPersonID // the first of its group of 100
		}
		return g.randomPerson(&r, last) + FirstPersonID
	}), nil
}

func fillAuctionCategory(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, _ int64) int64 {
		r := g.stream(sAuctionCategory, n)
		return FirstCategoryID + r.intn(NumCategories)
	}), nil
}

func fillAuctionExtra(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.auctionExtra(n) })
}

// Bid.

func fillBidAuction(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, block int64) int64 {
		last := g.lastAuction(block, n-block*g.total)
		r := g.stream(sBidAuction, n)
		if r.intn(g.cfg.hotAuctionRatio) > 0 {
			return last/hotGroup*hotGroup + FirstAuctionID
		}
		return g.randomAuction(&r, last) + FirstAuctionID
	}), nil
}

func fillBidBidder(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, block int64) int64 {
		last := g.lastPerson(block, n-block*g.total)
		r := g.stream(sBidBidder, n)
		if r.intn(g.cfg.hotBiddersRatio) > 0 {
			// The second of its group, so hot bidders are not hot sellers.
			return last/hotGroup*hotGroup + 1 + FirstPersonID
		}
		return g.randomPerson(&r, last) + FirstPersonID
	}), nil
}

func fillBidPrice(g *Generator, s span) (arrow.Array, error) {
	return s.int64s(g, bigintType, func(n, _ int64) int64 {
		r := g.stream(sBidPrice, n)
		return r.price(g.v)
	}), nil
}

// bidChannel returns the index of event n's channel in vocab.channels and
// vocab.urls: half the bids come from the 4 hot channels, the rest from
// the 10,000 cold ones.
func (g *Generator) bidChannel(n int64) int64 {
	r := g.stream(sBidChannel, n)
	if r.intn(2) > 0 {
		return r.intn(numHotChannels)
	}
	return numHotChannels + r.intn(numChannels)
}

func (g *Generator) bidExtra(n int64) []byte {
	r := g.stream(sBidExtra, n)
	return g.extra(&r, 4*8, g.cfg.avgSize[Bid])
}

func fillBidChannel(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.v.channels[g.bidChannel(n)] })
}

func fillBidURL(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.v.urls[g.bidChannel(n)] })
}

func fillBidExtra(g *Generator, s span) (arrow.Array, error) {
	return s.strings(g, func(n int64) []byte { return g.bidExtra(n) })
}

// weights builds the changelog weight column: n ones.
func (s span) weights() arrow.Array {
	buf := memory.NewResizableBuffer(s.mem)
	defer buf.Release()
	buf.Resize(s.n * 8)
	v := arrow.Int64Traits.CastFromBytes(buf.Bytes())[:s.n]
	for i := range v {
		v[i] = 1
	}
	valid := s.valid()
	defer valid.Release()
	d := array.NewData(bigintType, s.n, []*memory.Buffer{valid, buf}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

var (
	bigintType    = arrow.PrimitiveTypes.Int64
	timestampType = core.Timestamp.Arrow
)
