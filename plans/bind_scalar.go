package plans

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// bindScalar binds the scalar constructs beyond operators and casts:
// function calls, CASE, COALESCE, NULLIF, IN, BETWEEN, LIKE. ok is false
// when n is none of them, so the caller reports it as unsupported. rec binds
// sub-expressions in the caller's scope.
func bindScalar(n *pg.Node, rec func(*pg.Node) (engine.Expr, error)) (e engine.Expr, ok bool, err error) {
	switch x := n.Node.(type) {
	case *pg.Node_AExpr:
		return bindScalarAExpr(x.AExpr, rec)
	case *pg.Node_CaseExpr:
		e, err := bindCase(x.CaseExpr, rec)
		return e, true, err
	case *pg.Node_TypeCast:
		tc := x.TypeCast
		m := typmodInts(tc.TypeName)
		if typeName(tc.TypeName) != "interval" || len(m) == 0 || intervalField(m[0]) == "" {
			return nil, false, nil
		}
		arg, err := rec(tc.Arg)
		if err != nil {
			return nil, true, err
		}
		e, err := castTo(arg, core.Type{Name: "interval " + intervalField(m[0]), Arrow: core.Interval.Arrow}, tc.Location)
		return e, true, err
	case *pg.Node_CoalesceExpr:
		args, err := bindCommon(x.CoalesceExpr.Args, rec, x.CoalesceExpr.Location, "COALESCE")
		if err != nil {
			return nil, true, err
		}
		return &engine.Call{Fn: "coalesce", Args: args, T: args[0].Type()}, true, nil
	case *pg.Node_MinMaxExpr:
		name := "greatest"
		if x.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		args, err := bindCommon(x.MinMaxExpr.Args, rec, x.MinMaxExpr.Location, strings.ToUpper(name))
		if err != nil {
			return nil, true, err
		}
		if args[0].Type().Name == core.Boolean.Name {
			return nil, true, errAt(x.MinMaxExpr.Location, "compare numbers, strings or times", "function %s(boolean) does not exist", name)
		}
		return &engine.Call{Fn: name, Args: args, T: args[0].Type()}, true, nil
	case *pg.Node_BooleanTest:
		arg, err := rec(x.BooleanTest.Arg)
		if err != nil {
			return nil, true, err
		}
		if null, str := isLiteral(arg); null || str {
			if arg, err = castTo(arg, core.Boolean, x.BooleanTest.Location); err != nil {
				return nil, true, err
			}
		}
		if arg.Type().Name != core.Boolean.Name {
			return nil, true, errAt(x.BooleanTest.Location, "IS TRUE / IS FALSE test a boolean", "argument of IS %s must be boolean, not %s", boolTestName(x.BooleanTest.Booltesttype), arg.Type().Name)
		}
		switch x.BooleanTest.Booltesttype {
		case pg.BoolTestType_IS_UNKNOWN:
			return &engine.Unary{Op: engine.OpIsNull, X: arg, T: core.Boolean}, true, nil
		case pg.BoolTestType_IS_NOT_UNKNOWN:
			return &engine.Unary{Op: engine.OpIsNotNull, X: arg, T: core.Boolean}, true, nil
		}
		fn := map[pg.BoolTestType]string{pg.BoolTestType_IS_TRUE: "is_true", pg.BoolTestType_IS_NOT_TRUE: "is_not_true", pg.BoolTestType_IS_FALSE: "is_false", pg.BoolTestType_IS_NOT_FALSE: "is_not_false"}[x.BooleanTest.Booltesttype]
		return &engine.Call{Fn: fn, Args: []engine.Expr{arg}, T: core.Boolean}, true, nil
	case *pg.Node_SqlvalueFunction:
		name := strings.ToLower(strings.TrimPrefix(x.SqlvalueFunction.Op.String(), "SVFOP_"))
		return nil, true, nondeterministic(x.SqlvalueFunction.Location, name)
	case *pg.Node_FuncCall:
		e, err := bindFunc(x.FuncCall, rec)
		if e == nil && err == nil {
			return nil, false, nil
		}
		return e, true, err
	}
	return nil, false, nil
}

func boolTestName(t pg.BoolTestType) string {
	return strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(t.String(), "IS_"), "NOT_"), "_", " ")
}

// nondeterministic refuses the clock functions in a view.
func nondeterministic(pos int32, name string) *Error {
	return errAt(pos, "views must be deterministic, since they are replayed from the epoch log; use the event-time column of a source instead", "%s is not allowed in a view", name)
}

// bindScalarAExpr handles the A_Expr kinds beyond plain operators, and the
// operators on times, intervals and strings; the rest goes back to
// bindAExpr with the operands it already bound.
func bindScalarAExpr(a *pg.A_Expr, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, bool, error) {
	op := ""
	for _, n := range a.Name {
		if s := n.GetString_(); s != nil {
			op = s.Sval
		}
	}
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		return bindOperator(a, op, rec)
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT, pg.A_Expr_Kind_AEXPR_NULLIF:
		l, r, err := bindPair(a, rec)
		if err != nil {
			return nil, true, err
		}
		l, r, err = unify(l, r, a.Location, op)
		if err != nil {
			return nil, true, err
		}
		switch a.Kind {
		case pg.A_Expr_Kind_AEXPR_DISTINCT:
			return &engine.Call{Fn: "is_distinct", Args: []engine.Expr{l, r}, T: core.Boolean}, true, nil
		case pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
			return &engine.Call{Fn: "is_not_distinct", Args: []engine.Expr{l, r}, T: core.Boolean}, true, nil
		}
		return &engine.Call{Fn: "nullif", Args: []engine.Expr{l, r}, T: l.Type()}, true, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		e, err := bindIn(a, op, rec)
		return e, true, err
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		e, err := bindLike(a, op, rec)
		return e, true, err
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		e, err := bindBetween(a, rec)
		return e, true, err
	}
	return nil, false, nil
}

func bindPair(a *pg.A_Expr, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, engine.Expr, error) {
	l, err := rec(a.Lexpr)
	if err != nil {
		return nil, nil, err
	}
	r, err := rec(a.Rexpr)
	if err != nil {
		return nil, nil, err
	}
	return l, r, nil
}

// bindOperator binds || and the arithmetic on dates, timestamps and
// intervals; other operators go to bindAExpr.
func bindOperator(a *pg.A_Expr, op string, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, bool, error) {
	if a.Lexpr == nil {
		if op != "-" {
			return nil, false, nil
		}
		x, err := rec(a.Rexpr)
		if err != nil {
			return nil, true, err
		}
		if x.Type().Name == core.Interval.Name {
			if c, ok := x.(*engine.Const); ok {
				return negConst(c), true, nil
			}
			return &engine.Unary{Op: engine.OpNeg, X: x, T: core.Interval}, true, nil
		}
		e, err := bindAExpr(a, memo(rec, map[*pg.Node]engine.Expr{a.Rexpr: x}))
		return e, true, err
	}
	l, r, err := bindPair(a, rec)
	if err != nil {
		return nil, true, err
	}
	switch op {
	case "||":
		e, err := bindConcatOp(l, r, a.Location)
		return e, true, err
	case "+", "-", "*":
		if e, err := bindTimeArith(op, l, r, a.Location); e != nil || err != nil {
			return e, true, err
		}
	}
	e, err := bindAExpr(a, memo(rec, map[*pg.Node]engine.Expr{a.Lexpr: l, a.Rexpr: r}))
	return e, true, err
}

// memo returns rec with some nodes already bound, so handing an A_Expr
// back to bindAExpr does not bind its operands twice.
func memo(rec func(*pg.Node) (engine.Expr, error), done map[*pg.Node]engine.Expr) func(*pg.Node) (engine.Expr, error) {
	return func(n *pg.Node) (engine.Expr, error) {
		if e, ok := done[n]; ok {
			return e, nil
		}
		return rec(n)
	}
}

func bindConcatOp(l, r engine.Expr, pos int32) (engine.Expr, error) {
	var err error
	for _, x := range []*engine.Expr{&l, &r} {
		if (*x).Type().Name == core.Bytea.Name {
			return nil, errAt(pos, "cast it to varchar first", "operator does not exist: %s || %s", l.Type().Name, r.Type().Name)
		}
		if *x, err = castTo(*x, core.Varchar, pos); err != nil {
			return nil, err
		}
	}
	return &engine.Call{Fn: "concat_op", Args: []engine.Expr{l, r}, T: core.Varchar}, nil
}

// bindTimeArith types date/timestamp/interval arithmetic the way DuckDB
// does; it returns nil, nil when neither side is a time.
func bindTimeArith(op string, l, r engine.Expr, pos int32) (engine.Expr, error) {
	lt, rt := l.Type(), r.Type()
	isTime := func(t core.Type) bool {
		switch t.Name {
		case core.Date.Name, core.Timestamp.Name, core.Timestamptz.Name, core.Interval.Name:
			return true
		}
		return false
	}
	if !isTime(lt) && !isTime(rt) {
		return nil, nil
	}
	// A string literal next to a time takes the other side's meaning:
	// ts + '1 hour' is an interval, ts - '2024-01-01' a timestamp.
	if c, ok := r.(*engine.Const); ok && rt.Name == core.Varchar.Name {
		want := core.Interval
		if op == "-" && lt.Name != core.Interval.Name {
			if _, err := engine.CastConst(scratch, c.Value, core.Varchar, core.Interval); err != nil {
				want = lt
			}
		}
		var err error
		if r, err = castTo(r, want, pos); err != nil {
			return nil, err
		}
		rt = r.Type()
	}
	if c, ok := l.(*engine.Const); ok && lt.Name == core.Varchar.Name {
		var err error
		if l, err = castTo(c, core.Interval, pos); err != nil {
			return nil, err
		}
		lt = l.Type()
	}
	bin := func(bop engine.BinOp, l, r engine.Expr, t core.Type) engine.Expr {
		return &engine.Binary{Op: bop, L: l, R: r, T: t}
	}
	isTS := func(t core.Type) bool { return t.Name == core.Timestamp.Name || t.Name == core.Timestamptz.Name }
	isInt := func(t core.Type) bool { return t.Name == core.Bigint.Name || t.Name == core.Integer.Name }
	iv := core.Interval.Name
	switch op {
	case "+":
		switch {
		case isTS(lt) && rt.Name == iv:
			return bin(engine.OpAdd, l, r, lt), nil
		case lt.Name == iv && isTS(rt):
			return bin(engine.OpAdd, l, r, rt), nil
		case lt.Name == core.Date.Name && rt.Name == iv, lt.Name == iv && rt.Name == core.Date.Name:
			return bin(engine.OpAdd, l, r, core.Timestamp), nil
		case lt.Name == core.Date.Name && isInt(rt), isInt(lt) && rt.Name == core.Date.Name:
			return bin(engine.OpAdd, l, r, core.Date), nil
		case lt.Name == iv && rt.Name == iv:
			return bin(engine.OpAdd, l, r, core.Interval), nil
		}
	case "-":
		switch {
		case isTS(lt) && rt.Name == iv:
			return bin(engine.OpSub, l, r, lt), nil
		case lt.Name == core.Date.Name && rt.Name == iv:
			return bin(engine.OpSub, l, r, core.Timestamp), nil
		case lt.Name == core.Date.Name && isInt(rt):
			return bin(engine.OpSub, l, r, core.Date), nil
		case lt.Name == core.Date.Name && rt.Name == core.Date.Name:
			return bin(engine.OpSub, l, r, core.Bigint), nil
		case isTS(lt) && (isTS(rt) || rt.Name == core.Date.Name), lt.Name == core.Date.Name && isTS(rt):
			var err error
			if l, r, err = unify(l, r, pos, op); err != nil {
				return nil, err
			}
			return bin(engine.OpSub, l, r, core.Interval), nil
		case lt.Name == iv && rt.Name == iv:
			return bin(engine.OpSub, l, r, core.Interval), nil
		}
	case "*":
		if lt.Name == iv && isInt(rt) || isInt(lt) && rt.Name == iv {
			var err error
			if isInt(lt) {
				l, err = castTo(l, core.Bigint, pos)
			} else {
				r, err = castTo(r, core.Bigint, pos)
			}
			return bin(engine.OpMul, l, r, core.Interval), err
		}
	}
	return nil, errAt(pos, "dates take + integer or interval; timestamps take +/- interval; timestamp - timestamp is an interval", "operator does not exist: %s %s %s", lt.Name, op, rt.Name)
}

func bindCase(c *pg.CaseExpr, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	var subject engine.Expr
	if c.Arg != nil {
		var err error
		if subject, err = rec(c.Arg); err != nil {
			return nil, err
		}
	}
	conds := make([]engine.Expr, len(c.Args))
	results := make([]*pg.Node, 0, len(c.Args)+1)
	for i, a := range c.Args {
		w := a.GetCaseWhen()
		cond, err := rec(w.Expr)
		if err != nil {
			return nil, err
		}
		if subject != nil {
			l, r, err := unify(subject, cond, w.Location, "=")
			if err != nil {
				return nil, err
			}
			cond = &engine.Binary{Op: engine.OpEq, L: l, R: r, T: core.Boolean}
		} else if cond.Type().Name != core.Boolean.Name {
			if null, str := isLiteral(cond); null || str {
				if cond, err = castTo(cond, core.Boolean, w.Location); err != nil {
					return nil, err
				}
			}
			if cond.Type().Name != core.Boolean.Name {
				return nil, errAt(location(w.Expr), "write WHEN <condition>, or CASE x WHEN value", "argument of CASE/WHEN must be boolean, not %s", cond.Type().Name)
			}
		}
		conds[i] = cond
		results = append(results, w.Result)
	}
	if c.Defresult != nil {
		results = append(results, c.Defresult)
	}
	vals, err := bindCommon(results, rec, c.Location, "CASE")
	if err != nil {
		return nil, err
	}
	e := &engine.Case{T: vals[0].Type()}
	for i, cond := range conds {
		e.Whens = append(e.Whens, engine.When{Cond: cond, Then: vals[i]})
	}
	if c.Defresult != nil {
		e.Else = vals[len(vals)-1]
	}
	return e, nil
}

// bindCommon binds nodes and casts them to their common type (see
// commonType); what names the construct for the error.
func bindCommon(nodes []*pg.Node, rec func(*pg.Node) (engine.Expr, error), pos int32, what string) ([]engine.Expr, error) {
	es := make([]engine.Expr, len(nodes))
	for i, n := range nodes {
		e, err := rec(n)
		if err != nil {
			return nil, err
		}
		es[i] = e
	}
	return castCommon(es, pos, what)
}

func bindIn(a *pg.A_Expr, op string, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	list := a.Rexpr.GetList()
	if list == nil {
		return nil, unsupported(a.Location, "IN (subquery)")
	}
	x, err := rec(a.Lexpr)
	if err != nil {
		return nil, err
	}
	es := []engine.Expr{x}
	for _, n := range list.Items {
		e, err := rec(n)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	if es, err = castCommon(es, a.Location, "IN"); err != nil {
		return nil, err
	}
	return &engine.In{X: es[0], List: es[1:], Not: op == "<>"}, nil
}

func bindLike(a *pg.A_Expr, op string, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	x, err := rec(a.Lexpr)
	if err != nil {
		return nil, err
	}
	pat := a.Rexpr
	esc := '\\'
	if fc := pat.GetFuncCall(); fc != nil && funcName(fc) == "like_escape" && len(fc.Args) == 2 {
		e, err := rec(fc.Args[1])
		if err != nil {
			return nil, err
		}
		c, ok := e.(*engine.Const)
		s, isStr := "", false
		if ok {
			s, isStr = c.Value.(string)
		}
		if !isStr || len([]rune(s)) > 1 {
			return nil, errAt(location(fc.Args[1]), "write ESCAPE '\\' or ESCAPE '' for none", "ESCAPE must be a constant of one character")
		}
		esc = 0
		for _, r := range s {
			esc = r
		}
		pat = fc.Args[0]
	}
	p, err := rec(pat)
	if err != nil {
		return nil, err
	}
	for _, e := range []*engine.Expr{&x, &p} {
		if (*e).Type().Name != core.Varchar.Name {
			if c, ok := (*e).(*engine.Const); ok && c.Value == nil {
				*e = &engine.Const{T: core.Varchar}
				continue
			}
			return nil, errAt(a.Location, "LIKE matches varchar; cast the operand with ::varchar", "operator does not exist: %s %s %s", x.Type().Name, likeName(op), p.Type().Name)
		}
	}
	return &engine.Like{X: x, Pattern: p, Escape: esc, Fold: strings.Contains(op, "*"), Not: strings.HasPrefix(op, "!")}, nil
}

func likeName(op string) string {
	name := "LIKE"
	if strings.Contains(op, "*") {
		name = "ILIKE"
	}
	if strings.HasPrefix(op, "!") {
		name = "NOT " + name
	}
	return name
}

func bindBetween(a *pg.A_Expr, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	list := a.Rexpr.GetList()
	if list == nil || len(list.Items) != 2 {
		return nil, errAt(a.Location, "", "BETWEEN needs two bounds")
	}
	es, err := bindCommon([]*pg.Node{a.Lexpr, list.Items[0], list.Items[1]}, rec, a.Location, "BETWEEN")
	if err != nil {
		return nil, err
	}
	x, lo, hi := es[0], es[1], es[2]
	if x.Type().Name == core.Boolean.Name {
		return nil, errAt(a.Location, "", "BETWEEN on boolean is not supported")
	}
	rng := func(lo, hi engine.Expr) engine.Expr {
		return &engine.Binary{Op: engine.OpAnd, T: core.Boolean,
			L: &engine.Binary{Op: engine.OpGe, L: x, R: lo, T: core.Boolean},
			R: &engine.Binary{Op: engine.OpLe, L: x, R: hi, T: core.Boolean}}
	}
	e := rng(lo, hi)
	if a.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM {
		e = &engine.Binary{Op: engine.OpOr, L: e, R: rng(hi, lo), T: core.Boolean}
	}
	if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM {
		e = &engine.Unary{Op: engine.OpNot, X: e, T: core.Boolean}
	}
	return e, nil
}
