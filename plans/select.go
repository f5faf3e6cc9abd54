package plans

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"
	pgquery "github.com/wasilibs/go-pgquery"
	pgparser "github.com/wasilibs/go-pgquery/parser"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// Catalog resolves relation names (sources and views) to their columns.
type Catalog map[string][]core.Column

// ViewPlan is a bound view: its output columns and key, and the logical
// operator tree that Build turns into a dataflow.
type ViewPlan struct {
	// Columns are the view's output columns.
	Columns []core.Column
	// Key names the output columns forming a primary key (the GROUP BY
	// columns when all are selected, every column after DISTINCT); empty
	// for a multiset of rows.
	Key  []string
	root lnode
}

// Plan parses and binds sql, a single query, against cat.
func Plan(sql string, cat Catalog, opts ...Option) (*ViewPlan, error) {
	eowc, eowcPos := false, -1
	if loc := emitOnClose.FindStringIndex(sql); loc != nil {
		eowc, eowcPos = true, loc[0]
		sql = sql[:loc[0]]
	}
	tree, err := pgquery.Parse(sql)
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) {
			return nil, &Error{Pos: pe.Cursorpos - 1, Msg: "syntax error: " + pe.Message, Hint: "check the SQL near this position"}
		}
		return nil, &Error{Pos: -1, Msg: "syntax error: " + err.Error()}
	}
	if len(tree.Stmts) != 1 {
		return nil, &Error{Pos: -1, Msg: fmt.Sprintf("a view is one SELECT statement, got %d statements", len(tree.Stmts)), Hint: "remove the extra statements"}
	}
	raw := tree.Stmts[0]
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil {
		return nil, &Error{Pos: int(raw.StmtLocation), Msg: "a view must be a SELECT statement", Hint: "write SELECT .. FROM source .."}
	}
	b := &binder{cat: cat, emitOnClose: eowc}
	for _, o := range opts {
		o(b)
	}
	r, err := b.query(sel)
	if err != nil {
		return nil, err
	}
	for _, rk := range b.ranks {
		if rk.limit <= 0 {
			return nil, &Error{Pos: int(rk.pos), Msg: "ROW_NUMBER() in a view needs the enclosing query to keep its first rows", Hint: "SELECT .. FROM (SELECT .., ROW_NUMBER() OVER (..) AS rn FROM ..) WHERE rn <= 10"}
		}
	}
	if eowc && !b.closedAgg {
		return nil, &Error{Pos: eowcPos, Msg: "EMIT ON WINDOW CLOSE needs an aggregate grouped by window_start or window_end", Hint: "GROUP BY window_start over TUMBLE(..) or HOP(..)"}
	}
	seen := map[string]bool{}
	for _, c := range r.cols {
		if seen[c.Name] {
			return nil, &Error{Pos: -1, Msg: fmt.Sprintf("duplicate output column name %q", c.Name), Hint: "give each output column its own name with AS"}
		}
		seen[c.Name] = true
	}
	p := &ViewPlan{Columns: r.cols, root: r.node}
	for _, k := range r.key {
		p.Key = append(p.Key, r.cols[k].Name)
	}
	return p, nil
}

// Build returns a fresh dataflow computing the view.
func (p *ViewPlan) Build(mem memory.Allocator) (*engine.Dataflow, error) {
	in, err := p.root.build(mem)
	if err != nil {
		return nil, err
	}
	if in.Node == nil {
		// SELECT * FROM src: an identity projection carries the rows.
		exprs := make([]engine.Expr, len(p.Columns))
		names := make([]string, len(p.Columns))
		for i, c := range p.Columns {
			exprs[i] = &engine.ColRef{Index: i, Name: c.Name, T: c.Type}
			names[i] = c.Name
		}
		in = engine.Input{Node: &engine.Node{Op: engine.NewProject(mem, exprs, names), Inputs: []engine.Input{in}}}
	}
	return engine.NewDataflow(in.Node)
}

// Inputs lists the relations the view reads.
func (p *ViewPlan) Inputs() []string {
	d, err := p.Build(memory.NewGoAllocator())
	if err != nil {
		return nil
	}
	defer d.Close()
	return d.Inputs()
}

// Explain renders the operator tree, root first.
func (p *ViewPlan) Explain() string {
	d, err := p.Build(memory.NewGoAllocator())
	if err != nil {
		return "error: " + err.Error()
	}
	defer d.Close()
	return d.Explain()
}

// lnode is a node of the logical plan; build makes fresh operators.
type lnode interface {
	build(mem memory.Allocator) (engine.Input, error)
}

type lscan struct{ name string }

func (s *lscan) build(memory.Allocator) (engine.Input, error) {
	return engine.Input{Relation: s.name}, nil
}

// lop is an operator over inputs; mk receives the inputs' changelog schemas.
type lop struct {
	ins []*rel
	mk  func(mem memory.Allocator, in []*arrow.Schema) (engine.Operator, error)
}

func (o *lop) build(mem memory.Allocator) (engine.Input, error) {
	n := &engine.Node{}
	schemas := make([]*arrow.Schema, len(o.ins))
	for i, r := range o.ins {
		in, err := r.node.build(mem)
		if err != nil {
			return engine.Input{}, err
		}
		n.Inputs = append(n.Inputs, in)
		schemas[i] = core.ChangelogSchema(core.ArrowSchema(r.cols))
	}
	op, err := o.mk(mem, schemas)
	if err != nil {
		return engine.Input{}, err
	}
	n.Op = op
	return engine.Input{Node: n}, nil
}

// rel is a bound relation: a plan node, its output columns, and the
// indexes of columns known to form a unique key (nil when none).
type rel struct {
	node lnode
	cols []core.Column
	key  []int
	win  *winInfo  // set when the columns include a window's bounds
	rank *rankInfo // set when a column is a ROW_NUMBER()
	sess *sessInfo // set for a SESSION(..) relation, until its aggregate
}

func filterRel(in *rel, pred engine.Expr) *rel {
	return &rel{cols: in.cols, key: in.key, win: in.win, rank: in.rank, sess: in.sess, node: &lop{ins: []*rel{in}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		return engine.NewFilter(mem, s[0], pred), nil
	}}}
}

func projectRel(in *rel, exprs []engine.Expr, names []string) *rel {
	cols := make([]core.Column, len(exprs))
	for i, e := range exprs {
		cols[i] = core.Column{Name: names[i], Type: e.Type()}
	}
	// A key survives when all its columns are projected as plain columns.
	var key []int
	if len(in.key) > 0 {
		for _, k := range in.key {
			found := -1
			for i, e := range exprs {
				if cr, ok := e.(*engine.ColRef); ok && cr.Index == k {
					found = i
					break
				}
			}
			if found < 0 {
				key = nil
				break
			}
			key = append(key, found)
		}
	}
	var win *winInfo
	if in.win != nil {
		w := *in.win
		w.start, w.end = -1, -1
		for i, e := range exprs {
			if cr, ok := e.(*engine.ColRef); ok {
				if cr.Index == in.win.start && w.start < 0 {
					w.start = i
				}
				if cr.Index == in.win.end && w.end < 0 {
					w.end = i
				}
			}
		}
		if w.start >= 0 || w.end >= 0 {
			win = &w
		}
	}
	return &rel{cols: cols, key: key, win: win, node: &lop{ins: []*rel{in}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		return engine.NewProject(mem, exprs, names).WithInputWidth(s[0].NumFields()), nil
	}}}
}

// binder binds one view's query.
type binder struct {
	cat         Catalog
	fns         Functions
	ctes        []map[string]*rel // innermost last
	emitOnClose bool              // EMIT ON WINDOW CLOSE was given
	closedAgg   bool              // an aggregate took the clause
	ranks       []*rankInfo       // every ROW_NUMBER(), to check each got a limit
}

func (b *binder) lookup(name string) (*rel, bool) {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if r, ok := b.ctes[i][name]; ok {
			return r, true
		}
	}
	if cols, ok := b.cat[name]; ok {
		return &rel{node: &lscan{name: name}, cols: cols}, true
	}
	return nil, false
}

func (b *binder) names() []string {
	var out []string
	for _, m := range b.ctes {
		for n := range m {
			out = append(out, n)
		}
	}
	return append(out, catNames(b.cat)...)
}

// query binds a SELECT, a set operation or a WITH query.
func (b *binder) query(sel *pg.SelectStmt) (*rel, error) {
	if w := sel.WithClause; w != nil {
		if w.Recursive {
			return nil, unsupported(w.Location, "WITH RECURSIVE")
		}
		b.ctes = append(b.ctes, map[string]*rel{})
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
		for _, c := range w.Ctes {
			cte := c.GetCommonTableExpr()
			q := cte.Ctequery.GetSelectStmt()
			if q == nil {
				return nil, unsupported(cte.Location, "a data-modifying statement in WITH")
			}
			r, err := b.query(q)
			if err != nil {
				return nil, err
			}
			r, err = renameCols(r, cte.Aliascolnames, cte.Location)
			if err != nil {
				return nil, err
			}
			b.ctes[len(b.ctes)-1][cte.Ctename] = r
		}
	}
	switch sel.Op {
	case pg.SetOperation_SETOP_NONE:
		return b.selectCore(sel)
	case pg.SetOperation_SETOP_UNION:
		return b.union(sel)
	}
	return nil, unsupported(-1, strings.TrimPrefix(sel.Op.String(), "SETOP_"))
}

func renameCols(r *rel, aliases []*pg.Node, pos int32) (*rel, error) {
	if len(aliases) == 0 {
		return r, nil
	}
	if len(aliases) > len(r.cols) {
		return nil, errAt(pos, "", "%d column names given for a query with %d columns", len(aliases), len(r.cols))
	}
	cols := append([]core.Column(nil), r.cols...)
	for i, a := range aliases {
		if s := a.GetString_(); s != nil {
			cols[i].Name = s.Sval
		}
	}
	return &rel{node: r.node, cols: cols, key: r.key, win: r.win, rank: r.rank}, nil
}

// union binds UNION [ALL]: inputs are cast to common column types.
func (b *binder) union(sel *pg.SelectStmt) (*rel, error) {
	if len(sel.SortClause) > 0 || sel.LimitCount != nil {
		return nil, unsupported(-1, "ORDER BY/LIMIT on a UNION in a view")
	}
	l, err := b.query(sel.Larg)
	if err != nil {
		return nil, err
	}
	r, err := b.query(sel.Rarg)
	if err != nil {
		return nil, err
	}
	if len(l.cols) != len(r.cols) {
		return nil, &Error{Pos: -1, Msg: fmt.Sprintf("each UNION query must have the same number of columns (%d and %d)", len(l.cols), len(r.cols))}
	}
	// Common types, then casting projections where needed.
	types := make([]core.Type, len(l.cols))
	for i := range l.cols {
		le, re, err := unify(&engine.ColRef{Index: i, Name: l.cols[i].Name, T: l.cols[i].Type}, &engine.ColRef{Index: i, Name: r.cols[i].Name, T: r.cols[i].Type}, -1, "UNION")
		if err != nil {
			return nil, &Error{Pos: -1, Msg: fmt.Sprintf("UNION types %s and %s cannot be matched", l.cols[i].Type.Name, r.cols[i].Type.Name), Hint: "cast one side explicitly"}
		}
		_ = re
		types[i] = le.Type()
	}
	conform := func(in *rel) *rel {
		same := true
		exprs := make([]engine.Expr, len(in.cols))
		names := make([]string, len(in.cols))
		for i, c := range in.cols {
			var e engine.Expr = &engine.ColRef{Index: i, Name: c.Name, T: c.Type}
			if !arrow.TypeEqual(c.Type.Arrow, types[i].Arrow) {
				e = &engine.Cast{X: e, T: types[i]}
				same = false
			}
			exprs[i], names[i] = e, l.cols[i].Name
		}
		if same {
			return in
		}
		return projectRel(in, exprs, names)
	}
	l, r = conform(l), conform(r)
	cols := make([]core.Column, len(l.cols))
	for i, c := range l.cols {
		cols[i] = core.Column{Name: c.Name, Type: types[i]}
	}
	u := &rel{cols: cols, node: &lop{ins: []*rel{l, r}, mk: func(_ memory.Allocator, _ []*arrow.Schema) (engine.Operator, error) {
		return engine.NewUnion(core.ChangelogSchema(core.ArrowSchema(cols)), 2), nil
	}}}
	if !sel.All {
		return distinctRel(u)
	}
	return u, nil
}

// distinctRel keeps one copy of every row: a GROUP BY over all columns.
func distinctRel(in *rel) (*rel, error) {
	keys := make([]int, len(in.cols))
	names := make([]string, len(in.cols))
	for i, c := range in.cols {
		keys[i], names[i] = i, c.Name
	}
	return &rel{cols: in.cols, key: keys, node: &lop{ins: []*rel{in}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		return engine.NewGroupAgg(mem, s[0], keys, names, nil)
	}}}, nil
}

// selectCore binds SELECT .. FROM .. WHERE .. GROUP BY .. HAVING.
func (b *binder) selectCore(sel *pg.SelectStmt) (*rel, error) {
	switch {
	case len(sel.ValuesLists) > 0:
		return nil, unsupported(-1, "VALUES")
	case len(sel.WindowClause) > 0:
		return nil, unsupported(-1, "WINDOW")
	case len(sel.SortClause) > 0:
		pos := int32(-1)
		if sb := sel.SortClause[0].GetSortBy(); sb != nil {
			pos = location(sb.Node)
		}
		return nil, errAt(pos, "a view is a set of rows; order when you query it, or keep the top rows per group with ROW_NUMBER() OVER (..) <= N", "ORDER BY in a view is not supported")
	case sel.LimitCount != nil || sel.LimitOffset != nil:
		return nil, unsupported(location(sel.LimitCount), "LIMIT/OFFSET in a view")
	case len(sel.FromClause) == 0:
		return nil, &Error{Pos: -1, Msg: "a view must read a source: FROM is missing", Hint: "add FROM <source>"}
	}
	var conj []*pg.Node
	if sel.WhereClause != nil {
		conj = conjuncts(sel.WhereClause)
	}
	all := conj
	in, sc, conj, err := b.from(sel.FromClause, conj)
	if err != nil {
		return nil, err
	}
	// Conditions pushed below a join were bound in its narrower scope;
	// bind them in the full one too, so an ambiguous name is still an error.
	for _, c := range all {
		if !containsAgg(c, b.fns) {
			if _, err := sc.bind(c); err != nil {
				return nil, err
			}
		}
	}
	takeRankLimit(in, sc, conj)
	if len(conj) > 0 {
		var pred engine.Expr
		for _, c := range conj {
			if containsAgg(c, b.fns) {
				return nil, errAt(location(c), "filter on aggregates with HAVING", "aggregate functions are not allowed in WHERE")
			}
			e, err := sc.bind(c)
			if err != nil {
				return nil, err
			}
			if e.Type().Name != core.Boolean.Name {
				return nil, errAt(location(c), "write a comparison, e.g. x > 0", "argument of WHERE must be boolean, not %s", e.Type().Name)
			}
			if in.sess != nil && (refersTo(e, in.sess.start) || refersTo(e, in.sess.end)) {
				return nil, errAt(location(c), "filter the session rows with HAVING, or in an enclosing query", "WHERE cannot use the window bounds of SESSION (they exist only after grouping)")
			}
			pred = and(pred, e)
		}
		if c, ok := pred.(*engine.Const); !ok || c.Value != true {
			in = filterRel(in, pred)
		}
	}
	var out *rel
	hasRowNumber := false
	for _, t := range sel.TargetList {
		if isRowNumber(t.GetResTarget().Val) {
			hasRowNumber = true
		}
	}
	if len(sel.GroupClause) > 0 || hasAggregate(sel.TargetList, b.fns) || sel.HavingClause != nil {
		if hasRowNumber {
			return nil, unsupported(-1, "ROW_NUMBER() in a GROUP BY query (aggregate in a subquery first)")
		}
		out, err = b.grouped(sel, in, sc)
	} else if hasRowNumber {
		out, err = b.rowNumber(sel, in, sc)
	} else if in.sess != nil {
		return nil, &Error{Pos: -1, Msg: "SESSION windows need GROUP BY window_start or window_end", Hint: "SELECT user_id, window_start, count(*) FROM SESSION(src, ts, INTERVAL '5' MINUTE) GROUP BY user_id, window_start"}
	} else {
		out, err = b.plain(sel, in, sc)
	}
	if err != nil {
		return nil, err
	}
	if len(sel.DistinctClause) > 0 {
		if d := sel.DistinctClause[0]; d != nil && d.Node != nil {
			return nil, unsupported(location(sel.DistinctClause[0]), "DISTINCT ON")
		}
		return distinctRel(out)
	}
	return out, nil
}

// plain binds the select list of a query without aggregation.
func (b *binder) plain(sel *pg.SelectStmt, in *rel, sc *scope) (*rel, error) {
	var exprs []engine.Expr
	var names []string
	// A table function in the select list runs first, as an operator that
	// appends its value to each row it yields; the item reads that column.
	tfAt, tf, err := tableTarget(sel.TargetList, b.fns)
	if err != nil {
		return nil, err
	}
	if tf != nil {
		rt := sel.TargetList[tfAt].GetResTarget()
		if in, err = tableFuncRel(in, sc, rt.Val.GetFuncCall(), tf, outputName(rt)); err != nil {
			return nil, err
		}
	}
	for i, t := range sel.TargetList {
		rt := t.GetResTarget()
		if i == tfAt {
			exprs, names = append(exprs, &engine.ColRef{Index: len(in.cols) - 1, Name: outputName(rt), T: tf.Returns}), append(names, outputName(rt))
			continue
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
			es, ns, err := sc.star(cr)
			if err != nil {
				return nil, err
			}
			exprs, names = append(exprs, es...), append(names, ns...)
			continue
		}
		e, err := sc.bind(rt.Val)
		if err != nil {
			return nil, err
		}
		exprs, names = append(exprs, e), append(names, outputName(rt))
	}
	if err := checkDup(sel, names); err != nil {
		return nil, err
	}
	return projectRel(in, exprs, names), nil
}

func checkDup(sel *pg.SelectStmt, names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		if seen[n] {
			pos := int32(-1)
			if i < len(sel.TargetList) {
				pos = location(sel.TargetList[i])
			}
			return errAt(pos, "give each output column its own name with AS", "duplicate output column name %q", n)
		}
		seen[n] = true
	}
	return nil
}

// grouped binds GROUP BY, aggregates and HAVING: a projection computing the
// keys and the aggregates' arguments, GroupAgg, the HAVING filter, and the
// select list over the keys and aggregates.
func (b *binder) grouped(sel *pg.SelectStmt, in *rel, sc *scope) (*rel, error) {
	ag := &aggScope{in: sc}
	for _, g := range sel.GroupClause {
		node := g
		if c := g.GetAConst(); c != nil {
			if iv, ok := c.Val.(*pg.A_Const_Ival); ok {
				n := int(iv.Ival.Ival)
				if n < 1 || n > len(sel.TargetList) {
					return nil, errAt(c.Location, fmt.Sprintf("the select list has %d items", len(sel.TargetList)), "GROUP BY position %d is not in select list", n)
				}
				node = sel.TargetList[n-1].GetResTarget().Val
			}
		}
		if containsAgg(node, b.fns) {
			return nil, errAt(location(g), "group by columns, not aggregates", "aggregate functions are not allowed in GROUP BY")
		}
		e, err := sc.bind(node)
		if err != nil {
			// GROUP BY an output alias (a Postgres extension).
			if cr := node.GetColumnRef(); cr != nil {
				if names := fieldNames(cr); len(names) == 1 {
					for _, t := range sel.TargetList {
						if rt := t.GetResTarget(); rt.Name == names[0] && !containsAgg(rt.Val, b.fns) {
							e, err = sc.bind(rt.Val)
							break
						}
					}
				}
			}
			if err != nil {
				return nil, err
			}
		}
		ag.keys = append(ag.keys, e)
		kn := fmt.Sprintf("_k%d", len(ag.keyNames))
		if cr, ok := e.(*engine.ColRef); ok {
			kn = cr.Name
		}
		ag.keyNames = append(ag.keyNames, kn)
	}
	var sessOther []engine.Expr
	if in.sess != nil {
		_, other, err := b.sessionAgg(in, ag)
		if err != nil {
			return nil, err
		}
		var otherNames []string
		for _, o := range other {
			for i, k := range ag.keys {
				if k == o {
					otherNames = append(otherNames, ag.keyNames[i])
				}
			}
		}
		sessOther = other
		ag.keys = append(append([]engine.Expr(nil), other...),
			&engine.ColRef{Index: in.sess.start, Name: "window_start", T: core.Timestamp},
			&engine.ColRef{Index: in.sess.end, Name: "window_end", T: core.Timestamp})
		ag.keyNames = append(otherNames, "window_start", "window_end")
	}
	var post []engine.Expr
	var names []string
	keyOut := make([]int, len(ag.keys))
	for i := range keyOut {
		keyOut[i] = -1
	}
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
			return nil, errAt(cr.Location, "list the GROUP BY columns and aggregates instead", "SELECT * is not allowed with GROUP BY")
		}
		e, err := ag.bind(rt.Val)
		if err != nil {
			return nil, err
		}
		if cr, ok := e.(*engine.ColRef); ok && cr.Index < len(ag.keys) && keyOut[cr.Index] < 0 {
			keyOut[cr.Index] = len(post)
		}
		post, names = append(post, e), append(names, outputName(rt))
	}
	var having engine.Expr
	if sel.HavingClause != nil {
		h, err := ag.bind(sel.HavingClause)
		if err != nil {
			return nil, err
		}
		if h.Type().Name != core.Boolean.Name {
			return nil, errAt(location(sel.HavingClause), "", "argument of HAVING must be boolean, not %s", h.Type().Name)
		}
		having = h
	}
	if err := checkDup(sel, names); err != nil {
		return nil, err
	}
	if in.sess != nil {
		return b.buildSession(in, ag, sessOther, post, names, having, keyOut)
	}
	// Keys, then aggregate arguments, over the input.
	pre := append(append([]engine.Expr(nil), ag.keys...), ag.args...)
	preRel := projectRel(in, pre, exprNames(pre))
	keys := make([]int, len(ag.keys))
	for i := range keys {
		keys[i] = i
	}
	aggs := ag.aggs
	for i := range aggs {
		if aggs[i].Arg >= 0 {
			aggs[i].Arg += len(ag.keys)
		}
		for j := range aggs[i].UDFArgs {
			aggs[i].UDFArgs[j] += len(ag.keys)
		}
	}
	aggCols := make([]core.Column, 0, len(keys)+len(aggs))
	for i, k := range ag.keys {
		aggCols = append(aggCols, core.Column{Name: ag.keyNames[i], Type: k.Type()})
	}
	for _, a := range aggs {
		aggCols = append(aggCols, core.Column{Name: a.Name, Type: a.T})
	}
	keyNames := ag.keyNames
	var wc *engine.WindowClose
	if in.win != nil {
		for i, k := range ag.keys {
			cr, ok := k.(*engine.ColRef)
			if !ok {
				continue
			}
			switch cr.Index {
			case in.win.start:
				wc = &engine.WindowClose{Key: i, Offset: in.win.size, Grace: in.win.grace}
			case in.win.end:
				wc = &engine.WindowClose{Key: i, Offset: 0, Grace: in.win.grace}
			}
			if wc != nil {
				break
			}
		}
	}
	if wc != nil && b.emitOnClose {
		wc.EmitOnClose = true
		b.closedAgg = true
	}
	aggRel := &rel{cols: aggCols, key: keys, node: &lop{ins: []*rel{preRel}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		g, err := engine.NewGroupAgg(mem, s[0], keys, keyNames, aggs)
		if err == nil && wc != nil {
			w := *wc
			g.SetWindow(&w)
		}
		return g, err
	}}}
	if len(keys) == 0 {
		aggRel.key = nil
	}
	if having != nil {
		aggRel = filterRel(aggRel, having)
	}
	out := projectRel(aggRel, post, names)
	for _, k := range keyOut {
		if k < 0 {
			out.key = nil
		}
	}
	return out, nil
}

// conjuncts splits an AND tree.
func conjuncts(n *pg.Node) []*pg.Node {
	if be := n.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_AND_EXPR {
		var out []*pg.Node
		for _, a := range be.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []*pg.Node{n}
}

// buildSession lowers a SESSION aggregation: a projection of the other keys,
// the event time and the aggregates' arguments, then SessionAgg.
func (b *binder) buildSession(in *rel, ag *aggScope, other []engine.Expr, post []engine.Expr, names []string, having engine.Expr, keyOut []int) (*rel, error) {
	ss := in.sess
	for _, a := range ag.aggs {
		if a.Kind == engine.AggUDF {
			return nil, unsupported(-1, "user-defined aggregates over SESSION windows")
		}
	}
	pre := append(append([]engine.Expr(nil), other...), &engine.ColRef{Index: ss.ts, Name: "ts", T: core.Timestamp})
	pre = append(pre, ag.args...)
	preRel := projectRel(in, pre, exprNames(pre))
	aggs := append([]engine.AggSpec(nil), ag.aggs...)
	for i := range aggs {
		if aggs[i].Arg >= 0 {
			aggs[i].Arg += len(other) + 1
		}
	}
	cols := make([]core.Column, 0, len(ag.keys)+len(aggs))
	for i, k := range ag.keys {
		cols = append(cols, core.Column{Name: ag.keyNames[i], Type: k.Type()})
	}
	for _, a := range aggs {
		cols = append(cols, core.Column{Name: a.Name, Type: a.T})
	}
	keys := make([]int, len(ag.keys))
	for i := range keys {
		keys[i] = i
	}
	eowc := b.emitOnClose
	if eowc {
		b.closedAgg = true
	}
	nk, keyNames := len(other), ag.keyNames[:len(other)]
	aggRel := &rel{cols: cols, key: keys, node: &lop{ins: []*rel{preRel}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
		return engine.NewSessionAgg(mem, s[0], nk, keyNames, ss.gap, ss.grace, aggs, eowc, ss.source)
	}}}
	if having != nil {
		aggRel = filterRel(aggRel, having)
	}
	out := projectRel(aggRel, post, names)
	for _, k := range keyOut {
		if k < 0 {
			out.key = nil
		}
	}
	return out, nil
}

// exprNames names computed columns: a column keeps its name, anything else
// is _cN.
func exprNames(es []engine.Expr) []string {
	out := make([]string, len(es))
	for i, e := range es {
		if cr, ok := e.(*engine.ColRef); ok {
			out[i] = cr.Name
		} else {
			out[i] = fmt.Sprintf("_c%d", i)
		}
	}
	return out
}
