package nexmark

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
	"github.com/stratadb/strata/internal/testutil"
)

func newGen(t testing.TB, opts ...Option) *Generator {
	t.Helper()
	g, err := NewGenerator(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// render returns every row of b as text, columns joined by |.
func render(t testing.TB, b arrow.RecordBatch) []string {
	t.Helper()
	for c, col := range b.Columns() {
		if col.Len() != int(b.NumRows()) || col.NullN() != 0 {
			t.Fatalf("column %d: %d values, %d nulls in a batch of %d rows", c, col.Len(), col.NullN(), b.NumRows())
		}
		if s, ok := col.(*array.String); ok {
			if err := s.ValidateFull(); err != nil {
				t.Fatal(err)
			}
		}
	}
	rows := make([]string, 0, b.NumRows())
	f := make([]string, b.NumCols())
	for i := range int(b.NumRows()) {
		for c := range f {
			f[c] = core.FormatValue(core.ValueAt(b.Column(c), i))
		}
		rows = append(rows, strings.Join(f, "|"))
	}
	return rows
}

// rows generates and renders table t over the events [from, to).
func rows(t testing.TB, g *Generator, mem memory.Allocator, tab Table, from, to int64) []string {
	t.Helper()
	b, err := g.NewRecordBatch(mem, tab, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if got, want := b.NumRows(), g.Count(tab, from, to); got != want {
		t.Fatalf("%s [%d, %d): %d rows, Count says %d", tab, from, to, got, want)
	}
	return render(t, b)
}

func TestTables(t *testing.T) {
	for _, tab := range Tables {
		got, err := ParseTable(strings.ToUpper(tab.String()) + "S")
		if err != nil || got != tab {
			t.Errorf("ParseTable(%sS) = %v, %v", strings.ToUpper(tab.String()), got, err)
		}
		if !Schema(tab).Equal(core.ArrowSchema(Columns(tab))) {
			t.Errorf("%s: Schema and Columns disagree", tab)
		}
	}
	if _, err := ParseTable("bidz"); err == nil || !strings.Contains(err.Error(), "person, auction and bid") {
		t.Errorf("ParseTable(bidz): %v", err)
	}
	var names []string
	for _, c := range Columns(Bid) {
		names = append(names, c.Name+" "+c.Type.Name)
	}
	if got := strings.Join(names, ", "); got != "auction bigint, bidder bigint, price bigint, channel varchar, url varchar, date_time timestamp, extra varchar" {
		t.Errorf("bid columns: %s", got)
	}
}

// TestDeterministic checks that any chunking of a range, and a fresh
// generator, give the same rows; that projections give the same values;
// and that another seed gives other rows.
func TestDeterministic(t *testing.T) {
	const events = 30_000
	mem := testutil.Alloc(t)
	g := newGen(t, WithSeed(7))
	for _, tab := range Tables {
		want := rows(t, g, mem, tab, 0, events)
		if int64(len(want)) != g.Count(tab, 0, events) || len(want) == 0 {
			t.Fatalf("%s: %d rows", tab, len(want))
		}
		seed := uint64(time.Now().UnixNano())
		t.Run(fmt.Sprintf("table=%s/seed=%d", tab, seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 2))
			g2 := newGen(t, WithSeed(7)) // re-open
			var got []string
			for from := int64(0); from < events; {
				to := min(events, from+rng.Int64N(2000))
				got = append(got, rows(t, g2, mem, tab, from, to)...)
				from = to
			}
			if !slices.Equal(got, want) {
				t.Fatal("rows differ from a single batch")
			}
			// A projection in another order, with the weight column.
			cols := Columns(tab)
			rng.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
			cols = cols[:1+rng.IntN(len(cols))]
			p, err := NewProjection(tab, core.ChangelogSchema(core.ArrowSchema(cols)))
			if err != nil {
				t.Fatal(err)
			}
			from, to := rng.Int64N(events), rng.Int64N(events)
			b, err := g2.NewProjectedBatch(mem, p, from, to)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Release()
			if err := core.CheckChangelog(b); err != nil {
				t.Fatal(err)
			}
			full := rows(t, g, mem, tab, from, to)
			proj := render(t, b)
			if len(proj) != len(full) {
				t.Fatalf("projection: %d rows, want %d", len(proj), len(full))
			}
			for i, row := range proj {
				f := strings.Split(full[i], "|")
				var w []string
				for _, c := range cols {
					idx, _ := lookupColumn(tab, c.Name)
					w = append(w, f[idx])
				}
				if want := strings.Join(w, "|") + "|1"; row != want {
					t.Fatalf("projected row %d: %s, want %s", i, row, want)
				}
			}
		})
		other := rows(t, newGen(t, WithSeed(8)), mem, tab, 0, events)
		same := 0
		for i := range other {
			if other[i] == want[i] {
				same++
			}
		}
		if same > 0 {
			t.Errorf("%s: %d of %d rows identical across seeds", tab, same, len(want))
		}
	}
}

// TestValues checks each column's form on the first events.
func TestValues(t *testing.T) {
	mem := testutil.Alloc(t)
	g := newGen(t)
	const events = 50_000
	base := DefaultBaseTime
	email := regexp.MustCompile(`^[a-z ]*[a-z]@[a-z ]*[a-z]\.com$|^[a-z]+@[a-z]+\.com$`)
	card := regexp.MustCompile(`^\d{4} \d{4} \d{4} \d{4}$`)
	person := rows(t, g, mem, Person, 0, events)
	for i, r := range person {
		f := strings.Split(r, "|")
		if f[0] != fmt.Sprint(FirstPersonID+i) {
			t.Fatalf("person %d: id %s", i, f[0])
		}
		if !slices.Contains(usCities, f[4]) || !slices.Contains(usStates, f[5]) || !email.MatchString(f[2]) || !card.MatchString(f[3]) {
			t.Fatalf("person %d: %q", i, r)
		}
		first, last, _ := strings.Cut(f[1], " ")
		if !slices.Contains(firstNames, first) || !slices.Contains(lastNames, last) {
			t.Fatalf("person %d: name %q", i, f[1])
		}
		n := int64(i) * 50 // the person of each block of 50
		if f[6] != core.FormatValue(base.Add(time.Duration(n)*100*time.Microsecond)) {
			t.Fatalf("person %d (event %d): date_time %s", i, n, f[6])
		}
	}
	auction := rows(t, g, mem, Auction, 0, events)
	for i, r := range auction {
		f := strings.Split(r, "|")
		var id, initial, reserve, seller, category int64
		fmt.Sscan(f[0], &id)
		fmt.Sscan(f[3], &initial)
		fmt.Sscan(f[4], &reserve)
		fmt.Sscan(f[7], &seller)
		fmt.Sscan(f[8], &category)
		n := int64(i)/3*50 + 1 + int64(i)%3
		if id != FirstAuctionID+int64(i) || reserve <= initial || initial < 100 || category < 10 || category > 14 {
			t.Fatalf("auction %d: %q", i, r)
		}
		if people := g.Count(Person, 0, n); seller < FirstPersonID || seller >= FirstPersonID+people+idLead {
			t.Fatalf("auction %d: seller %d with %d people so far", i, seller, people)
		}
		if f[6] <= f[5] || len(f[1]) > 19 || len(f[2]) > 99 || strings.TrimSpace(f[1]) != f[1] {
			t.Fatalf("auction %d: %q", i, r)
		}
	}
	hot := map[string]bool{}
	for _, c := range hotChannel {
		hot[c] = true
	}
	channels := map[string]string{}
	for i, r := range rows(t, g, mem, Bid, 0, events) {
		f := strings.Split(r, "|")
		var auction, bidder int64
		fmt.Sscan(f[0], &auction)
		fmt.Sscan(f[1], &bidder)
		n := g.eventOfRow(Bid, int64(i))
		if auctions := g.Count(Auction, 0, n); auction < FirstAuctionID || auction >= FirstAuctionID+auctions+idLead {
			t.Fatalf("bid %d: auction %d with %d auctions so far", i, auction, auctions)
		}
		if people := g.Count(Person, 0, n); bidder < FirstPersonID || bidder >= FirstPersonID+people+idLead {
			t.Fatalf("bid %d: bidder %d with %d people so far", i, bidder, people)
		}
		if !hot[f[3]] && !strings.HasPrefix(f[3], "channel-") || !strings.HasPrefix(f[4], "https://www.nexmark.com/") {
			t.Fatalf("bid %d: %q", i, r)
		}
		if u, ok := channels[f[3]]; ok && u != f[4] {
			t.Fatalf("channel %s has urls %s and %s", f[3], u, f[4])
		}
		channels[f[3]] = f[4]
		if f[5] != core.FormatValue(base.Add(time.Duration(n)*100*time.Microsecond)) {
			t.Fatalf("bid %d (event %d): date_time %s", i, n, f[5])
		}
	}
}

// TestModel checks the proportions and distributions of the standard
// model over 10 million events, each within 1% of the model: event kinds,
// bids on hot auctions and by hot bidders, auctions by hot sellers,
// categories, the price distribution and the average event sizes.
func TestModel(t *testing.T) {
	events := int64(10_000_000)
	if testing.Short() || raceDetector {
		events = 1_000_000
	}
	mem := testutil.Alloc(t)
	g := newGen(t)
	// Every figure must be within 1% of the model. Under -short and
	// -race, with a tenth of the events, a figure may also be within 5
	// standard errors of a sample of n.
	reduced := events < 10_000_000
	within := func(what string, got, want float64, n int64) {
		t.Helper()
		tol := 0.01 * math.Abs(want)
		if reduced && n > 0 {
			tol = max(tol, 5*math.Sqrt(want*(1-want)/float64(n)))
		}
		if math.Abs(got-want) > tol {
			t.Errorf("%s: %.5f, model %.5f (off by %.2f%%)", what, got, want, 100*math.Abs(got-want)/want)
		} else {
			t.Logf("%s: %.5f, model %.5f", what, got, want)
		}
	}
	// Kinds, arithmetically over all events and by event number on a
	// sample, then by the rows generated.
	for tab, want := range map[Table]int64{Person: events / 50, Auction: events * 3 / 50, Bid: events * 46 / 50} {
		if got := g.Count(tab, 0, events); got != want {
			t.Errorf("%s: %d events of %d, want %d", tab, got, events, want)
		}
	}
	for n := range int64(100_000) {
		want := Bid
		switch r := n % 50; {
		case r == 0:
			want = Person
		case r < 4:
			want = Auction
		}
		if got := g.Kind(n); got != want {
			t.Fatalf("event %d is a %s, want %s", n, got, want)
		}
	}

	// The price model: round(100 * 10^(6u)); its q-quantile is
	// 100 * 10^(6q). The empirical quantiles come from a histogram of
	// log10(price) in steps of 10^-4 (0.023% in price).
	qs := []float64{0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99}
	const steps = 10_000 // per decade
	newHist := func() []int64 { return make([]int64, 6*steps+1) }
	countPrice := func(h []int64, p int64) {
		h[min(max(int((math.Log10(float64(p))-2)*steps), 0), len(h)-1)]++
	}
	// strict: within 1% even of a sample too small to promise that.
	checkPrices := func(what string, h []int64, n int64, strict bool) {
		t.Helper()
		for _, q := range qs {
			var i int
			for acc := int64(0); i < len(h); i++ {
				if acc += h[i]; float64(acc) >= q*float64(n) {
					break
				}
			}
			got, want := math.Pow(10, 2+(float64(i)+0.5)/steps), 100*math.Pow(10, 6*q)
			// A quantile's standard error sqrt(q(1-q)/n) in u is
			// 6 ln(10) times that relative to the price.
			tol := 0.01
			if !strict || reduced {
				tol = max(tol, 5*6*math.Ln10*math.Sqrt(q*(1-q)/float64(n)))
			}
			if math.Abs(got-want) > tol*want {
				t.Errorf("%s: the %.2f quantile is %.0f, model %.0f (off by %.2f%%, allowed %.2f%%)", what, q, got, want, 100*math.Abs(got-want)/want, 100*tol)
			} else {
				t.Logf("%s: the %.2f quantile is %.0f, model %.0f", what, q, got, want)
			}
		}
	}

	const chunk = 1_000_000
	project := func(tab Table, names ...string) *Projection {
		var cols []core.Column
		for _, n := range names {
			i, _ := lookupColumn(tab, n)
			cols = append(cols, core.Column{Name: n, Type: tableColumns[tab][i].typ})
		}
		p, err := NewProjection(tab, core.ArrowSchema(cols))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Bids: auction, bidder and price of every bid.
	var bids, hotAuction, hotBidder int64
	var wantHotAuction, wantHotBidder float64
	priceHist := newHist()
	p := project(Bid, "auction", "bidder", "price")
	for from := int64(0); from < events; from += chunk {
		b, err := g.NewProjectedBatch(mem, p, from, from+chunk)
		if err != nil {
			t.Fatal(err)
		}
		auction := b.Column(0).(*array.Int64).Int64Values()
		bidder := b.Column(1).(*array.Int64).Int64Values()
		price := b.Column(2).(*array.Int64).Int64Values()
		row := g.Count(Bid, 0, from)
		for i := range auction {
			n := g.eventOfRow(Bid, row+int64(i))
			// The last auction and person before event n, counted.
			lastA := g.Count(Auction, 0, n) - 1
			lastP := g.Count(Person, 0, n) - 1
			if auction[i] == FirstAuctionID+lastA/100*100 {
				hotAuction++
			}
			if bidder[i] == FirstPersonID+lastP/100*100+1 {
				hotBidder++
			}
			// P(hot) = 1-1/ratio, plus a cold pick that lands on it.
			wantHotAuction += 0.5 + 0.5/float64(lastA-max(lastA-100, 0)+11)
			wantHotBidder += 0.75 + 0.25/float64(min(lastP+1, 1000)+10)
			countPrice(priceHist, price[i])
		}
		bids += int64(len(auction))
		b.Release()
	}
	if bids != g.Count(Bid, 0, events) {
		t.Fatalf("%d bids generated, %d counted", bids, g.Count(Bid, 0, events))
	}
	within("fraction of bids on hot auctions", float64(hotAuction)/float64(bids), wantHotAuction/float64(bids), bids)
	within("fraction of bids by hot bidders", float64(hotBidder)/float64(bids), wantHotBidder/float64(bids), bids)
	checkPrices("bid price", priceHist, bids, true)

	// Auctions and persons: every column, and the average sizes.
	var auctions, hotSeller, auctionBytes int64
	var wantHotSeller float64
	categories := map[int64]int64{}
	initialHist := newHist()
	for from := int64(0); from < events; from += chunk {
		b, err := g.NewRecordBatch(mem, Auction, from, from+chunk)
		if err != nil {
			t.Fatal(err)
		}
		initial := b.Column(3).(*array.Int64).Int64Values()
		seller := b.Column(7).(*array.Int64).Int64Values()
		category := b.Column(8).(*array.Int64).Int64Values()
		row := g.Count(Auction, 0, from)
		for i := range seller {
			n := g.eventOfRow(Auction, row+int64(i))
			lastP := g.Count(Person, 0, n) - 1
			if seller[i] == FirstPersonID+lastP/100*100 {
				hotSeller++
			}
			wantHotSeller += 0.75 + 0.25/float64(min(lastP+1, 1000)+10)
			categories[category[i]]++
			countPrice(initialHist, initial[i])
			auctionBytes += 8 + int64(len(b.Column(1).(*array.String).Value(i))+len(b.Column(2).(*array.String).Value(i))) + 5*8 +
				int64(len(b.Column(9).(*array.String).Value(i)))
		}
		auctions += int64(len(seller))
		b.Release()
	}
	within("fraction of auctions by hot sellers", float64(hotSeller)/float64(auctions), wantHotSeller/float64(auctions), auctions)
	for c := int64(FirstCategoryID); c < FirstCategoryID+NumCategories; c++ {
		within(fmt.Sprintf("fraction of auctions in category %d", c), float64(categories[c])/float64(auctions), 1.0/NumCategories, auctions)
	}
	if len(categories) != NumCategories {
		t.Errorf("categories %v", categories)
	}
	// 600,000 initial bids: a quantile's standard error is 0.9%.
	checkPrices("auction initial_bid", initialHist, auctions, false)
	within("average auction size", float64(auctionBytes)/float64(auctions), DefaultAvgAuctionByteSize, 0)

	var persons, personBytes int64
	for from := int64(0); from < events; from += chunk {
		b, err := g.NewRecordBatch(mem, Person, from, from+chunk)
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(b.NumRows()) {
			personBytes += 8
			for c := 1; c <= 7; c++ {
				if c != 6 {
					personBytes += int64(len(b.Column(c).(*array.String).Value(i)))
				}
			}
		}
		persons += b.NumRows()
		b.Release()
	}
	if persons != events/50 {
		t.Errorf("%d persons generated, want %d", persons, events/50)
	}
	within("average person size", float64(personBytes)/float64(persons), DefaultAvgPersonByteSize, 0)

	b, err := g.NewRecordBatch(mem, Bid, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	var bidBytes int64
	extra := b.Column(6).(*array.String)
	for i := range extra.Len() {
		bidBytes += 32 + int64(len(extra.Value(i)))
	}
	within("average bid size", float64(bidBytes)/float64(extra.Len()), DefaultAvgBidByteSize, 0)
}

// TestEventTime checks event times at a rate that does not divide a
// second: exact, rounded down to the microsecond, and monotonic.
func TestEventTime(t *testing.T) {
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	g := newGen(t, WithFirstEventRate(3), WithBaseTime(base))
	prev := time.Time{}
	for n := range int64(1000) {
		want := base.Add(time.Duration(n) * time.Second / 3).Truncate(time.Microsecond)
		if got := g.EventTime(n); !got.Equal(want) || got.Before(prev) {
			t.Fatalf("event %d at %s, want %s", n, got, want)
		}
		prev = g.EventTime(n)
	}
	// Far out, no overflow: event 10^15 at 10,000/s is 10^11 s later.
	g = newGen(t)
	if got, want := g.EventTime(1e15).Unix(), DefaultBaseTime.Unix()+1e11; got != want {
		t.Fatalf("event 1e15 at %d, want %d", got, want)
	}
}

func TestGeneratorOptions(t *testing.T) {
	_, err := NewGenerator(WithFirstEventRate(0), WithProportions(-1, 0, 0), WithHotRatios(0, 4, 4),
		WithNumActivePeople(0), WithNumInFlightAuctions(0), WithAvgByteSizes(200, 1<<20, 100))
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"first_event_rate must be > 0", "person_proportion must be >= 0", "hot_auction_ratio must be >= 1",
		"num_active_people", "num_in_flight_auctions", "avg_auction_byte_size"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if _, err := NewGenerator(WithProportions(0, 0, 0)); err == nil || !strings.Contains(err.Error(), "all 0") {
		t.Errorf("zero proportions: %v", err)
	}
	// Only bids: every event is a bid, bidding on auctions and people that
	// never appear; nothing divides by zero.
	g := newGen(t, WithProportions(0, 0, 1))
	mem := testutil.Alloc(t)
	if got := len(rows(t, g, mem, Bid, 0, 1000)); got != 1000 {
		t.Fatalf("%d bids", got)
	}
	if got := len(rows(t, g, mem, Person, 0, 1000)); got != 0 {
		t.Fatalf("%d persons", got)
	}
	if _, err := g.NewRecordBatch(mem, Bid, -1, 10); err == nil {
		t.Fatal("negative event number: no error")
	}
	for _, tc := range []struct {
		name   string
		fields []arrow.Field
		want   string
	}{
		{"unknown column", []arrow.Field{{Name: "prize", Type: arrow.PrimitiveTypes.Int64}}, `"prize" is not a column of table bid`},
		{"wrong type", []arrow.Field{{Name: "price", Type: arrow.PrimitiveTypes.Float64}}, "column price of table bid is bigint"},
		{"twice", []arrow.Field{{Name: "price", Type: arrow.PrimitiveTypes.Int64}, {Name: "PRICE", Type: arrow.PrimitiveTypes.Int64}}, "projected twice"},
		{"weight type", []arrow.Field{{Name: core.WeightColumn, Type: arrow.PrimitiveTypes.Int32}}, "must be int64"},
	} {
		if _, err := NewProjection(Bid, arrow.NewSchema(tc.fields, nil)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestTextLen checks that textLen measures what text appends and leaves
// the stream where text does.
func TestTextLen(t *testing.T) {
	for i := range uint64(20_000) {
		for _, special := range []byte{' ', '_'} {
			max := int64(4 + i%100)
			a, b := rng{s: mix64(i)}, rng{s: mix64(i)}
			text := a.text([]byte("x"), max, special)
			if n := b.textLen(max, special); n != len(text)-1 || a.s != b.s {
				t.Fatalf("seed %d, max %d: text %q (%d), textLen %d; states %x, %x", i, max, text, len(text)-1, n, a.s, b.s)
			}
			if special == ' ' && len(text) > 1 && (text[1] == ' ' || text[len(text)-1] == ' ') {
				t.Fatalf("text %q is not trimmed", text)
			}
		}
	}
}
