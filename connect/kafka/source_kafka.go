package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/stratadb/strata/connect"
	"github.com/stratadb/strata/connect/format"
	"github.com/stratadb/strata/engine/core"
)

// Name is the connector name deployments use: `connector: kafka`.
const Name = "kafka"

// Defaults of the connector's options.
const (
	defaultClientID         = "strata"
	defaultPollWait         = 100 * time.Millisecond
	defaultPartitionRefresh = 10 * time.Second
	defaultReplayTimeout    = 30 * time.Second
	openTimeout             = 30 * time.Second
)

// ErrClosed is returned by a source's methods after Close.
var ErrClosed = errors.New("kafka: source is closed")

var optionSpecs = []connect.OptionSpec{
	{Name: "brokers", Kind: "list", Required: true, Doc: "bootstrap brokers, host:port"},
	{Name: "topic", Kind: "string", Required: true, Doc: "the topic to read; every partition is read"},
	{Name: "client_id", Kind: "string", Default: defaultClientID, Doc: "the client id the broker sees (logs, quotas)"},
	{Name: "bounded", Kind: "bool", Default: false, Doc: "read only what the topic holds when the source opens, then report the source exhausted (batch runs)"},
	{Name: "poll_wait", Kind: "duration", Default: defaultPollWait.String(), Doc: "how long proposing an epoch waits for records when none are buffered; an empty epoch follows"},
	{Name: "partition_refresh", Kind: "duration", Default: defaultPartitionRefresh.String(), Doc: "how often to look for partitions added to the topic"},
	{Name: "replay_timeout", Kind: "duration", Default: defaultReplayTimeout.String(), Doc: "how long re-reading logged offsets may go without receiving a record before it fails"},
}

func init() {
	connect.RegisterSource(connect.Source{
		Name:    Name,
		Doc:     "Reads every partition of a Kafka topic by direct partition assignment (no consumer group, no offset commits: the epoch log owns the offsets), read_committed.",
		Options: optionSpecs,
		Formats: format.Names(),
		Open:    open,
	})
}

// source is a core.Source over every partition of one topic. See doc.go.
type source struct {
	cfg      connect.SourceConfig
	topic    string
	brokers  []string
	base     []kgo.Opt // seeds and client id, shared by every client
	pollWait time.Duration
	refresh  time.Duration
	replayTO time.Duration
	bounded  bool
	schema   *arrow.Schema
	dec      format.Decoder

	meta        *kgo.Client // metadata and offset listing
	adm         *kadm.Client
	live        *kgo.Client // the consumer Next polls; nil until the first Next after Seek
	parts       []int32     // known partitions, ascending
	lastRefresh time.Time

	pos  map[int32]int64         // per partition, where the next proposed range starts
	buf  map[int32][]*kgo.Record // fetched by live, not yet proposed
	pend map[int32]*pending      // proposed, kept for Read
	end  map[int32]int64         // bounded: the end offsets read at open
	rr   int                     // rotates the partition Next serves first
	// stuck: per partition, a last stable offset catchUp already waited for
	// in vain (e.g. the log ends with aborted records); not waited for again.
	stuck map[int32]int64
	done  bool // closed
}

// pending holds the records Next proposed for one partition: every record of
// the partition in [lo, pos) is in recs, in offset order.
type pending struct {
	lo   int64
	recs []*kgo.Record
}

func open(ctx context.Context, cfg connect.SourceConfig) (_ core.Source, err error) {
	o := connect.NewOptions(cfg.Options)
	s := &source{
		cfg:      cfg,
		topic:    o.String("topic", ""),
		brokers:  o.Strings("brokers", nil),
		pollWait: o.Duration("poll_wait", defaultPollWait),
		refresh:  o.Duration("partition_refresh", defaultPartitionRefresh),
		replayTO: o.Duration("replay_timeout", defaultReplayTimeout),
		bounded:  o.Bool("bounded", false),
		schema:   core.ArrowSchema(cfg.Columns),
		pos:      map[int32]int64{},
		buf:      map[int32][]*kgo.Record{},
		pend:     map[int32]*pending{},
	}
	clientID := o.String("client_id", defaultClientID)
	var errs []error
	if err := o.Err(); err != nil {
		errs = append(errs, fmt.Errorf("kafka: %w", err))
	}
	if len(s.brokers) == 0 {
		errs = append(errs, errors.New("kafka: option brokers is required (a list of host:port)"))
	}
	if s.topic == "" {
		errs = append(errs, errors.New("kafka: option topic is required"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"poll_wait", s.pollWait}, {"partition_refresh", s.refresh}, {"replay_timeout", s.replayTO}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("kafka: option %s must be positive, got %v", d.name, d.v))
		}
	}
	for k := range cfg.Options {
		if !slices.ContainsFunc(optionSpecs, func(sp connect.OptionSpec) bool { return sp.Name == k }) {
			errs = append(errs, fmt.Errorf("kafka: unknown option %q", k))
		}
	}
	if cfg.Alloc == nil {
		errs = append(errs, errors.New("kafka: no allocator given"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if s.cfg.BatchRows <= 0 {
		s.cfg.BatchRows = 4096
	}
	s.dec, err = format.New(cfg.Format, cfg.Columns, cfg.Alloc)
	if err != nil {
		return nil, fmt.Errorf("kafka: topic %q: %w", s.topic, err)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.base = []kgo.Opt{
		kgo.SeedBrokers(s.brokers...),
		kgo.ClientID(clientID),
		// Metadata younger than this is served from the client's cache: keep
		// it below partition_refresh so new partitions are seen (and, once
		// added, consumed) promptly.
		kgo.MetadataMinAge(min(s.refresh/2, time.Second)),
	}
	s.meta, err = kgo.NewClient(s.base...)
	if err != nil {
		return nil, fmt.Errorf("kafka: topic %q: %w", s.topic, err)
	}
	s.adm = kadm.NewClient(s.meta)

	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if err := s.discover(ctx); err != nil {
		return nil, err
	}
	for _, p := range s.parts {
		s.pos[p] = 0 // offset 0 is bounded to the log start
	}
	if s.bounded {
		ends, err := s.adm.ListCommittedOffsets(ctx, s.topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("kafka: list end offsets of topic %q on %s: %w", s.topic, s.brokerList(), err)
		}
		s.end = map[int32]int64{}
		ends.Each(func(l kadm.ListedOffset) { s.end[l.Partition] = l.Offset })
	}
	return s, nil
}

func (s *source) brokerList() string { return strings.Join(s.brokers, ",") }

// discover refreshes the topic's partitions and starts consuming new ones.
func (s *source) discover(ctx context.Context) error {
	td, err := s.adm.ListTopics(ctx, s.topic)
	if err != nil {
		return fmt.Errorf("kafka: describe topic %q on %s: %w", s.topic, s.brokerList(), err)
	}
	d, ok := td[s.topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return fmt.Errorf("kafka: topic %q does not exist on %s", s.topic, s.brokerList())
	}
	if d.Err != nil {
		return fmt.Errorf("kafka: describe topic %q on %s: %w", s.topic, s.brokerList(), d.Err)
	}
	s.lastRefresh = time.Now()
	added := map[int32]kgo.Offset{}
	for p := range d.Partitions {
		if _, known := slices.BinarySearch(s.parts, p); known {
			continue
		}
		s.parts = append(s.parts, p)
		if _, ok := s.pos[p]; !ok {
			s.pos[p] = 0
		}
		added[p] = kgo.NewOffset().At(s.pos[p])
		s.pend[p] = &pending{lo: s.pos[p]}
	}
	slices.Sort(s.parts)
	if s.live != nil && len(added) > 0 {
		s.live.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: added})
	}
	return nil
}

// consumerOpts are the options of every consuming client: records of
// committed transactions only, with the control records kept so positions
// advance past transaction markers.
func (s *source) consumerOpts(offsets map[int32]kgo.Offset) []kgo.Opt {
	return append(slices.Clone(s.base),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: offsets}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		// A fetch the broker holds open delays consuming partitions added
		// meanwhile until it returns; the default 5s is long for that.
		kgo.FetchMaxWait(500*time.Millisecond),
	)
}

// Schema implements core.Source.
func (s *source) Schema() *arrow.Schema { return s.schema }

// Seek implements core.Source. Partition names are decimal partition
// numbers; a partition absent from pos starts at its beginning.
func (s *source) Seek(ctx context.Context, pos core.Positions) error {
	if s.done {
		return ErrClosed
	}
	next := make(map[int32]int64, len(pos))
	for name, off := range pos {
		p, err := parsePartition(name)
		if err != nil {
			return fmt.Errorf("kafka: seek topic %q: %w", s.topic, err)
		}
		if off < 0 {
			return fmt.Errorf("kafka: seek topic %q partition %d: negative offset %d", s.topic, p, off)
		}
		next[p] = off
	}
	if s.live != nil {
		s.live.Close()
		s.live = nil
	}
	clear(s.pos)
	clear(s.buf)
	clear(s.pend)
	for p, off := range next {
		s.pos[p] = off
	}
	for _, p := range s.parts {
		if _, ok := s.pos[p]; !ok {
			s.pos[p] = 0
		}
		s.pend[p] = &pending{lo: s.pos[p]}
	}
	return nil
}

func parsePartition(name string) (int32, error) {
	p, err := strconv.ParseInt(name, 10, 32)
	if err != nil || p < 0 || strconv.FormatInt(p, 10) != name {
		return 0, fmt.Errorf("partition %q is not a partition number", name)
	}
	return int32(p), nil
}

// Next implements core.Source.
func (s *source) Next(ctx context.Context, max int) (core.Ranges, error) {
	if s.done {
		return nil, ErrClosed
	}
	if !s.bounded && time.Since(s.lastRefresh) >= s.refresh {
		if err := s.discover(ctx); err != nil {
			return nil, err
		}
	}
	if s.Exhausted() {
		return core.Ranges{}, nil
	}
	if s.live == nil {
		offs := make(map[int32]kgo.Offset, len(s.parts))
		for _, p := range s.parts {
			offs[p] = kgo.NewOffset().At(s.pos[p])
		}
		cl, err := kgo.NewClient(s.consumerOpts(offs)...)
		if err != nil {
			return nil, fmt.Errorf("kafka: consume topic %q: %w", s.topic, err)
		}
		s.live = cl
	}
	buffered := 0
	for _, rs := range s.buf {
		buffered += len(rs)
	}
	if max <= 0 || buffered < max {
		var wait context.Context // nil: take what is buffered, do not wait
		if buffered == 0 {
			var cancel context.CancelFunc
			wait, cancel = context.WithTimeout(ctx, s.pollWait)
			defer cancel()
		}
		want := 0
		if max > 0 {
			want = max - buffered
		}
		if err := s.take(ctx, s.live.PollRecords(wait, want)); err != nil {
			return nil, err
		}
	}
	if err := s.catchUp(ctx); err != nil {
		return nil, err
	}
	return s.propose(max), nil
}

// catchUpWait bounds how long Next waits for records the broker says exist
// but the consumer has not fetched yet.
const catchUpWait = 10 * time.Second

// catchUp keeps polling while nothing is buffered but some partition's
// position is below its last stable offset: the records exist and are on
// their way (the first fetch after start can take longer than poll_wait).
// So an empty Next means "caught up with the topic", which is what
// --until-idle needs to drain a topic instead of stopping on a slow fetch.
func (s *source) catchUp(ctx context.Context) error {
	deadline := time.Now().Add(catchUpWait)
	lso := map[int32]int64{}
	defer func() {
		if time.Now().After(deadline) {
			if s.stuck == nil {
				s.stuck = map[int32]int64{}
			}
			for p, o := range lso {
				s.stuck[p] = o
			}
		}
	}()
	for time.Now().Before(deadline) {
		for _, rs := range s.buf {
			if len(rs) > 0 {
				return nil
			}
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		offs, err := s.adm.ListCommittedOffsets(lctx, s.topic)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil // cannot tell; the next epoch will poll again
		}
		behind := false
		offs.Each(func(o kadm.ListedOffset) {
			if o.Err != nil {
				return
			}
			if pos, ok := s.pos[o.Partition]; ok && pos < o.Offset && (!s.bounded || pos < s.end[o.Partition]) {
				if st, waited := s.stuck[o.Partition]; waited && st == o.Offset {
					return
				}
				behind = true
				lso[o.Partition] = o.Offset
			}
		})
		if !behind {
			return nil
		}
		wait, cancelWait := context.WithTimeout(ctx, s.pollWait)
		err = s.take(ctx, s.live.PollRecords(wait, 0))
		cancelWait()
		if err != nil {
			return err
		}
	}
	return nil
}

// take moves polled records into buf, then reports the first fetch error
// that is not the poll's own deadline.
func (s *source) take(ctx context.Context, fs kgo.Fetches) error {
	fs.EachPartition(func(fp kgo.FetchTopicPartition) {
		if fp.Topic != s.topic {
			return
		}
		p := fp.Partition
		for _, r := range fp.Records {
			if r.Offset < s.pos[p] {
				continue
			}
			if s.bounded && r.Offset >= s.end[p] {
				continue
			}
			if b := s.buf[p]; len(b) > 0 && r.Offset <= b[len(b)-1].Offset {
				continue
			}
			s.buf[p] = append(s.buf[p], r)
		}
	})
	var first error
	fs.EachError(func(topic string, p int32, err error) {
		if first != nil {
			return
		}
		switch {
		case topic == "" && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)):
			// The poll's own wait ended; ctx is checked below.
		case errors.Is(err, kgo.ErrClientClosed):
			first = ErrClosed
		case topic == "":
			first = fmt.Errorf("kafka: consume topic %q: %w", s.topic, err)
		default:
			first = fmt.Errorf("kafka: consume topic %q partition %d at offset %d: %w", topic, p, s.pos[p], err)
		}
	})
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("kafka: consume topic %q: %w", s.topic, ctx.Err())
	}
	return first
}

// propose turns buffered records into ranges of at most max records in
// total, advancing the position past them.
func (s *source) propose(max int) core.Ranges {
	rs := core.Ranges{}
	if len(s.parts) == 0 {
		return rs
	}
	left := max
	start := s.rr % len(s.parts)
	s.rr++
	for i := range s.parts {
		p := s.parts[(start+i)%len(s.parts)]
		b := s.buf[p]
		n := len(b)
		if max > 0 {
			n = min(n, left)
			left -= n
		}
		if n == 0 {
			continue
		}
		to := b[n-1].Offset + 1
		rs[strconv.Itoa(int(p))] = core.Range{From: s.pos[p], To: to}
		pd := s.pend[p]
		if pd == nil {
			pd = &pending{lo: s.pos[p]}
			s.pend[p] = pd
		}
		pd.recs = append(pd.recs, b[:n]...)
		s.buf[p] = slices.Delete(b, 0, n)
		s.pos[p] = to
	}
	return rs
}

// Exhausted implements core.Source: false unless the source is bounded and
// has proposed everything up to the end offsets it saw at open.
func (s *source) Exhausted() bool {
	if !s.bounded {
		return false
	}
	for p, e := range s.end {
		if s.pos[p] < e {
			return false
		}
	}
	return true
}

// Close implements core.Source. It is idempotent.
func (s *source) Close() error {
	if s.done {
		return nil
	}
	s.done = true
	if s.live != nil {
		s.live.Close()
		s.live = nil
	}
	if s.meta != nil {
		s.meta.Close()
	}
	if s.dec != nil {
		s.dec.Release()
	}
	clear(s.buf)
	clear(s.pend)
	return nil
}
