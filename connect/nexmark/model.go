package nexmark

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stratadb/strata/engine/core"
)

// Table names one of the three Nexmark relations.
type Table int

// The three Nexmark tables.
const (
	Person Table = iota
	Auction
	Bid
)

// Tables lists the tables in event-kind order.
var Tables = []Table{Person, Auction, Bid}

var tableNames = [...]string{"person", "auction", "bid"}

// String returns the table's name: person, auction or bid.
func (t Table) String() string {
	if t < 0 || int(t) >= len(tableNames) {
		return "Table(" + strconv.Itoa(int(t)) + ")"
	}
	return tableNames[t]
}

// ParseTable resolves a table name (case-insensitive; "people", "persons",
// "auctions" and "bids" are accepted too).
func ParseTable(name string) (Table, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "person", "persons", "people":
		return Person, nil
	case "auction", "auctions":
		return Auction, nil
	case "bid", "bids":
		return Bid, nil
	}
	return 0, fmt.Errorf("nexmark: unknown table %q (the tables are person, auction and bid)", name)
}

// The model's fixed constants, as in the standard generator.
const (
	// FirstPersonID is the id of the first person.
	FirstPersonID = 1000
	// FirstAuctionID is the id of the first auction.
	FirstAuctionID = 1000
	// FirstCategoryID is the smallest category; categories are
	// FirstCategoryID .. FirstCategoryID+NumCategories-1.
	FirstCategoryID = 10
	// NumCategories is the number of auction categories.
	NumCategories = 5

	// hotGroup: hot auctions, bidders and sellers are the first ids of
	// groups of this many (HOT_AUCTION_RATIO etc. in the standard).
	hotGroup = 100
	// idLead lets a random person or auction id run ahead of the last one
	// generated (PERSON_ID_LEAD, AUCTION_ID_LEAD).
	idLead = 10
	// minStringLen is the shortest random string before trimming.
	minStringLen = 3
	// numChannels is the number of cold bid channels; numHotChannels the
	// hot ones (half of all bids).
	numChannels    = 10_000
	numHotChannels = 4
	// extraBufLen is the size of the random text extra fields are sliced
	// from.
	extraBufLen = 1 << 17
	// maxAvgByteSize bounds the avg_*_byte_size parameters so that an
	// extra field always fits in half of the extra buffer.
	maxAvgByteSize = 32 << 10
)

// Vocabulary of the person fields (the standard lists).
var (
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
	hotChannel = []string{"Google", "Facebook", "Baidu", "Apple"}
)

// vocab holds every string value the generator appends that is not
// generated character by character, as byte slices, built once.
type vocab struct {
	states, cities, names [][]byte
	// channels and urls: index 0..3 are the hot channels, 4.. the cold
	// "channel-<i>".
	channels, urls [][]byte
	// extra is lowercase random text extra fields are sliced from.
	extra []byte
	// pow2hi[i] = 2^(i/1024), pow2lo[i] = 2^(i/2^20), for prices.
	pow2hi, pow2lo [1024]float64
}

var (
	vocabOnce sync.Once
	voc       *vocab
)

// vocabSeed keys the fixed tables (channel URLs, the extra text). They are
// constants of the model, the same for every seed.
const vocabSeed = 0x6e65786d61726b // "nexmark"

func loadVocab() *vocab {
	vocabOnce.Do(func() {
		v := &vocab{}
		for _, s := range usStates {
			v.states = append(v.states, []byte(s))
		}
		for _, s := range usCities {
			v.cities = append(v.cities, []byte(s))
		}
		for _, f := range firstNames {
			for _, l := range lastNames {
				v.names = append(v.names, []byte(f+" "+l))
			}
		}
		r := rng{s: mix64(vocabSeed)}
		var buf []byte
		baseURL := func() []byte {
			u := []byte("https://www.nexmark.com/")
			for range 3 {
				buf = r.text(buf[:0], 5, '_')
				u = append(append(u, buf...), '/')
			}
			return append(u, "item.htm?query=1"...)
		}
		for _, c := range hotChannel {
			v.channels = append(v.channels, []byte(c))
			v.urls = append(v.urls, baseURL())
		}
		for i := range numChannels {
			u := baseURL()
			if r.intn(10) > 0 {
				// The standard appends abs(Integer.reverse(i)).
				id := int64(int32(bits.Reverse32(uint32(i))))
				if id < 0 {
					id = -id
				}
				u = strconv.AppendInt(append(u, "&channel_id="...), id, 10)
			}
			v.channels = append(v.channels, []byte("channel-"+strconv.Itoa(i)))
			v.urls = append(v.urls, u)
		}
		// One arena for the channels and URLs keeps lookups local.
		v.channels, v.urls = pack(v.channels), pack(v.urls)
		v.extra = make([]byte, extraBufLen)
		for i := 0; i < len(v.extra); {
			x := r.next()
			for k := 0; k < 8 && i < len(v.extra); k++ {
				v.extra[i] = 'a' + byte((x&0xff)*26>>8)
				x >>= 8
				i++
			}
		}
		// 2^(2^-k) by repeated square roots: IEEE square roots are
		// correctly rounded everywhere, so the tables (and prices) are the
		// same on every platform, unlike math.Pow or math.Exp.
		var root [21]float64
		root[0] = 2
		for k := 1; k < len(root); k++ {
			root[k] = math.Sqrt(root[k-1])
		}
		for i := range 1024 {
			hi, lo := 1.0, 1.0
			for k := range 10 {
				if i&(1<<(9-k)) != 0 {
					hi *= root[k+1]
					lo *= root[k+11]
				}
			}
			v.pow2hi[i], v.pow2lo[i] = hi, lo
		}
		voc = v
	})
	return voc
}

// pack copies the byte slices of vs into one array and returns vs, resliced
// into it.
func pack(vs [][]byte) [][]byte {
	n := 0
	for _, v := range vs {
		n += len(v)
	}
	arena := make([]byte, 0, n)
	for i, v := range vs {
		arena = append(arena, v...)
		vs[i] = arena[len(arena)-len(v) : len(arena) : len(arena)]
	}
	return vs
}

// column is one column of a table and how to generate it.
type column struct {
	name string
	typ  core.Type
	fill fillFunc
}

var tableColumns = [3][]column{
	Person: {
		{"id", core.Bigint, fillPersonID},
		{"name", core.Varchar, fillPersonName},
		{"email_address", core.Varchar, fillPersonEmail},
		{"credit_card", core.Varchar, fillPersonCard},
		{"city", core.Varchar, fillPersonCity},
		{"state", core.Varchar, fillPersonState},
		{"date_time", core.Timestamp, fillTime},
		{"extra", core.Varchar, fillPersonExtra},
	},
	Auction: {
		{"id", core.Bigint, fillAuctionID},
		{"item_name", core.Varchar, fillAuctionItem},
		{"description", core.Varchar, fillAuctionDesc},
		{"initial_bid", core.Bigint, fillAuctionInitial},
		{"reserve", core.Bigint, fillAuctionReserve},
		{"date_time", core.Timestamp, fillTime},
		{"expires", core.Timestamp, fillAuctionExpires},
		{"seller", core.Bigint, fillAuctionSeller},
		{"category", core.Bigint, fillAuctionCategory},
		{"extra", core.Varchar, fillAuctionExtra},
	},
	Bid: {
		{"auction", core.Bigint, fillBidAuction},
		{"bidder", core.Bigint, fillBidBidder},
		{"price", core.Bigint, fillBidPrice},
		{"channel", core.Varchar, fillBidChannel},
		{"url", core.Varchar, fillBidURL},
		{"date_time", core.Timestamp, fillTime},
		{"extra", core.Varchar, fillBidExtra},
	},
}

var tableSchemas = func() (s [3]*arrow.Schema) {
	for _, t := range Tables {
		s[t] = core.ArrowSchema(Columns(t))
	}
	return s
}()

// Columns returns the columns of table t, in order. The slice is new; the
// caller may keep or change it.
func Columns(t Table) []core.Column {
	cols := tableColumns[t]
	out := make([]core.Column, len(cols))
	for i, c := range cols {
		out[i] = core.Column{Name: c.name, Type: c.typ}
	}
	return out
}

// Schema returns the Arrow schema of table t (no weight column).
func Schema(t Table) *arrow.Schema { return tableSchemas[t] }

// columnNames lists table t's column names, for error messages.
func columnNames(t Table) string {
	var b strings.Builder
	for i, c := range tableColumns[t] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name)
	}
	return b.String()
}

// mix64 is the splitmix64 finalizer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const golden = 0x9e3779b97f4a7c15

// rng is a splitmix64 stream. Every random field of an event draws from its
// own stream, started from (seed, field, event number), so a field's value
// never depends on which other columns are generated.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// intn returns a uniform integer in [0, n); n > 0.
func (r *rng) intn(n int64) int64 {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int64(hi)
}

// text appends a random string as the standard's nextString(max, special):
// 3 to max-1 characters, each a lowercase letter or, with probability 1/13,
// special; spaces at either end are trimmed. Characters i..i+3 come from
// the 16-bit quarters of the stream's (i/4+1)-th output after the length.
func (r *rng) text(buf []byte, max int64, special byte) []byte {
	n := int(minStringLen + r.intn(max-minStringLen))
	start := len(buf)
	buf = slices.Grow(buf, n)[:start+n]
	out := buf[start:]
	for i := 0; i < n; i += 4 {
		x := r.next()
		for j := i; j < min(i+4, n); j++ {
			out[j] = textChar(x, special)
			x >>= 16
		}
	}
	if special != ' ' {
		return buf
	}
	lo, hi := 0, n
	for lo < hi && out[lo] == ' ' {
		lo++
	}
	for hi > lo && out[hi-1] == ' ' {
		hi--
	}
	return buf[:start+copy(out, out[lo:hi])]
}

// textChar maps the low 16 bits of x to [0, 338): 26 of the 338 values
// (1/13) are special, the other 312 are 12 copies of the alphabet.
func textChar(x uint64, special byte) byte {
	v := (x & 0xffff) * 338 >> 16
	if v < 26 {
		return special
	}
	return 'a' + byte(v%26)
}

// textLen returns the length of the text text would append, and advances
// the stream as it would, generating only the characters trimming looks at.
func (r *rng) textLen(max int64, special byte) int {
	n := minStringLen + r.intn(max-minStringLen)
	s := r.s
	r.s += uint64((n+3)/4) * golden
	if special != ' ' {
		return int(n)
	}
	char := func(i int64) byte { return textChar(mix64(s+uint64(i/4+1)*golden)>>(16*(i%4)), special) }
	lo, hi := int64(0), n
	for lo < hi && char(lo) == ' ' {
		lo++
	}
	for hi > lo && char(hi-1) == ' ' {
		hi--
	}
	return int(hi - lo)
}

// price draws a price in cents as the standard: round(10^(6u) * 100) for u
// uniform in [0, 1), so prices are log-uniform between 1.00 and 1,000,000.00.
// It computes 10^(6u) = 2^y from tables rather than math.Pow so the value is
// the same on every platform.
func (r *rng) price(v *vocab) int64 {
	// c = 6*log2(10)/32 as a 0.64 fixed-point fraction, so y/32 = u*c.
	const c = 11489767012059883583
	u := r.next() >> 11 << 11 // the 53 bits a double would keep
	y, _ := bits.Mul64(u, c)
	// y holds 6u*log2(10) in 5.59 fixed point.
	whole := y >> 59
	frac := y & (1<<59 - 1)
	hi := frac >> 49          // the top 10 bits of the fraction
	lo := (frac >> 39) & 1023 // the next 10
	rest := float64(frac&(1<<39-1)) / (1 << 59)
	// 2^rest ~ 1 + rest*ln2 for rest < 2^-20 (relative error < 2.3e-13).
	// The explicit conversions round each step, so no platform fuses a
	// multiply-add differently.
	p := float64(v.pow2hi[hi] * v.pow2lo[lo])
	p = float64(p * (1 + float64(rest*math.Ln2)))
	p = float64(float64(p*float64(uint64(1)<<whole)) * 100)
	return int64(math.Floor(p + 0.5))
}
