package plans

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// winInfo marks a relation produced by a window table function: which of
// its columns are window_start and window_end, and the window's size and
// grace period, so an aggregate grouped by a window bound knows when the
// window closes.
type winInfo struct {
	start, end int
	size       int64 // µs
	grace      int64 // µs
}

// emitOnClose matches the EMIT ON WINDOW CLOSE clause that ends a view's
// SQL. The Postgres grammar does not know it, so Plan takes it off first.
var emitOnClose = regexp.MustCompile(`(?is)\s+EMIT\s+ON\s+WINDOW\s+CLOSE\s*;?\s*$`)

// windowFunc binds TUMBLE(rel, ts, size [, grace]) and HOP(rel, ts, slide,
// size [, grace]) in FROM.
func (b *binder) windowFunc(rf *pg.RangeFunction) (*rel, *scope, error) {
	if len(rf.Functions) != 1 {
		return nil, nil, unsupported(-1, "ROWS FROM")
	}
	items := rf.Functions[0].GetList().GetItems()
	if len(items) == 0 || items[0].GetFuncCall() == nil {
		return nil, nil, unsupported(-1, "this table function")
	}
	fc := items[0].GetFuncCall()
	name := funcName(fc)
	var kind engine.WindowKind
	want := 0
	switch name {
	case "tumble":
		kind, want = engine.Tumble, 3
	case "hop":
		kind, want = engine.Hop, 4
	case "session":
		kind, want = "SESSION", 3
	default:
		return nil, nil, unsupported(fc.Location, "table function "+name+"() in FROM")
	}
	var pos []*pg.Node
	var grace *pg.Node
	for _, a := range fc.Args {
		if na := a.GetNamedArgExpr(); na != nil {
			if strings.ToLower(na.Name) != "grace" {
				return nil, nil, errAt(na.Location, "the only named argument is grace => INTERVAL '..'", "unknown argument %q of %s", na.Name, strings.ToUpper(name))
			}
			grace = na.Arg
			continue
		}
		pos = append(pos, a)
	}
	if len(pos) == want+1 && grace == nil {
		grace, pos = pos[want], pos[:want]
	}
	usage := "TUMBLE(source, time_column, INTERVAL '10' SECOND [, grace])"
	switch kind {
	case engine.Hop:
		usage = "HOP(source, time_column, slide, size [, grace])"
	case "SESSION":
		usage = "SESSION(source, time_column, gap [, grace])"
	}
	if len(pos) != want {
		return nil, nil, errAt(fc.Location, "write "+usage, "%s takes %d arguments, got %d", strings.ToUpper(name), want, len(pos))
	}
	relRef := pos[0].GetColumnRef()
	if relRef == nil || len(fieldNames(relRef)) != 1 {
		return nil, nil, errAt(location(pos[0]), "write "+usage, "the first argument of %s must name a source or view", strings.ToUpper(name))
	}
	relName := fieldNames(relRef)[0]
	in, ok := b.lookup(relName)
	if !ok {
		return nil, nil, errAt(relRef.Location, hintName(relName, b.names(), "relations"), "relation %q does not exist", relName)
	}
	tsRef := pos[1].GetColumnRef()
	if tsRef == nil {
		return nil, nil, errAt(location(pos[1]), "write "+usage, "the second argument of %s must name the event-time column", strings.ToUpper(name))
	}
	tsExpr, err := (&scope{entries: []scopeEntry{{name: relName, cols: in.cols}}}).column(tsRef)
	if err != nil {
		return nil, nil, err
	}
	ts := tsExpr.(*engine.ColRef)
	if ts.T.Arrow.ID() != arrow.TIMESTAMP {
		return nil, nil, errAt(tsRef.Location, "windows need a timestamp column", "the event-time column %q is %s", ts.Name, ts.T.Name)
	}
	durs := make([]time.Duration, 0, 3)
	for _, a := range pos[2:] {
		d, err := intervalConst(a)
		if err != nil {
			return nil, nil, err
		}
		if d <= 0 {
			return nil, nil, errAt(location(a), "", "window sizes must be positive")
		}
		durs = append(durs, d)
	}
	size, slide := durs[0], durs[0]
	if kind == engine.Hop {
		slide, size = durs[0], durs[1]
		if size%slide != 0 {
			return nil, nil, errAt(location(pos[3]), "make the size a multiple of the slide", "HOP size %s is not a multiple of the slide %s", size, slide)
		}
	}
	var g time.Duration
	if grace != nil {
		if g, err = intervalConst(grace); err != nil {
			return nil, nil, err
		}
		if g < 0 {
			return nil, nil, errAt(location(grace), "", "the grace period cannot be negative")
		}
	}
	cols := append(append([]core.Column(nil), in.cols...), core.Column{Name: "window_start", Type: core.Timestamp}, core.Column{Name: "window_end", Type: core.Timestamp})
	tsIdx := ts.Index
	name = relName
	if rf.Alias != nil {
		name = rf.Alias.Aliasname
	}
	if kind == "SESSION" {
		// Sessions are found per GROUP BY key by the aggregate itself
		// (SessionAgg); until then the bounds are NULL placeholders.
		exprs := make([]engine.Expr, 0, len(cols))
		names := make([]string, 0, len(cols))
		for i, c := range in.cols {
			exprs, names = append(exprs, &engine.ColRef{Index: i, Name: c.Name, T: c.Type}), append(names, c.Name)
		}
		exprs = append(exprs, &engine.Const{T: core.Timestamp}, &engine.Const{T: core.Timestamp})
		names = append(names, "window_start", "window_end")
		out := projectRel(in, exprs, names)
		out.sess = &sessInfo{start: len(in.cols), end: len(in.cols) + 1, ts: tsIdx, gap: size, grace: g, source: relName}
		return out, &scope{fns: b.fns, entries: []scopeEntry{{name: name, cols: cols}}}, nil
	}
	out := &rel{cols: cols, win: &winInfo{start: len(in.cols), end: len(in.cols) + 1, size: size.Microseconds(), grace: g.Microseconds()},
		node: &lop{ins: []*rel{in}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
			return engine.NewWindowAssign(mem, s[0], kind, tsIdx, size, slide, g, relName)
		}}}
	return out, &scope{fns: b.fns, entries: []scopeEntry{{name: name, cols: cols}}}, nil
}

// intervalConst evaluates an interval literal: INTERVAL '10' SECOND,
// INTERVAL '5 minutes', '1 hour'::interval.
func intervalConst(n *pg.Node) (time.Duration, error) {
	tc := n.GetTypeCast()
	if tc == nil || typeName(tc.TypeName) != "interval" {
		return 0, errAt(location(n), "write INTERVAL '10' SECOND or INTERVAL '5 minutes'", "want an interval literal")
	}
	c := tc.Arg.GetAConst()
	if c == nil || c.GetSval() == nil {
		return 0, errAt(location(n), "write INTERVAL '10' SECOND", "want an interval literal")
	}
	text := strings.TrimSpace(c.GetSval().Sval)
	unit := ""
	if len(tc.TypeName.Typmods) > 0 {
		if m := tc.TypeName.Typmods[0].GetAConst(); m != nil && m.GetIval() != nil {
			unit = maskUnit(m.GetIval().Ival)
		}
	}
	d, err := parseInterval(text, unit)
	if err != nil {
		return 0, errAt(location(n), "e.g. INTERVAL '10' SECOND, INTERVAL '1 minute 30 seconds'", "%v", err)
	}
	return d, nil
}

// maskUnit maps a Postgres interval field mask to the smallest unit it
// names (DAY 1<<3, HOUR 1<<10, MINUTE 1<<11, SECOND 1<<12).
func maskUnit(mask int32) string {
	switch {
	case mask&(1<<12) != 0:
		return "second"
	case mask&(1<<11) != 0:
		return "minute"
	case mask&(1<<10) != 0:
		return "hour"
	case mask&(1<<3) != 0:
		return "day"
	case mask&(1<<1) != 0:
		return "month"
	case mask&(1<<2) != 0:
		return "year"
	}
	return ""
}

var intervalUnits = map[string]time.Duration{
	"microsecond": time.Microsecond, "us": time.Microsecond,
	"millisecond": time.Millisecond, "ms": time.Millisecond,
	"second": time.Second, "sec": time.Second, "s": time.Second,
	"minute": time.Minute, "min": time.Minute, "m": time.Minute,
	"hour": time.Hour, "h": time.Hour,
	"day": 24 * time.Hour, "d": 24 * time.Hour,
	"week": 7 * 24 * time.Hour,
}

// parseInterval parses "10" (with the literal's unit), "5 minutes",
// "1 hour 30 minutes", "00:01:30".
func parseInterval(text, unit string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		if unit == "" {
			unit = "second"
		}
		u, ok := intervalUnits[unit]
		if !ok {
			return 0, fmt.Errorf("invalid interval unit %q (months and years have no fixed length for windows)", unit)
		}
		return time.Duration(f * float64(u)), nil
	}
	if strings.Count(text, ":") == 2 {
		var h, m int
		var sec float64
		if _, err := fmt.Sscanf(text, "%d:%d:%f", &h, &m, &sec); err == nil {
			return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)), nil
		}
	}
	f := strings.Fields(strings.ToLower(text))
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, fmt.Errorf("invalid interval %q", text)
	}
	var total time.Duration
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid interval %q", text)
		}
		u, ok := intervalUnits[strings.TrimSuffix(f[i+1], "s")]
		if !ok {
			u, ok = intervalUnits[f[i+1]]
		}
		if !ok {
			return 0, fmt.Errorf("invalid interval unit %q (months and years have no fixed length for windows)", f[i+1])
		}
		total += time.Duration(n * float64(u))
	}
	return total, nil
}

// sessInfo marks a relation read through SESSION(..): its window bounds
// are computed by the aggregate grouped by them.
type sessInfo struct {
	start, end, ts int
	gap, grace     time.Duration
	source         string
}

// sessionAgg binds the aggregation of a SESSION relation: the GROUP BY keys
// other than the window bounds, then window_start and window_end, then the
// aggregates, computed by SessionAgg.
func (b *binder) sessionAgg(in *rel, ag *aggScope) (*rel, []engine.Expr, error) {
	ss := in.sess
	var other []engine.Expr
	hasWin := false
	for _, k := range ag.keys {
		cr, ok := k.(*engine.ColRef)
		if ok && (cr.Index == ss.start || cr.Index == ss.end) {
			hasWin = true
			continue
		}
		if refersTo(k, ss.start) || refersTo(k, ss.end) {
			return nil, nil, &Error{Pos: -1, Msg: "GROUP BY an expression of a session's window bounds is not supported", Hint: "group by window_start or window_end themselves"}
		}
		other = append(other, k)
	}
	if !hasWin {
		return nil, nil, &Error{Pos: -1, Msg: "SESSION windows need GROUP BY window_start or window_end", Hint: "GROUP BY user_id, window_start"}
	}
	return nil, other, nil
}

// refersTo reports whether e reads column idx.
func refersTo(e engine.Expr, idx int) bool {
	switch x := e.(type) {
	case *engine.ColRef:
		return x.Index == idx
	case *engine.Binary:
		return refersTo(x.L, idx) || refersTo(x.R, idx)
	case *engine.Unary:
		return refersTo(x.X, idx)
	case *engine.Cast:
		return refersTo(x.X, idx)
	}
	return false
}
