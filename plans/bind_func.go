package plans

import (
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// overload is one signature of a scalar function: the arguments are cast
// to params (the last opt of them may be left out), and the call returns
// ret through the engine kernel fn.
type overload struct {
	params []core.Type
	opt    int
	ret    core.Type
	fn     string
}

func sig(fn string, ret core.Type, params ...core.Type) overload {
	return overload{params: params, ret: ret, fn: fn}
}

func (o overload) optional(n int) overload { o.opt = n; return o }

var (
	tV, tB, tI, tD = core.Varchar, core.Bigint, core.Integer, core.Double
	tBool, tTZ     = core.Boolean, core.Timestamptz
)

// scalarFuncs maps a SQL function name to its overloads, tried in order.
var scalarFuncs = map[string][]overload{
	"lower":            {sig("lower", tV, tV)},
	"upper":            {sig("upper", tV, tV)},
	"length":           {sig("length", tB, tV)},
	"char_length":      {sig("length", tB, tV)},
	"character_length": {sig("length", tB, tV)},
	"substr":           {sig("substr", tV, tV, tB, tB).optional(1)},
	"substring":        {sig("substr", tV, tV, tB, tB).optional(1)},
	"btrim":            {sig("btrim", tV, tV, tV).optional(1)},
	"trim":             {sig("btrim", tV, tV, tV).optional(1)},
	"ltrim":            {sig("ltrim", tV, tV, tV).optional(1)},
	"rtrim":            {sig("rtrim", tV, tV, tV).optional(1)},
	"replace":          {sig("replace", tV, tV, tV, tV)},
	"strpos":           {sig("strpos", tB, tV, tV)},
	"position":         {sig("strpos", tB, tV, tV)},
	"left":             {sig("left", tV, tV, tB)},
	"right":            {sig("right", tV, tV, tB)},
	"starts_with":      {sig("starts_with", tBool, tV, tV)},
	"split_part":       {sig("split_part", tV, tV, tV, tB)},
	"lpad":             {sig("lpad", tV, tV, tB, tV).optional(1)},
	"rpad":             {sig("rpad", tV, tV, tB, tV).optional(1)},
	"reverse":          {sig("reverse", tV, tV)},
	"repeat":           {sig("repeat", tV, tV, tB)},
	"abs":              {sig("abs", tI, tI), sig("abs", tB, tB), sig("abs", tD, tD)},
	"round":            {sig("round", tI, tI, tB).optional(1), sig("round", tB, tB, tB).optional(1), sig("round", tD, tD, tB).optional(1)},
	"floor":            {sig("floor", tD, tD)},
	"ceil":             {sig("ceil", tD, tD)},
	"ceiling":          {sig("ceil", tD, tD)},
	"sqrt":             {sig("sqrt", tD, tD)},
	"power":            {sig("power", tD, tD, tD)},
	"pow":              {sig("power", tD, tD, tD)},
	"sign":             {sig("sign", tI, tI), sig("sign", tI, tB), sig("sign", tI, tD)},
	"to_timestamp":     {sig("to_timestamp", tTZ, tD)},
}

// special are the functions bound by hand rather than by signature.
var special = map[string]func(fc *pg.FuncCall, args []engine.Expr) (engine.Expr, error){
	"concat":     bindConcat,
	"mod":        bindMod,
	"extract":    bindExtract,
	"date_part":  bindExtract,
	"datepart":   bindExtract,
	"date_trunc": bindDateTrunc,
	"datetrunc":  bindDateTrunc,
}

// clockFuncs are refused: a view must give the same rows when replayed.
var clockFuncs = map[string]bool{
	"now": true, "current_timestamp": true, "current_date": true, "current_time": true, "localtimestamp": true, "localtime": true,
	"clock_timestamp": true, "statement_timestamp": true, "transaction_timestamp": true, "timeofday": true, "get_current_time": true,
	"random": true, "setseed": true, "gen_random_uuid": true, "uuid": true, "today": true,
}

// bindFunc binds a scalar function call; nil, nil leaves fc to the caller
// (window functions, aggregates with OVER).
func bindFunc(fc *pg.FuncCall, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	name := funcName(fc)
	if fc.Over != nil {
		return nil, nil
	}
	if clockFuncs[name] {
		return nil, nondeterministic(fc.Location, name+"()")
	}
	ovs, known := scalarFuncs[name]
	sp := special[name]
	if !known && sp == nil {
		return nil, errAt(fc.Location, hintName(name, knownFuncs(), "functions"), "function %s() does not exist", name)
	}
	if fc.AggStar || fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0 {
		return nil, errAt(fc.Location, "", "%s is not an aggregate function", name)
	}
	args := make([]engine.Expr, len(fc.Args))
	for i, a := range fc.Args {
		e, err := rec(a)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	if sp != nil {
		return sp(fc, args)
	}
	for _, o := range ovs {
		if len(args) > len(o.params) || len(args) < len(o.params)-o.opt {
			continue
		}
		cast, ok := fitArgs(args, o.params, fc.Location)
		if ok {
			return &engine.Call{Fn: o.fn, Args: cast, T: o.ret}, nil
		}
	}
	return nil, noSuchFunc(fc, name, args, ovs)
}

func knownFuncs() []string {
	var out []string
	for n := range scalarFuncs {
		out = append(out, n)
	}
	for n := range special {
		out = append(out, n)
	}
	return out
}

// noSuchFunc reports a call no overload fits, listing the signatures:
// "function lower(bigint) does not exist (lower takes varchar)".
func noSuchFunc(fc *pg.FuncCall, name string, args []engine.Expr, ovs []overload) *Error {
	var sigs []string
	for _, o := range ovs {
		ps := make([]string, len(o.params))
		for i, p := range o.params {
			ps[i] = p.Name
			if i >= len(o.params)-o.opt {
				ps[i] = "[" + ps[i] + "]"
			}
		}
		sigs = append(sigs, strings.Join(ps, ", "))
	}
	sort.Strings(sigs)
	hint := name + " takes " + strings.Join(sigs, " or ")
	if len(args) == 0 {
		hint = name + " takes (" + strings.Join(sigs, ") or (") + ")"
	} else if len(sigs) > 1 {
		hint = name + " takes (" + strings.Join(sigs, ") or (") + ")"
	}
	return errAt(fc.Location, hint+"; cast the arguments, e.g. x::varchar", "function %s(%s) does not exist", name, typeList(args))
}

func typeList(args []engine.Expr) string {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = a.Type().Name
		if null, _ := isLiteral(a); null {
			ts[i] = "unknown"
		}
	}
	return strings.Join(ts, ", ")
}

// fitArgs casts args to params when each fits without loss: the same type,
// a NULL, a string literal that parses, a wider number, or a date where a
// timestamp goes.
func fitArgs(args []engine.Expr, params []core.Type, pos int32) ([]engine.Expr, bool) {
	out := make([]engine.Expr, len(args))
	for i, a := range args {
		p := params[i]
		at := a.Type()
		null, str := isLiteral(a)
		switch {
		case at.Name == p.Name:
			out[i] = a
			continue
		case null:
			out[i] = &engine.Const{T: p}
			continue
		case str || implicit(at, p):
			e, err := castTo(a, p, pos)
			if err != nil {
				return nil, false
			}
			out[i] = e
			continue
		}
		return nil, false
	}
	return out, true
}

// implicit reports whether Postgres would cast from to to silently.
func implicit(from, to core.Type) bool {
	rf, nf := numOrder[from.Arrow.ID()]
	rt, nt := numOrder[to.Arrow.ID()]
	if nf && nt {
		return rf <= rt
	}
	switch from.Name {
	case core.Date.Name:
		return to.Name == core.Timestamp.Name || to.Name == core.Timestamptz.Name
	case core.Timestamp.Name:
		return to.Name == core.Timestamptz.Name
	}
	return false
}

// bindConcat is concat(...): any arguments, each cast to varchar.
func bindConcat(fc *pg.FuncCall, args []engine.Expr) (engine.Expr, error) {
	if len(args) == 0 {
		return nil, errAt(fc.Location, "concat takes one or more arguments", "function concat() does not exist")
	}
	out := make([]engine.Expr, len(args))
	for i, a := range args {
		if null, _ := isLiteral(a); null {
			out[i] = &engine.Const{T: core.Varchar}
			continue
		}
		if a.Type().Name == core.Bytea.Name {
			return nil, errAt(location(fc.Args[i]), "cast it to varchar first", "concat of bytea is not supported")
		}
		e, err := castTo(a, core.Varchar, location(fc.Args[i]))
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return &engine.Call{Fn: "concat", Args: out, T: core.Varchar}, nil
}

// bindMod is mod(a, b), the same as a % b.
func bindMod(fc *pg.FuncCall, args []engine.Expr) (engine.Expr, error) {
	if len(args) != 2 {
		return nil, errAt(fc.Location, "mod takes (a, b)", "function mod(%s) does not exist", typeList(args))
	}
	l, r, err := unify(args[0], args[1], fc.Location, "%")
	if err != nil {
		return nil, err
	}
	if !isNumericT(l.Type()) {
		return nil, errAt(fc.Location, "mod takes numbers", "function mod(%s) does not exist", typeList(args))
	}
	return &engine.Binary{Op: engine.OpMod, L: l, R: r, T: l.Type()}, nil
}

// constText reads a constant string argument (a field or unit name).
func constText(fc *pg.FuncCall, args []engine.Expr, what string, known []string) (string, error) {
	c, ok := args[0].(*engine.Const)
	s, isStr := "", false
	if ok {
		s, isStr = c.Value.(string)
	}
	if !isStr {
		return "", errAt(location(fc.Args[0]), what+"s: "+strings.Join(known, ", "), "the %s of %s must be a constant string", what, funcName(fc))
	}
	s = strings.ToLower(s)
	aliases := map[string]string{"years": "year", "months": "month", "days": "day", "hours": "hour", "minutes": "minute", "seconds": "second",
		"milliseconds": "millisecond", "microseconds": "microsecond", "weeks": "week", "quarters": "quarter", "dayofweek": "dow", "weekday": "dow",
		"dayofyear": "doy", "ms": "millisecond", "us": "microsecond", "decades": "decade", "centuries": "century", "millenniums": "millennium"}
	if a, ok := aliases[s]; ok {
		s = a
	}
	for _, k := range known {
		if s == k {
			return s, nil
		}
	}
	return "", errAt(location(fc.Args[0]), hintName(s, known, what+"s"), "%s %q is not supported by %s", what, s, funcName(fc))
}

// timeArg casts a date to timestamp; timestamps, timestamptz (and, when
// iv is set, intervals) pass.
func timeArg(fc *pg.FuncCall, args []engine.Expr, iv bool) (engine.Expr, error) {
	x := args[1]
	switch x.Type().Name {
	case core.Timestamp.Name, core.Timestamptz.Name:
		return x, nil
	case core.Interval.Name:
		if iv {
			return x, nil
		}
	case core.Date.Name:
		return castTo(x, core.Timestamp, fc.Location)
	}
	if null, str := isLiteral(x); null || str {
		return castTo(x, core.Timestamp, fc.Location)
	}
	takes := "timestamp, timestamptz or date"
	if iv {
		takes += " or interval"
	}
	return nil, errAt(fc.Location, funcName(fc)+" takes a "+takes, "function %s(%s) does not exist", funcName(fc), typeList(args))
}

// bindExtract is extract(field FROM x) and date_part('field', x).
func bindExtract(fc *pg.FuncCall, args []engine.Expr) (engine.Expr, error) {
	if len(args) != 2 {
		return nil, errAt(fc.Location, "write extract(hour FROM ts) or date_part('hour', ts)", "function %s(%s) does not exist", funcName(fc), typeList(args))
	}
	field, err := constText(fc, args, "field", engine.ExtractFields)
	if err != nil {
		return nil, err
	}
	x, err := timeArg(fc, args, true)
	if err != nil {
		return nil, err
	}
	if x.Type().Name == core.Interval.Name {
		switch field {
		case "dow", "isodow", "doy", "week", "isoyear":
			return nil, errAt(location(fc.Args[0]), "", "field %q is not supported for interval", field)
		}
	}
	t := core.Bigint
	if field == "epoch" {
		t = core.Double
	}
	return &engine.Call{Fn: "extract", Args: []engine.Expr{&engine.Const{Value: field, T: core.Varchar}, x}, T: t}, nil
}

// bindDateTrunc is date_trunc('unit', ts): a timestamp (a date becomes one)
// of the same type.
func bindDateTrunc(fc *pg.FuncCall, args []engine.Expr) (engine.Expr, error) {
	if len(args) != 2 {
		return nil, errAt(fc.Location, "write date_trunc('hour', ts)", "function date_trunc(%s) does not exist", typeList(args))
	}
	unit, err := constText(fc, args, "unit", engine.TruncUnits)
	if err != nil {
		return nil, err
	}
	x, err := timeArg(fc, args, false)
	if err != nil {
		return nil, err
	}
	return &engine.Call{Fn: "date_trunc", Args: []engine.Expr{&engine.Const{Value: unit, T: core.Varchar}, x}, T: x.Type()}, nil
}
