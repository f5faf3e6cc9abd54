package plans

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// scope resolves column names over the relations of a FROM clause, laid
// side by side (a join's output is its left columns, then its right).
type scope struct {
	entries []scopeEntry
	fns     Functions // user-defined functions calls may name
}

type scopeEntry struct {
	name   string // alias, or the relation's name
	cols   []core.Column
	off    int
	hidden map[int]bool // USING columns of a join's right side: not found unqualified, not in *
}

func (s *scope) width() int {
	if len(s.entries) == 0 {
		return 0
	}
	last := s.entries[len(s.entries)-1]
	return last.off + len(last.cols)
}

// concat returns the scope of a join of s and t.
func (s *scope) concat(t *scope) *scope {
	out := &scope{fns: s.fns, entries: append([]scopeEntry(nil), s.entries...)}
	w := s.width()
	for _, e := range t.entries {
		e.off += w
		out.entries = append(out.entries, e)
	}
	return out
}

func (s *scope) bind(n *pg.Node) (engine.Expr, error) {
	return bindExpr(n, s.column, func(fc *pg.FuncCall) (engine.Expr, error) {
		return nil, errAt(fc.Location, "aggregates go in the select list or HAVING of a GROUP BY query", "aggregate functions are not allowed here")
	}, s.fns)
}

func (s *scope) column(cr *pg.ColumnRef) (engine.Expr, error) {
	names := fieldNames(cr)
	if names == nil {
		return nil, unsupported(cr.Location, "this column reference")
	}
	if len(names) > 2 {
		return nil, unsupported(cr.Location, "schema-qualified column names")
	}
	col := names[len(names)-1]
	var found []engine.Expr
	var all []string
	for _, e := range s.entries {
		if len(names) == 2 && names[0] != e.name {
			continue
		}
		for i, c := range e.cols {
			all = append(all, c.Name)
			if c.Name == col && (len(names) == 2 || !e.hidden[i]) {
				found = append(found, &engine.ColRef{Index: e.off + i, Name: c.Name, T: c.Type})
			}
		}
	}
	if len(names) == 2 && all == nil {
		rels := make([]string, len(s.entries))
		for i, e := range s.entries {
			rels[i] = e.name
		}
		return nil, errAt(cr.Location, hintName(names[0], rels, "relations in FROM"), "missing FROM-clause entry for table %q", names[0])
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, errAt(cr.Location, hintName(col, all, "columns"), "column %q does not exist", col)
	}
	return nil, errAt(cr.Location, "qualify it with its table, e.g. t."+col, "column reference %q is ambiguous", col)
}

// star expands * or t.* to the visible columns.
func (s *scope) star(cr *pg.ColumnRef) ([]engine.Expr, []string, error) {
	var qual string
	if len(cr.Fields) == 2 {
		if q := cr.Fields[0].GetString_(); q != nil {
			qual = q.Sval
		}
	}
	var exprs []engine.Expr
	var out []string
	matched := false
	for _, e := range s.entries {
		if qual != "" && e.name != qual {
			continue
		}
		matched = true
		for i, c := range e.cols {
			if e.hidden[i] && qual == "" {
				continue
			}
			exprs = append(exprs, &engine.ColRef{Index: e.off + i, Name: c.Name, T: c.Type})
			out = append(out, c.Name)
		}
	}
	if !matched {
		return nil, nil, errAt(cr.Location, "", "missing FROM-clause entry for table %q", qual)
	}
	return exprs, out, nil
}

// aggScope binds expressions over GroupAgg's output: the keys, then the
// aggregates, collecting the aggregates and their arguments as it goes.
type aggScope struct {
	in       *scope
	keys     []engine.Expr
	keyNames []string
	args     []engine.Expr
	aggs     []engine.AggSpec
}

func (a *aggScope) keyRef(e engine.Expr) (engine.Expr, bool) {
	for i, k := range a.keys {
		if k.String() == e.String() {
			return &engine.ColRef{Index: i, Name: a.keyNames[i], T: k.Type()}, true
		}
	}
	return nil, false
}

func (a *aggScope) bind(n *pg.Node) (engine.Expr, error) {
	if !containsAgg(n, a.in.fns) {
		if e, err := a.in.bind(n); err == nil {
			if k, ok := a.keyRef(e); ok {
				return k, nil
			}
			if _, isConst := e.(*engine.Const); isConst {
				return e, nil
			}
		}
	}
	return bindExpr(n, func(cr *pg.ColumnRef) (engine.Expr, error) {
		e, err := a.in.column(cr)
		if err != nil {
			return nil, err
		}
		if k, ok := a.keyRef(e); ok {
			return k, nil
		}
		return nil, errAt(cr.Location, "add it to GROUP BY or wrap it in an aggregate such as sum()", "column %q must appear in the GROUP BY clause or be used in an aggregate function", e.(*engine.ColRef).Name)
	}, a.aggregate, a.in.fns)
}

func (a *aggScope) aggregate(fc *pg.FuncCall) (engine.Expr, error) {
	name := funcName(fc)
	// agg(x) FILTER (WHERE c) is agg(CASE WHEN c THEN x END): every
	// aggregate here skips NULLs, and count(*) FILTER counts the rows
	// where c holds.
	var filter engine.Expr
	if fc.AggFilter != nil {
		if containsAgg(fc.AggFilter, a.in.fns) {
			return nil, errAt(location(fc.AggFilter), "", "aggregate functions are not allowed in FILTER")
		}
		c, err := a.in.bind(fc.AggFilter)
		if err != nil {
			return nil, err
		}
		if c.Type().Name != core.Boolean.Name {
			return nil, errAt(location(fc.AggFilter), "write a condition, e.g. price > 10", "argument of FILTER must be boolean, not %s", c.Type().Name)
		}
		filter = c
	}
	if fc.Over != nil {
		return nil, unsupported(fc.Location, "window functions (OVER)")
	}
	if len(fc.AggOrder) > 0 {
		return nil, unsupported(fc.Location, "ORDER BY inside an aggregate")
	}
	if f, ok := a.in.fns[name]; ok && f.Kind == AggregateFunction {
		if filter != nil {
			return nil, unsupported(fc.Location, "FILTER (WHERE ..) on a user-defined aggregate")
		}
		return a.udfAggregate(fc, f)
	}
	spec := engine.AggSpec{Kind: engine.AggKind(name), Arg: -1, T: core.Bigint}
	if name == "count" && fc.AggStar && filter != nil {
		spec.Kind = engine.AggCount
		spec.Arg = len(a.args)
		a.args = append(a.args, &engine.Case{Whens: []engine.When{{Cond: filter, Then: &engine.Const{Value: int64(1), T: core.Bigint}}}, T: core.Bigint})
	} else if name == "count" && fc.AggStar {
		spec.Kind = engine.AggCountStar
	} else {
		// bool_and is min over booleans (false < true) and bool_or max,
		// both kept under retractions like any min and max.
		boolAgg := name == "bool_and" || name == "bool_or" || name == "every"
		switch name {
		case "count", "sum", "avg", "min", "max":
		case "bool_and", "every":
			spec.Kind = engine.AggMin
		case "bool_or":
			spec.Kind = engine.AggMax
		default:
			return nil, unsupported(fc.Location, "aggregate "+name)
		}
		if len(fc.Args) != 1 {
			return nil, errAt(fc.Location, "", "%s takes exactly one argument", name)
		}
		if containsAgg(fc.Args[0], a.in.fns) {
			return nil, errAt(location(fc.Args[0]), "", "aggregate function calls cannot be nested")
		}
		arg, err := a.in.bind(fc.Args[0])
		if err != nil {
			return nil, err
		}
		at := arg.Type()
		numeric := isNumericT(at)
		if boolAgg && at.Name != core.Boolean.Name {
			return nil, errAt(fc.Location, name+" takes a boolean", "function %s(%s) does not exist", name, at.Name)
		}
		switch {
		case boolAgg:
			if fc.AggDistinct {
				return nil, unsupported(fc.Location, name+"(DISTINCT ..)")
			}
			spec.T = core.Boolean
		case fc.AggDistinct && name == "count":
			spec.Kind = engine.AggCountDistinct
		case fc.AggDistinct:
			return nil, unsupported(fc.Location, name+"(DISTINCT ..)")
		case name == "sum" || name == "avg":
			if !numeric {
				return nil, errAt(fc.Location, name+" takes a number", "function %s(%s) does not exist", name, at.Name)
			}
			if name == "avg" || at.Arrow.ID() == arrow.FLOAT64 {
				spec.T = core.Double
			}
		case name == "min" || name == "max":
			switch at.Arrow.ID() {
			case arrow.INT32, arrow.INT64, arrow.FLOAT64, arrow.STRING, arrow.BOOL, arrow.DATE32, arrow.TIMESTAMP, arrow.BINARY:
			default:
				return nil, errAt(fc.Location, "", "function %s(%s) does not exist", name, at.Name)
			}
			spec.T = at
		}
		if filter != nil {
			arg = &engine.Case{Whens: []engine.When{{Cond: filter, Then: arg}}, T: arg.Type()}
		}
		spec.Arg = len(a.args)
		a.args = append(a.args, arg)
	}
	spec.Name = fmt.Sprintf("_agg%d", len(a.aggs))
	idx := len(a.keys) + len(a.aggs)
	a.aggs = append(a.aggs, spec)
	return &engine.ColRef{Index: idx, Name: spec.Name, T: spec.T}, nil
}

// udfAggregate binds a call of a user-defined aggregate.
func (a *aggScope) udfAggregate(fc *pg.FuncCall, f *Function) (engine.Expr, error) {
	switch {
	case len(f.Ambiguous) > 0:
		return nil, errAt(fc.Location, "qualify it with its udf's name: "+strings.Join(f.Ambiguous, " or "), "function %s is defined by several udfs", f.Name)
	case !f.Deterministic:
		return nil, nondeterministic(fc.Location, "the nondeterministic udf "+f.Name+"()")
	case f.Aggregate == nil:
		return nil, errAt(fc.Location, "", "udf %s has no implementation loaded", f.Name)
	case fc.AggStar || fc.AggDistinct:
		return nil, unsupported(fc.Location, "* or DISTINCT in a user-defined aggregate")
	}
	args := make([]engine.Expr, len(fc.Args))
	for i, n := range fc.Args {
		if containsAgg(n, a.in.fns) {
			return nil, errAt(location(n), "", "aggregate function calls cannot be nested")
		}
		e, err := a.in.bind(n)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	cast, ok := []engine.Expr(nil), false
	if len(args) == len(f.Args) {
		cast, ok = fitArgs(args, f.Args, fc.Location)
	}
	if !ok || len(cast) == 0 {
		return nil, errAt(fc.Location, "the udf is "+f.Signature()+"; cast the arguments, e.g. x::double", "function %s(%s) does not exist", f.Name, typeList(args))
	}
	spec := engine.AggSpec{Kind: engine.AggUDF, T: f.Returns, UDF: f.Aggregate, Policy: f.Policy}
	for _, e := range cast {
		spec.UDFArgs = append(spec.UDFArgs, len(a.args))
		a.args = append(a.args, e)
	}
	spec.Arg = spec.UDFArgs[0]
	spec.Name = fmt.Sprintf("_agg%d", len(a.aggs))
	idx := len(a.keys) + len(a.aggs)
	a.aggs = append(a.aggs, spec)
	return &engine.ColRef{Index: idx, Name: spec.Name, T: spec.T}, nil
}

// from binds a FROM list. Comma-separated relations are joined on the
// equality conjuncts of WHERE between them (join key extraction); the
// conjuncts not used as join keys are returned for the filter.
func (b *binder) from(items []*pg.Node, conj []*pg.Node) (*rel, *scope, []*pg.Node, error) {
	r, sc, conj, err := b.fromItem(items[0], conj, true, true)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, it := range items[1:] {
		r2, sc2, rest, err := b.fromItem(it, conj, true, true)
		if err != nil {
			return nil, nil, nil, err
		}
		conj = rest
		var lk, rk []int
		rest = nil
		for _, c := range conj {
			if l, rr, ok := equiKey(c, sc, sc2); ok {
				lk, rk = append(lk, l), append(rk, rr)
				continue
			}
			rest = append(rest, c)
		}
		if len(lk) == 0 {
			return nil, nil, nil, unsupported(location(it), "a cross join (no equality condition between the relations in FROM)")
		}
		// Predicate push-down: conditions on one side filter it before the join.
		r, r2, rest = pushDown(r, r2, sc, sc2, rest, true, true)
		r = joinRel(engine.JoinInner, r, r2, lk, rk)
		sc, conj = sc.concat(sc2), rest
	}
	return r, sc, conj, nil
}

// pushDown moves the conjuncts that read only one side of a join below it,
// as a filter on that side, where the join kind allows (a WHERE condition on
// the NULL-extended side of an outer join must stay above it). It returns
// the conjuncts left for above the join.
func pushDown(l, r *rel, lsc, rsc *scope, conj []*pg.Node, left, right bool) (*rel, *rel, []*pg.Node) {
	if !left && !right {
		return l, r, conj
	}
	both := lsc.concat(rsc)
	w := lsc.width()
	var lp, rp engine.Expr
	var rest []*pg.Node
	for _, c := range conj {
		if containsAgg(c, lsc.fns) {
			rest = append(rest, c)
			continue
		}
		e, err := both.bind(c)
		if err != nil || e.Type().Name != core.Boolean.Name {
			rest = append(rest, c) // reported where it is bound for good
			continue
		}
		lo, hi, ok := refRange(e)
		switch {
		case !ok:
			rest = append(rest, c)
		case left && hi < w:
			lp = and(lp, e)
		case right && lo >= w:
			rp = and(rp, shiftRefs(e, -w))
		default:
			rest = append(rest, c)
		}
	}
	if lp != nil {
		l = filterRel(l, lp)
	}
	if rp != nil {
		r = filterRel(r, rp)
	}
	return l, r, rest
}

// and conjoins two predicates (a may be nil), folding constants.
func and(a, b engine.Expr) engine.Expr {
	if a == nil {
		return b
	}
	return fold(&engine.Binary{Op: engine.OpAnd, L: a, R: b, T: core.Boolean})
}

// refRange returns the smallest and largest column index e reads; ok is
// false when e reads no column or holds a node refRange does not know.
func refRange(e engine.Expr) (lo, hi int, ok bool) {
	lo, hi = 1<<30, -1
	known := true
	var walk func(engine.Expr)
	walk = func(e engine.Expr) {
		switch x := e.(type) {
		case *engine.ColRef:
			lo, hi = min(lo, x.Index), max(hi, x.Index)
		case *engine.Const:
		case *engine.Binary:
			walk(x.L)
			walk(x.R)
		case *engine.Unary:
			walk(x.X)
		case *engine.Cast:
			walk(x.X)
		default:
			known = false
		}
	}
	walk(e)
	return lo, hi, known && hi >= 0
}

// shiftRefs returns e with every column index moved by d.
func shiftRefs(e engine.Expr, d int) engine.Expr {
	switch x := e.(type) {
	case *engine.ColRef:
		return &engine.ColRef{Index: x.Index + d, Name: x.Name, T: x.T}
	case *engine.Binary:
		return &engine.Binary{Op: x.Op, L: shiftRefs(x.L, d), R: shiftRefs(x.R, d), T: x.T}
	case *engine.Unary:
		return &engine.Unary{Op: x.Op, X: shiftRefs(x.X, d), T: x.T}
	case *engine.Cast:
		return &engine.Cast{X: shiftRefs(x.X, d), T: x.T}
	}
	return e
}

// equiKey recognises left.col = right.col (either order) with compatible
// types and returns the column indexes in each side.
func equiKey(c *pg.Node, l, r *scope) (int, int, bool) {
	ae := c.GetAExpr()
	if ae == nil || ae.Kind != pg.A_Expr_Kind_AEXPR_OP || len(ae.Name) != 1 || ae.Name[0].GetString_().GetSval() != "=" {
		return 0, 0, false
	}
	try := func(x, y *pg.Node) (int, int, bool) {
		if x.GetColumnRef() == nil || y.GetColumnRef() == nil {
			return 0, 0, false
		}
		le, err1 := l.column(x.GetColumnRef())
		re, err2 := r.column(y.GetColumnRef())
		if err1 != nil || err2 != nil {
			return 0, 0, false
		}
		lc, rc := le.(*engine.ColRef), re.(*engine.ColRef)
		if !joinable(lc.T, rc.T) {
			return 0, 0, false
		}
		return lc.Index, rc.Index, true
	}
	if a, b, ok := try(ae.Lexpr, ae.Rexpr); ok {
		return a, b, true
	}
	return try(ae.Rexpr, ae.Lexpr)
}

// joinable: the join operator matches equal Arrow types, and integers of
// any width with each other.
func joinable(a, b core.Type) bool {
	if arrow.TypeEqual(a.Arrow, b.Arrow) {
		return true
	}
	ints := func(t core.Type) bool { return t.Arrow.ID() == arrow.INT32 || t.Arrow.ID() == arrow.INT64 }
	return ints(a) && ints(b)
}

func joinRel(kind engine.JoinKind, l, r *rel, lk, rk []int) *rel {
	return joinRelTB(kind, l, r, lk, rk, nil, "", "")
}

// joinRelTB is joinRel for an interval join when tb is set.
func joinRelTB(kind engine.JoinKind, l, r *rel, lk, rk []int, tb *engine.TimeBound, lname, rname string) *rel {
	cols := append(append([]core.Column(nil), l.cols...), r.cols...)
	return &rel{cols: cols, node: &lop{ins: []*rel{l, r}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		j, err := engine.NewJoin(mem, kind, s[0], s[1], lk, rk)
		if err == nil && tb != nil {
			b := *tb
			j.SetTimeBound(&b, lname, rname)
		}
		return j, err
	}}}
}

// timeBound recognises an interval join's condition among the (bound)
// residual predicates of an inner join whose left side has w columns:
// right.ts - left.ts between two constants, written with >=, <=, BETWEEN
// and +/- INTERVAL.
func timeBound(preds []engine.Expr, w int) *engine.TimeBound {
	type lin struct {
		idx int
		off int64
	}
	var parse func(e engine.Expr) (lin, bool)
	parse = func(e engine.Expr) (lin, bool) {
		switch x := e.(type) {
		case *engine.ColRef:
			if x.T.Arrow.ID() != arrow.TIMESTAMP {
				return lin{}, false
			}
			return lin{idx: x.Index}, true
		case *engine.Binary:
			if x.Op != engine.OpAdd && x.Op != engine.OpSub {
				return lin{}, false
			}
			l, ok := parse(x.L)
			c, isConst := x.R.(*engine.Const)
			if !ok || !isConst {
				return lin{}, false
			}
			iv, ok := c.Value.(arrow.MonthDayNanoInterval)
			if !ok || iv.Months != 0 {
				return lin{}, false
			}
			us := int64(iv.Days)*86_400_000_000 + iv.Nanoseconds/1000
			if x.Op == engine.OpSub {
				us = -us
			}
			return lin{idx: l.idx, off: l.off + us}, true
		}
		return lin{}, false
	}
	var flat []engine.Expr
	var split func(e engine.Expr)
	split = func(e engine.Expr) {
		if b, ok := e.(*engine.Binary); ok && b.Op == engine.OpAnd {
			split(b.L)
			split(b.R)
			return
		}
		flat = append(flat, e)
	}
	for _, p := range preds {
		split(p)
	}
	var tb engine.TimeBound
	haveLo, haveHi := false, false
	for _, p := range flat {
		b, ok := p.(*engine.Binary)
		if !ok || !(b.Op == engine.OpGe || b.Op == engine.OpGt || b.Op == engine.OpLe || b.Op == engine.OpLt) {
			continue
		}
		a, ok1 := parse(b.L)
		c, ok2 := parse(b.R)
		if !ok1 || !ok2 {
			continue
		}
		ge := b.Op == engine.OpGe || b.Op == engine.OpGt
		// a.ts + a.off op c.ts + c.off
		var lt, rt int
		var k int64 // right - left op' k
		switch {
		case a.idx >= w && c.idx < w: // right op left
			rt, lt, k = a.idx-w, c.idx, c.off-a.off
		case a.idx < w && c.idx >= w: // left op right: flip
			lt, rt, k = a.idx, c.idx-w, a.off-c.off
			ge = !ge
		default:
			continue
		}
		if (haveLo || haveHi) && (tb.LeftTs != lt || tb.RightTs != rt) {
			return nil // bounds on different columns: not one interval
		}
		tb.LeftTs, tb.RightTs = lt, rt
		if ge {
			if !haveLo || k > tb.Lower {
				tb.Lower = k
			}
			haveLo = true
		} else {
			if !haveHi || k < tb.Upper {
				tb.Upper = k
			}
			haveHi = true
		}
	}
	if !haveLo || !haveHi || tb.Lower > tb.Upper {
		return nil
	}
	return &tb
}

// fromItem binds one FROM item: a relation, a subquery or a JOIN. conj are
// WHERE conjuncts a JOIN may push below itself (left/right say which sides
// may take them); the rest are returned.
func (b *binder) fromItem(n *pg.Node, conj []*pg.Node, left, right bool) (*rel, *scope, []*pg.Node, error) {
	if j := n.GetJoinExpr(); j != nil {
		return b.join(j, conj, left, right)
	}
	r, sc, err := b.fromLeaf(n)
	return r, sc, conj, err
}

// fromLeaf binds a relation, a subquery or a table function.
func (b *binder) fromLeaf(n *pg.Node) (*rel, *scope, error) {
	switch x := n.Node.(type) {
	case *pg.Node_RangeVar:
		rv := x.RangeVar
		if rv.Schemaname != "" {
			return nil, nil, unsupported(rv.Location, "schema-qualified relation names")
		}
		r, ok := b.lookup(rv.Relname)
		if !ok {
			return nil, nil, errAt(rv.Location, hintName(rv.Relname, b.names(), "relations"), "relation %q does not exist", rv.Relname)
		}
		name := rv.Relname
		if rv.Alias != nil {
			name = rv.Alias.Aliasname
			var err error
			if r, err = renameCols(r, rv.Alias.Colnames, rv.Location); err != nil {
				return nil, nil, err
			}
		}
		return r, &scope{fns: b.fns, entries: []scopeEntry{{name: name, cols: r.cols}}}, nil
	case *pg.Node_RangeSubselect:
		rs := x.RangeSubselect
		if rs.Lateral {
			return nil, nil, unsupported(-1, "LATERAL")
		}
		sel := rs.Subquery.GetSelectStmt()
		if sel == nil {
			return nil, nil, unsupported(-1, "this subquery")
		}
		r, err := b.query(sel)
		if err != nil {
			return nil, nil, err
		}
		name := "subquery"
		if rs.Alias != nil {
			name = rs.Alias.Aliasname
			if r, err = renameCols(r, rs.Alias.Colnames, -1); err != nil {
				return nil, nil, err
			}
		}
		return r, &scope{fns: b.fns, entries: []scopeEntry{{name: name, cols: r.cols}}}, nil
	case *pg.Node_RangeFunction:
		return b.windowFunc(x.RangeFunction)
	}
	return nil, nil, unsupported(location(n), describe(n))
}

func (b *binder) join(j *pg.JoinExpr, where []*pg.Node, wl, wr bool) (*rel, *scope, []*pg.Node, error) {
	if j.IsNatural {
		return nil, nil, nil, unsupported(location(j.Larg), "NATURAL JOIN (name the columns with USING or ON)")
	}
	kinds := map[pg.JoinType]engine.JoinKind{
		pg.JoinType_JOIN_INNER: engine.JoinInner, pg.JoinType_JOIN_LEFT: engine.JoinLeft,
		pg.JoinType_JOIN_RIGHT: engine.JoinRight, pg.JoinType_JOIN_FULL: engine.JoinFull,
	}
	kind, ok := kinds[j.Jointype]
	if !ok {
		return nil, nil, nil, unsupported(location(j.Larg), strings.TrimPrefix(j.Jointype.String(), "JOIN_")+" JOIN")
	}
	// WHERE conjuncts may go below this join on the sides that keep all
	// their rows' meaning: both for INNER, the preserved side of an outer join.
	pl := wl && (kind == engine.JoinInner || kind == engine.JoinLeft)
	pr := wr && (kind == engine.JoinInner || kind == engine.JoinRight)
	l, lsc, where, err := b.fromItem(j.Larg, where, pl, pl)
	if err != nil {
		return nil, nil, nil, err
	}
	r, rsc, where, err := b.fromItem(j.Rarg, where, pr, pr)
	if err != nil {
		return nil, nil, nil, err
	}
	var lk, rk []int
	var rest []*pg.Node
	if len(j.UsingClause) > 0 {
		if kind == engine.JoinFull {
			return nil, nil, nil, unsupported(location(j.Larg), "FULL JOIN .. USING (write ON l.x = r.x)")
		}
		hidden := map[int]bool{}
		for _, u := range j.UsingClause {
			name := u.GetString_().GetSval()
			cr := &pg.ColumnRef{Fields: []*pg.Node{{Node: &pg.Node_String_{String_: &pg.String{Sval: name}}}}, Location: -1}
			le, err1 := lsc.column(cr)
			re, err2 := rsc.column(cr)
			if err1 != nil || err2 != nil {
				return nil, nil, nil, errAt(location(j.Larg), "", "column %q named in USING must exist on both sides of the join", name)
			}
			lc, rc := le.(*engine.ColRef), re.(*engine.ColRef)
			if !joinable(lc.T, rc.T) {
				return nil, nil, nil, errAt(location(j.Larg), "cast one side in a subquery", "JOIN USING (%s): types %s and %s differ", name, lc.T.Name, rc.T.Name)
			}
			lk, rk = append(lk, lc.Index), append(rk, rc.Index)
			hidden[rc.Index] = true
		}
		// The merged column is found once: on the left, or on the right for
		// a RIGHT JOIN (where the left one may be NULL).
		if kind == engine.JoinRight {
			rsc, lsc = hideCols(rsc, nil), hideCols(lsc, lk)
		} else {
			rsc = hideCols(rsc, rk)
		}
	} else if j.Quals != nil {
		for _, c := range conjuncts(j.Quals) {
			if a, bb, ok := equiKey(c, lsc, rsc); ok {
				lk, rk = append(lk, a), append(rk, bb)
				continue
			}
			rest = append(rest, c)
		}
	}
	if len(lk) == 0 {
		return nil, nil, nil, unsupported(location(j.Larg), "a join without an equality condition between its sides")
	}
	if kind == engine.JoinInner {
		l, r, rest = pushDown(l, r, lsc, rsc, rest, true, true)
	}
	if j.Alias == nil {
		l, r, where = pushDown(l, r, lsc, rsc, where, pl, pr)
	}
	sc := lsc.concat(rsc)
	out := joinRel(kind, l, r, lk, rk)
	if kind == engine.JoinInner && len(rest) > 0 {
		var preds []engine.Expr
		for _, c := range rest {
			if e, err := sc.bind(c); err == nil {
				preds = append(preds, e)
			}
		}
		if tb := timeBound(preds, lsc.width()); tb != nil {
			out = joinRelTB(kind, l, r, lk, rk, tb, lsc.entries[0].name, rsc.entries[0].name)
		}
	}
	if len(rest) > 0 {
		if kind != engine.JoinInner {
			return nil, nil, nil, unsupported(location(rest[0]), "a condition other than column equality in the ON of an outer join")
		}
		var pred engine.Expr
		for _, c := range rest {
			e, err := sc.bind(c)
			if err != nil {
				return nil, nil, nil, err
			}
			if e.Type().Name != core.Boolean.Name {
				return nil, nil, nil, errAt(location(c), "", "argument of JOIN/ON must be boolean, not %s", e.Type().Name)
			}
			if pred == nil {
				pred = e
			} else {
				pred = &engine.Binary{Op: engine.OpAnd, L: pred, R: e, T: core.Boolean}
			}
		}
		out = filterRel(out, pred)
	}
	if j.Alias != nil {
		// (a JOIN b) AS x: one entry named x over all columns.
		cols := out.cols
		sc = &scope{fns: b.fns, entries: []scopeEntry{{name: j.Alias.Aliasname, cols: cols}}}
	}
	return out, sc, where, nil
}

// hideCols returns s with the given columns (indexes in s) hidden from
// unqualified names.
func hideCols(s *scope, idx []int) *scope {
	out := &scope{fns: s.fns}
	for _, e := range s.entries {
		h := map[int]bool{}
		for k, v := range e.hidden {
			h[k] = v
		}
		for _, i := range idx {
			if i >= e.off && i < e.off+len(e.cols) {
				h[i-e.off] = true
			}
		}
		e.hidden = h
		out.entries = append(out.entries, e)
	}
	return out
}
