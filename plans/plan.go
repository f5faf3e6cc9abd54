package plans

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"
	pgquery "github.com/wasilibs/go-pgquery"
	pgparser "github.com/wasilibs/go-pgquery/parser"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// Catalog resolves relation names (sources, later views) to their columns.
type Catalog map[string][]core.Column

// ViewPlan is a bound, lowered view: what it reads, what it outputs, and the
// operator chain that computes it.
type ViewPlan struct {
	// Input is the relation the view reads.
	Input string
	// Columns are the view's output columns.
	Columns []core.Column
	// Key names the output columns forming the primary key (the GROUP BY
	// columns when all are selected); empty for a multiset of rows.
	Key []string

	inSchema *arrow.Schema // the input relation's columns
	filter   engine.Expr   // nil: no WHERE
	// Without GROUP BY: the select list over the input.
	// With GROUP BY: pre = keys then aggregate arguments over the input,
	// aggs over pre, post = the select list over GroupAgg's output.
	pre, post []engine.Expr
	preNames  []string
	keyNames  []string
	aggs      []engine.AggSpec
	grouped   bool
	outNames  []string
}

// Plan parses and binds sql, a single SELECT, against cat.
func Plan(sql string, cat Catalog) (*ViewPlan, error) {
	tree, err := pgquery.Parse(sql)
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) {
			return nil, &Error{Pos: pe.Cursorpos - 1, Msg: "syntax error: " + pe.Message, Hint: "check the SQL near this position"}
		}
		return nil, &Error{Pos: -1, Msg: "syntax error: " + err.Error()}
	}
	if len(tree.Stmts) != 1 {
		return nil, &Error{Pos: -1, Msg: fmt.Sprintf("a view is one SELECT statement, got %d statements", len(tree.Stmts)), Hint: "remove the extra statements or the trailing semicolon's successor"}
	}
	raw := tree.Stmts[0]
	sel := raw.Stmt.GetSelectStmt()
	if sel == nil {
		return nil, &Error{Pos: int(raw.StmtLocation), Msg: "a view must be a SELECT statement", Hint: "write SELECT .. FROM source .."}
	}
	return planSelect(sel, cat)
}

func planSelect(sel *pg.SelectStmt, cat Catalog) (*ViewPlan, error) {
	switch {
	case sel.Op != pg.SetOperation_SETOP_NONE:
		return nil, unsupported(-1, strings.TrimPrefix(sel.Op.String(), "SETOP_"))
	case sel.WithClause != nil:
		return nil, unsupported(sel.WithClause.Location, "WITH (common table expressions)")
	case len(sel.ValuesLists) > 0:
		return nil, unsupported(-1, "VALUES")
	case len(sel.DistinctClause) > 0:
		return nil, unsupported(-1, "DISTINCT")
	case sel.HavingClause != nil:
		return nil, unsupported(location(sel.HavingClause), "HAVING")
	case len(sel.WindowClause) > 0:
		return nil, unsupported(-1, "WINDOW")
	case len(sel.SortClause) > 0:
		pos := int32(-1)
		if sb := sel.SortClause[0].GetSortBy(); sb != nil {
			pos = location(sb.Node)
		}
		return nil, unsupported(pos, "ORDER BY in a view")
	case sel.LimitCount != nil || sel.LimitOffset != nil:
		return nil, unsupported(-1, "LIMIT/OFFSET in a view")
	case len(sel.FromClause) == 0:
		return nil, &Error{Pos: -1, Msg: "a view must read a source: FROM is missing", Hint: "add FROM <source>"}
	case len(sel.FromClause) > 1:
		return nil, unsupported(location(sel.FromClause[1]), "a join (more than one relation in FROM)")
	}
	rv := sel.FromClause[0].GetRangeVar()
	if rv == nil {
		return nil, unsupported(location(sel.FromClause[0]), describe(sel.FromClause[0]))
	}
	name := rv.Relname
	cols, ok := cat[name]
	if !ok {
		return nil, errAt(rv.Location, hintName(name, catNames(cat), "sources"), "relation %q does not exist", name)
	}
	sc := &scope{rel: name, cols: cols}
	if rv.Alias != nil {
		sc.alias = rv.Alias.Aliasname
	}
	p := &ViewPlan{Input: name, inSchema: core.ArrowSchema(cols)}
	if sel.WhereClause != nil {
		f, err := sc.bind(sel.WhereClause)
		if err != nil {
			return nil, err
		}
		if f.Type().Name != core.Boolean.Name {
			return nil, errAt(location(sel.WhereClause), "write a comparison, e.g. x > 0", "argument of WHERE must be boolean, not %s", f.Type().Name)
		}
		p.filter = f
	}
	if len(sel.GroupClause) > 0 || hasAggregate(sel.TargetList) {
		if err := p.planGrouped(sel, sc); err != nil {
			return nil, err
		}
	} else {
		for _, t := range sel.TargetList {
			rt := t.GetResTarget()
			if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
				for i, c := range cols {
					p.post = append(p.post, &engine.ColRef{Index: i, Name: c.Name, T: c.Type})
					p.outNames = append(p.outNames, c.Name)
				}
				continue
			}
			e, err := sc.bind(rt.Val)
			if err != nil {
				return nil, err
			}
			p.post = append(p.post, e)
			p.outNames = append(p.outNames, outputName(rt))
		}
	}
	seen := map[string]bool{}
	for i, n := range p.outNames {
		if seen[n] {
			return nil, errAt(location(sel.TargetList[min(i, len(sel.TargetList)-1)]), "give each output column its own name with AS", "duplicate output column name %q", n)
		}
		seen[n] = true
		p.Columns = append(p.Columns, core.Column{Name: n, Type: p.post[i].Type()})
	}
	return p, nil
}

// planGrouped binds a GROUP BY (or global aggregate) query.
func (p *ViewPlan) planGrouped(sel *pg.SelectStmt, sc *scope) error {
	p.grouped = true
	var keyExprs []engine.Expr
	for _, g := range sel.GroupClause {
		node := g
		// GROUP BY 1 refers to the first select-list item.
		if c := g.GetAConst(); c != nil {
			if iv, ok := c.Val.(*pg.A_Const_Ival); ok {
				n := int(iv.Ival.Ival)
				if n < 1 || n > len(sel.TargetList) {
					return errAt(c.Location, fmt.Sprintf("the select list has %d items", len(sel.TargetList)), "GROUP BY position %d is not in select list", n)
				}
				node = sel.TargetList[n-1].GetResTarget().Val
			}
		}
		e, err := sc.bind(node)
		if err != nil {
			return err
		}
		if containsAgg(node) {
			return errAt(location(g), "group by columns, not aggregates", "aggregate functions are not allowed in GROUP BY")
		}
		keyExprs = append(keyExprs, e)
		p.pre = append(p.pre, e)
		kn := fmt.Sprintf("_k%d", len(p.keyNames))
		if cr, ok := e.(*engine.ColRef); ok {
			kn = cr.Name
		}
		p.keyNames = append(p.keyNames, kn)
		p.preNames = append(p.preNames, fmt.Sprintf("_k%d", len(p.preNames)))
	}
	ag := &aggScope{in: sc, keys: keyExprs, plan: p}
	keyOut := make([]bool, len(keyExprs))
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && isStar(cr) {
			return errAt(cr.Location, "list the GROUP BY columns and aggregates instead", "SELECT * is not allowed with GROUP BY")
		}
		e, err := ag.bind(rt.Val)
		if err != nil {
			return err
		}
		if cr, ok := e.(*engine.ColRef); ok && cr.Index < len(keyExprs) {
			if !keyOut[cr.Index] {
				keyOut[cr.Index] = true
				p.Key = append(p.Key, outputName(rt))
			}
		}
		p.post = append(p.post, e)
		p.outNames = append(p.outNames, outputName(rt))
	}
	for _, k := range keyOut {
		if !k {
			p.Key = nil // a key column is not selected: rows are not unique by what is shown
			break
		}
	}
	return nil
}

// Build returns a fresh operator chain computing the view.
func (p *ViewPlan) Build(mem memory.Allocator) (engine.Chain, error) {
	var ch engine.Chain
	if p.filter != nil {
		ch = append(ch, engine.NewFilter(mem, core.ChangelogSchema(p.inSchema), p.filter))
	}
	if !p.grouped {
		return append(ch, engine.NewProject(mem, p.post, p.outNames)), nil
	}
	pre := engine.NewProject(mem, p.pre, p.preNames)
	keys := make([]int, len(p.keyNames))
	for i := range keys {
		keys[i] = i
	}
	agg, err := engine.NewGroupAgg(mem, pre.Schema(), keys, p.keyNames, p.aggs)
	if err != nil {
		return nil, err
	}
	return append(ch, pre, agg, engine.NewProject(mem, p.post, p.outNames)), nil
}

// Explain renders the plan, one operator per line, source last.
func (p *ViewPlan) Explain() string {
	ch, err := p.Build(memory.NewGoAllocator())
	if err != nil {
		return "error: " + err.Error()
	}
	defer ch.Close()
	var b strings.Builder
	for i := len(ch) - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", len(ch)-1-i), ch[i].Explain())
	}
	fmt.Fprintf(&b, "%sScan %s\n", strings.Repeat("  ", len(ch)), p.Input)
	return b.String()
}

// scope binds expressions over the columns of one relation.
type scope struct {
	rel, alias string
	cols       []core.Column
}

func (s *scope) bind(n *pg.Node) (engine.Expr, error) {
	return bindExpr(n, s.column, func(fc *pg.FuncCall) (engine.Expr, error) {
		return nil, errAt(fc.Location, "aggregates go in the select list of a GROUP BY query", "aggregate functions are not allowed here")
	})
}

func (s *scope) column(cr *pg.ColumnRef) (engine.Expr, error) {
	names := fieldNames(cr)
	if names == nil {
		return nil, unsupported(cr.Location, "this column reference")
	}
	col := names[len(names)-1]
	if len(names) == 2 && names[0] != s.rel && names[0] != s.alias {
		return nil, errAt(cr.Location, fmt.Sprintf("the query reads %q", s.rel), "missing FROM-clause entry for table %q", names[0])
	}
	if len(names) > 2 {
		return nil, unsupported(cr.Location, "schema-qualified column names")
	}
	for i, c := range s.cols {
		if c.Name == col {
			return &engine.ColRef{Index: i, Name: c.Name, T: c.Type}, nil
		}
	}
	cn := make([]string, len(s.cols))
	for i, c := range s.cols {
		cn[i] = c.Name
	}
	return nil, errAt(cr.Location, hintName(col, cn, "columns of "+s.rel), "column %q does not exist", col)
}

// aggScope binds the select list of a grouped query over GroupAgg's output:
// the key columns, then the aggregates.
type aggScope struct {
	in   *scope
	keys []engine.Expr
	plan *ViewPlan
}

func (a *aggScope) bind(n *pg.Node) (engine.Expr, error) {
	if !containsAgg(n) {
		if e, err := a.in.bind(n); err == nil {
			for i, k := range a.keys {
				if k.String() == e.String() {
					return &engine.ColRef{Index: i, Name: a.plan.keyNames[i], T: k.Type()}, nil
				}
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
		for i, k := range a.keys {
			if k.String() == e.String() {
				return &engine.ColRef{Index: i, Name: a.plan.keyNames[i], T: k.Type()}, nil
			}
		}
		return nil, errAt(cr.Location, "add it to GROUP BY or wrap it in an aggregate such as sum()", "column %q must appear in the GROUP BY clause or be used in an aggregate function", e.(*engine.ColRef).Name)
	}, a.aggregate)
}

func (a *aggScope) aggregate(fc *pg.FuncCall) (engine.Expr, error) {
	name := funcName(fc)
	if fc.AggDistinct {
		return nil, unsupported(fc.Location, name+"(DISTINCT ..)")
	}
	if fc.AggFilter != nil {
		return nil, unsupported(fc.Location, "FILTER (WHERE ..) on an aggregate")
	}
	if fc.Over != nil {
		return nil, unsupported(fc.Location, "window functions (OVER)")
	}
	p := a.plan
	spec := engine.AggSpec{Kind: engine.AggKind(name), Arg: -1, T: core.Bigint}
	switch {
	case name == "count" && fc.AggStar:
		spec.Kind = engine.AggCountStar
	case name == "count" || name == "sum":
		if len(fc.Args) != 1 {
			return nil, errAt(fc.Location, "", "%s takes exactly one argument", name)
		}
		if containsAgg(fc.Args[0]) {
			return nil, errAt(location(fc.Args[0]), "", "aggregate function calls cannot be nested")
		}
		arg, err := a.in.bind(fc.Args[0])
		if err != nil {
			return nil, err
		}
		if name == "sum" {
			switch arg.Type().Arrow.ID() {
			case arrow.INT32, arrow.INT64:
			case arrow.FLOAT64:
				spec.T = core.Double
			default:
				return nil, errAt(fc.Location, "sum adds numbers", "function sum(%s) does not exist", arg.Type().Name)
			}
		}
		spec.Arg = len(p.pre)
		p.pre = append(p.pre, arg)
		p.preNames = append(p.preNames, fmt.Sprintf("_a%d", len(p.aggs)))
	default:
		return nil, unsupported(fc.Location, "aggregate "+name)
	}
	spec.Name = fmt.Sprintf("_agg%d", len(p.aggs))
	idx := len(a.keys) + len(p.aggs)
	p.aggs = append(p.aggs, spec)
	return &engine.ColRef{Index: idx, Name: spec.Name, T: spec.T}, nil
}

var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "bool_and": true, "bool_or": true, "string_agg": true, "array_agg": true}

func funcName(fc *pg.FuncCall) string {
	var parts []string
	for _, n := range fc.Funcname {
		if s := n.GetString_(); s != nil {
			parts = append(parts, s.Sval)
		}
	}
	if len(parts) > 0 && parts[0] == "pg_catalog" {
		parts = parts[1:]
	}
	return strings.ToLower(strings.Join(parts, "."))
}

func hasAggregate(targets []*pg.Node) bool {
	for _, t := range targets {
		if containsAgg(t) {
			return true
		}
	}
	return false
}

// containsAgg reports whether the expression tree calls an aggregate.
func containsAgg(n *pg.Node) bool {
	if n == nil {
		return false
	}
	switch x := n.Node.(type) {
	case *pg.Node_ResTarget:
		return containsAgg(x.ResTarget.Val)
	case *pg.Node_FuncCall:
		if aggregates[funcName(x.FuncCall)] && x.FuncCall.Over == nil {
			return true
		}
		for _, a := range x.FuncCall.Args {
			if containsAgg(a) {
				return true
			}
		}
	case *pg.Node_AExpr:
		return containsAgg(x.AExpr.Lexpr) || containsAgg(x.AExpr.Rexpr)
	case *pg.Node_BoolExpr:
		for _, a := range x.BoolExpr.Args {
			if containsAgg(a) {
				return true
			}
		}
	case *pg.Node_NullTest:
		return containsAgg(x.NullTest.Arg)
	case *pg.Node_TypeCast:
		return containsAgg(x.TypeCast.Arg)
	}
	return false
}

func isStar(cr *pg.ColumnRef) bool {
	for _, f := range cr.Fields {
		if f.GetAStar() != nil {
			return true
		}
	}
	return false
}

func fieldNames(cr *pg.ColumnRef) []string {
	var out []string
	for _, f := range cr.Fields {
		s := f.GetString_()
		if s == nil {
			return nil
		}
		out = append(out, s.Sval)
	}
	return out
}

func outputName(rt *pg.ResTarget) string {
	if rt.Name != "" {
		return rt.Name
	}
	switch x := rt.Val.Node.(type) {
	case *pg.Node_ColumnRef:
		if ns := fieldNames(x.ColumnRef); len(ns) > 0 {
			return ns[len(ns)-1]
		}
	case *pg.Node_FuncCall:
		return funcName(x.FuncCall)
	case *pg.Node_TypeCast:
		return outputName(&pg.ResTarget{Val: x.TypeCast.Arg})
	}
	return "?column?"
}

// bindExpr binds a scalar expression; columns and aggregate calls are
// resolved by the callbacks, so the same walk serves both scopes.
func bindExpr(n *pg.Node, col func(*pg.ColumnRef) (engine.Expr, error), agg func(*pg.FuncCall) (engine.Expr, error)) (engine.Expr, error) {
	rec := func(m *pg.Node) (engine.Expr, error) { return bindExpr(m, col, agg) }
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if isStar(x.ColumnRef) {
			return nil, errAt(x.ColumnRef.Location, "", "* is only allowed alone in the select list or in count(*)")
		}
		return col(x.ColumnRef)
	case *pg.Node_AConst:
		return bindConst(x.AConst)
	case *pg.Node_AExpr:
		return bindAExpr(x.AExpr, rec)
	case *pg.Node_BoolExpr:
		b := x.BoolExpr
		args := make([]engine.Expr, len(b.Args))
		for i, a := range b.Args {
			e, err := rec(a)
			if err != nil {
				return nil, err
			}
			if e.Type().Name != core.Boolean.Name {
				return nil, errAt(location(a), "", "argument of %s must be boolean, not %s", b.Boolop.String()[:len(b.Boolop.String())-5], e.Type().Name)
			}
			args[i] = e
		}
		switch b.Boolop {
		case pg.BoolExprType_NOT_EXPR:
			return &engine.Unary{Op: engine.OpNot, X: args[0], T: core.Boolean}, nil
		case pg.BoolExprType_AND_EXPR, pg.BoolExprType_OR_EXPR:
			op := engine.OpAnd
			if b.Boolop == pg.BoolExprType_OR_EXPR {
				op = engine.OpOr
			}
			e := args[0]
			for _, a := range args[1:] {
				e = &engine.Binary{Op: op, L: e, R: a, T: core.Boolean}
			}
			return e, nil
		}
	case *pg.Node_NullTest:
		e, err := rec(x.NullTest.Arg)
		if err != nil {
			return nil, err
		}
		op := engine.OpIsNull
		if x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL {
			op = engine.OpIsNotNull
		}
		return &engine.Unary{Op: op, X: e, T: core.Boolean}, nil
	case *pg.Node_TypeCast:
		e, err := rec(x.TypeCast.Arg)
		if err != nil {
			return nil, err
		}
		tn := typeName(x.TypeCast.TypeName)
		t, err := core.ParseType(tn)
		if err != nil {
			return nil, errAt(x.TypeCast.Location, "known types: "+strings.Join(core.TypeNames(), ", "), "type %q does not exist", tn)
		}
		return castTo(e, t, x.TypeCast.Location)
	case *pg.Node_FuncCall:
		if aggregates[funcName(x.FuncCall)] && x.FuncCall.Over == nil {
			return agg(x.FuncCall)
		}
	}
	// Scalar functions, CASE, COALESCE, IN, BETWEEN, LIKE ... (bind_scalar.go).
	if e, ok, err := bindScalar(n, rec); ok || err != nil {
		return e, err
	}
	if fc := n.GetFuncCall(); fc != nil {
		return nil, unsupported(fc.Location, "function "+funcName(fc)+"()")
	}
	return nil, unsupported(location(n), describe(n))
}

func typeName(t *pg.TypeName) string {
	var parts []string
	for _, n := range t.Names {
		if s := n.GetString_(); s != nil && s.Sval != "pg_catalog" {
			parts = append(parts, s.Sval)
		}
	}
	name := strings.Join(parts, ".")
	switch name {
	case "int4":
		return "integer"
	case "int8":
		return "bigint"
	case "float8":
		return "double"
	case "bool":
		return "boolean"
	}
	return name
}

func bindConst(c *pg.A_Const) (engine.Expr, error) {
	if c.Isnull {
		return &engine.Const{Value: nil, T: core.Bigint}, nil
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return &engine.Const{Value: int64(v.Ival.Ival), T: core.Bigint}, nil
	case *pg.A_Const_Fval:
		if i, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			return &engine.Const{Value: i, T: core.Bigint}, nil
		}
		f, err := strconv.ParseFloat(v.Fval.Fval, 64)
		if err != nil {
			return nil, errAt(c.Location, "", "invalid number %q", v.Fval.Fval)
		}
		return &engine.Const{Value: f, T: core.Double}, nil
	case *pg.A_Const_Sval:
		return &engine.Const{Value: v.Sval.Sval, T: core.Varchar}, nil
	case *pg.A_Const_Boolval:
		return &engine.Const{Value: v.Boolval.Boolval, T: core.Boolean}, nil
	}
	return nil, unsupported(c.Location, "this literal")
}

var binOps = map[string]engine.BinOp{
	"+": engine.OpAdd, "-": engine.OpSub, "*": engine.OpMul, "/": engine.OpDiv, "%": engine.OpMod,
	"=": engine.OpEq, "<>": engine.OpNe, "!=": engine.OpNe, "<": engine.OpLt, "<=": engine.OpLe, ">": engine.OpGt, ">=": engine.OpGe,
}

func bindAExpr(a *pg.A_Expr, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	if a.Kind != pg.A_Expr_Kind_AEXPR_OP {
		return nil, unsupported(a.Location, strings.TrimPrefix(a.Kind.String(), "AEXPR_")+" expressions")
	}
	op := ""
	for _, n := range a.Name {
		if s := n.GetString_(); s != nil {
			op = s.Sval
		}
	}
	bop, ok := binOps[op]
	if !ok {
		return nil, unsupported(a.Location, "operator "+op)
	}
	if a.Lexpr == nil { // prefix operator
		x, err := rec(a.Rexpr)
		if err != nil {
			return nil, err
		}
		if bop == engine.OpSub {
			if c, ok := x.(*engine.Const); ok {
				switch v := c.Value.(type) {
				case int64:
					return &engine.Const{Value: -v, T: c.T}, nil
				case float64:
					return &engine.Const{Value: -v, T: c.T}, nil
				}
			}
			if !isNumericT(x.Type()) {
				return nil, errAt(a.Location, "", "operator does not exist: - %s", x.Type().Name)
			}
			return &engine.Unary{Op: engine.OpNeg, X: x, T: x.Type()}, nil
		}
		if bop == engine.OpAdd {
			return x, nil
		}
		return nil, unsupported(a.Location, "prefix operator "+op)
	}
	l, err := rec(a.Lexpr)
	if err != nil {
		return nil, err
	}
	r, err := rec(a.Rexpr)
	if err != nil {
		return nil, err
	}
	l, r, err = unify(l, r, a.Location, op)
	if err != nil {
		return nil, err
	}
	t := core.Boolean
	if bop.IsArithmetic() {
		if !isNumericT(l.Type()) {
			return nil, errAt(a.Location, "arithmetic needs numbers", "operator does not exist: %s %s %s", l.Type().Name, op, r.Type().Name)
		}
		t = l.Type()
	}
	return &engine.Binary{Op: bop, L: l, R: r, T: t}, nil
}

func isNumericT(t core.Type) bool {
	switch t.Arrow.ID() {
	case arrow.INT32, arrow.INT64, arrow.FLOAT64:
		return true
	}
	return false
}

var numRank = map[arrow.Type]int{arrow.INT32: 1, arrow.INT64: 2, arrow.FLOAT64: 3}

// unify brings both operands to one type the way Postgres' implicit casts
// do: numbers widen, a string literal takes the type of the other side.
func unify(l, r engine.Expr, pos int32, op string) (engine.Expr, engine.Expr, error) {
	lt, rt := l.Type(), r.Type()
	if lc, ok := l.(*engine.Const); ok && lc.Value == nil {
		return &engine.Const{T: rt}, r, nil
	}
	if rc, ok := r.(*engine.Const); ok && rc.Value == nil {
		return l, &engine.Const{T: lt}, nil
	}
	if arrow.TypeEqual(lt.Arrow, rt.Arrow) {
		return l, r, nil
	}
	if isNumericT(lt) && isNumericT(rt) {
		if numRank[lt.Arrow.ID()] < numRank[rt.Arrow.ID()] {
			x, err := castTo(l, rt, pos)
			return x, r, err
		}
		x, err := castTo(r, lt, pos)
		return l, x, err
	}
	if c, ok := r.(*engine.Const); ok && rt.Name == core.Varchar.Name {
		x, err := castTo(c, lt, pos)
		return l, x, err
	}
	if c, ok := l.(*engine.Const); ok && lt.Name == core.Varchar.Name {
		x, err := castTo(c, rt, pos)
		return x, r, err
	}
	return nil, nil, errAt(pos, "cast one side explicitly, e.g. x::bigint", "operator does not exist: %s %s %s", lt.Name, op, rt.Name)
}

// castTo converts e to t: constants are folded now, columns get a Cast the
// engine evaluates.
func castTo(e engine.Expr, t core.Type, pos int32) (engine.Expr, error) {
	if arrow.TypeEqual(e.Type().Arrow, t.Arrow) {
		return e, nil
	}
	if c, ok := e.(*engine.Const); ok {
		v, err := convertConst(c.Value, t)
		if err != nil {
			return nil, errAt(pos, "", "%v", err)
		}
		return &engine.Const{Value: v, T: t}, nil
	}
	if isNumericT(e.Type()) && isNumericT(t) && numRank[e.Type().Arrow.ID()] < numRank[t.Arrow.ID()] {
		return &engine.Cast{X: e, T: t}, nil
	}
	return nil, unsupported(pos, fmt.Sprintf("cast from %s to %s", e.Type().Name, t.Name))
}

func convertConst(v any, t core.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t.Arrow.ID() {
	case arrow.INT32, arrow.INT64:
		switch x := v.(type) {
		case int64:
			if t.Arrow.ID() == arrow.INT32 && (x < math.MinInt32 || x > math.MaxInt32) {
				return nil, fmt.Errorf("integer out of range: %d", x)
			}
			return x, nil
		case float64:
			return int64(math.RoundToEven(x)), nil
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type %s: %q", t.Name, x)
			}
			return i, nil
		}
	case arrow.FLOAT64:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type double: %q", x)
			}
			return f, nil
		}
	case arrow.STRING:
		switch x := v.(type) {
		case string:
			return x, nil
		case int64, float64, bool:
			return fmt.Sprint(x), nil
		}
	case arrow.BOOL:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type boolean: %q", x)
			}
			return b, nil
		}
	case arrow.TIMESTAMP:
		if s, ok := v.(string); ok {
			for _, l := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
				if tm, err := time.Parse(l, s); err == nil {
					return tm.UnixMicro(), nil
				}
			}
			return nil, fmt.Errorf("invalid input syntax for type timestamp: %q", s)
		}
	case arrow.DATE32:
		if s, ok := v.(string); ok {
			tm, err := time.Parse("2006-01-02", s)
			if err != nil {
				return nil, fmt.Errorf("invalid input syntax for type date: %q", s)
			}
			return int64(arrow.Date32FromTime(tm)), nil
		}
	}
	return nil, fmt.Errorf("cannot cast %v to %s", v, t.Name)
}

// location returns the byte offset a node starts at, or -1.
func location(n *pg.Node) int32 {
	if n == nil {
		return -1
	}
	switch x := n.Node.(type) {
	case *pg.Node_ResTarget:
		return x.ResTarget.Location
	case *pg.Node_ColumnRef:
		return x.ColumnRef.Location
	case *pg.Node_AConst:
		return x.AConst.Location
	case *pg.Node_AExpr:
		return x.AExpr.Location
	case *pg.Node_FuncCall:
		return x.FuncCall.Location
	case *pg.Node_BoolExpr:
		return x.BoolExpr.Location
	case *pg.Node_RangeVar:
		return x.RangeVar.Location
	case *pg.Node_SortBy:
		return x.SortBy.Location
	case *pg.Node_TypeCast:
		return x.TypeCast.Location
	case *pg.Node_NullTest:
		return x.NullTest.Location
	case *pg.Node_SubLink:
		return x.SubLink.Location
	case *pg.Node_CaseExpr:
		return x.CaseExpr.Location
	case *pg.Node_JoinExpr:
		return location(x.JoinExpr.Larg)
	case *pg.Node_RangeSubselect:
		return -1
	case *pg.Node_RangeFunction:
		return -1
	}
	return -1
}

// describe names a node's SQL construct for "not supported" errors.
func describe(n *pg.Node) string {
	switch n.Node.(type) {
	case *pg.Node_JoinExpr:
		return "JOIN"
	case *pg.Node_RangeSubselect:
		return "a subquery in FROM"
	case *pg.Node_RangeFunction:
		return "a table function in FROM (TUMBLE, HOP, SESSION come with windows)"
	case *pg.Node_SubLink:
		return "a subquery expression"
	case *pg.Node_CaseExpr:
		return "CASE"
	case *pg.Node_CoalesceExpr:
		return "COALESCE"
	case *pg.Node_AIndirection:
		return "array/field indirection"
	case *pg.Node_RowExpr:
		return "a row constructor"
	case *pg.Node_MinMaxExpr:
		return "GREATEST/LEAST"
	case *pg.Node_SqlvalueFunction:
		return "CURRENT_DATE/CURRENT_TIMESTAMP"
	}
	s := fmt.Sprintf("%T", n.Node)
	return strings.TrimPrefix(s, "*pg_query.Node_")
}

func catNames(cat Catalog) []string {
	out := make([]string, 0, len(cat))
	for n := range cat {
		out = append(out, n)
	}
	return out
}
