package plans

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true, "bool_and": true, "bool_or": true, "every": true, "string_agg": true, "array_agg": true}

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

func hasAggregate(targets []*pg.Node, fns Functions) bool {
	for _, t := range targets {
		if containsAgg(t, fns) {
			return true
		}
	}
	return false
}

// containsAgg reports whether the expression tree calls an aggregate.
func containsAgg(n *pg.Node, fns Functions) bool {
	if n == nil {
		return false
	}
	switch x := n.Node.(type) {
	case *pg.Node_ResTarget:
		return containsAgg(x.ResTarget.Val, fns)
	case *pg.Node_FuncCall:
		if aggregates[funcName(x.FuncCall)] && x.FuncCall.Over == nil {
			return true
		}
		if f, ok := fns[funcName(x.FuncCall)]; ok && f.Kind == AggregateFunction && x.FuncCall.Over == nil {
			return true
		}
		for _, a := range x.FuncCall.Args {
			if containsAgg(a, fns) {
				return true
			}
		}
	case *pg.Node_AExpr:
		return containsAgg(x.AExpr.Lexpr, fns) || containsAgg(x.AExpr.Rexpr, fns)
	case *pg.Node_BoolExpr:
		for _, a := range x.BoolExpr.Args {
			if containsAgg(a, fns) {
				return true
			}
		}
	case *pg.Node_NullTest:
		return containsAgg(x.NullTest.Arg, fns)
	case *pg.Node_TypeCast:
		return containsAgg(x.TypeCast.Arg, fns)
	case *pg.Node_BooleanTest:
		return containsAgg(x.BooleanTest.Arg, fns)
	case *pg.Node_List:
		return anyAgg(x.List.Items, fns)
	case *pg.Node_CaseExpr:
		c := x.CaseExpr
		if containsAgg(c.Arg, fns) || containsAgg(c.Defresult, fns) {
			return true
		}
		for _, w := range c.Args {
			if cw := w.GetCaseWhen(); cw != nil && (containsAgg(cw.Expr, fns) || containsAgg(cw.Result, fns)) {
				return true
			}
		}
	case *pg.Node_CoalesceExpr:
		return anyAgg(x.CoalesceExpr.Args, fns)
	case *pg.Node_MinMaxExpr:
		return anyAgg(x.MinMaxExpr.Args, fns)
	case *pg.Node_NullIfExpr:
		return anyAgg(x.NullIfExpr.Args, fns)
	}
	return false
}

func anyAgg(ns []*pg.Node, fns Functions) bool {
	for _, a := range ns {
		if containsAgg(a, fns) {
			return true
		}
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
		n := funcName(x.FuncCall) // module.function: the function's name
		return n[strings.LastIndexByte(n, '.')+1:]
	case *pg.Node_TypeCast:
		return outputName(&pg.ResTarget{Val: x.TypeCast.Arg})
	}
	return "?column?"
}

// bindExpr binds a scalar expression; columns and aggregate calls are
// resolved by the callbacks, so the same walk serves both scopes.
func bindExpr(n *pg.Node, col func(*pg.ColumnRef) (engine.Expr, error), agg func(*pg.FuncCall) (engine.Expr, error), fns Functions) (engine.Expr, error) {
	e, err := bindExpr1(n, col, agg, fns)
	if err != nil {
		return nil, err
	}
	return fold(e), nil
}

func bindExpr1(n *pg.Node, col func(*pg.ColumnRef) (engine.Expr, error), agg func(*pg.FuncCall) (engine.Expr, error), fns Functions) (engine.Expr, error) {
	rec := func(m *pg.Node) (engine.Expr, error) { return bindExpr(m, col, agg, fns) }
	switch x := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if isStar(x.ColumnRef) {
			return nil, errAt(x.ColumnRef.Location, "", "* is only allowed alone in the select list or in count(*)")
		}
		return col(x.ColumnRef)
	case *pg.Node_AConst:
		return bindConst(x.AConst)
	case *pg.Node_AExpr:
		// IN, LIKE, BETWEEN, ||, time arithmetic (bind_scalar.go), then the rest.
		if e, ok, err := bindScalar(n, rec); ok || err != nil {
			return e, err
		}
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
		// INTERVAL '10' MINUTE: the qualifier gives the number its unit (bind_scalar.go).
		if e, ok, err := bindScalar(n, rec); ok || err != nil {
			return e, err
		}
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
		if f, ok := fns[funcName(x.FuncCall)]; ok {
			if f.Kind == AggregateFunction && x.FuncCall.Over == nil {
				return agg(x.FuncCall)
			}
			return bindUDF(x.FuncCall, f, rec)
		}
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
	if m := typmodInts(t); len(m) > 0 {
		switch name {
		case "numeric", "decimal":
			if len(m) == 1 {
				m = append(m, 0)
			}
			return fmt.Sprintf("decimal(%d,%d)", m[0], m[1])
		}
	}
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
	if m, ok := meet(lt, rt); ok {
		x, err := castTo(l, m, pos)
		if err != nil {
			return nil, nil, err
		}
		y, err := castTo(r, m, pos)
		return x, y, err
	}
	return nil, nil, errAt(pos, "cast one side explicitly, e.g. x::bigint", "operator does not exist: %s %s %s", lt.Name, op, rt.Name)
}

// castTo converts e to t: constants are folded now, columns get a Cast the
// engine evaluates.
func castTo(e engine.Expr, t core.Type, pos int32) (engine.Expr, error) {
	target := t // may carry an interval qualifier (bind_cast.go)
	t = normType(t)
	if arrow.TypeEqual(e.Type().Arrow, t.Arrow) {
		return e, nil
	}
	if c, ok := e.(*engine.Const); ok {
		v, err := castConst(c, target)
		if err != nil {
			return nil, errAt(pos, "", "%v", err)
		}
		return &engine.Const{Value: v, T: t}, nil
	}
	if isNumericT(e.Type()) && isNumericT(t) && numRank[e.Type().Arrow.ID()] < numRank[t.Arrow.ID()] {
		return &engine.Cast{X: e, T: t}, nil
	}
	if engine.CanCast(e.Type(), t) {
		return &engine.Cast{X: e, T: t}, nil
	}
	return nil, errAt(pos, "casts go between numbers, text and booleans, between numbers and booleans, and between dates and timestamps", "cannot cast type %s to %s", e.Type().Name, t.Name)
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
