package plans

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/stratadb/strata/engine"
	"github.com/stratadb/strata/engine/core"
)

// FunctionKind is what a user-defined function does with its rows.
type FunctionKind string

// The kinds of user-defined functions.
const (
	ScalarFunction    FunctionKind = "scalar"
	TableFunction     FunctionKind = "table"
	AggregateFunction FunctionKind = "aggregate"
)

// Function is a user-defined function (a WebAssembly UDF) a view may call
// by Name. The planner checks calls against its signature; the engine
// calls Scalar once per batch.
type Function struct {
	Name          string
	Kind          FunctionKind
	Args          []core.Type
	Returns       core.Type
	Deterministic bool
	// Policy says what a row the function fails on becomes.
	Policy core.ErrorPolicy
	// Scalar runs a scalar function, Table a table function, Aggregate an
	// aggregate.
	Scalar    core.ScalarFunction
	Table     core.TableFunction
	Aggregate core.AggregateFunction
	// Ambiguous lists the qualified names (module.function) of the
	// functions an unqualified Name could mean; a call must pick one.
	Ambiguous []string
}

// Signature renders the function as name(arg, ..) -> type.
func (f *Function) Signature() string {
	ts := make([]string, len(f.Args))
	for i, a := range f.Args {
		ts[i] = a.Name
	}
	return f.Name + "(" + strings.Join(ts, ", ") + ") -> " + f.Returns.Name
}

// Functions are the user-defined functions of a deployment, by name.
type Functions map[string]*Function

// Option configures Plan.
type Option func(*binder)

// WithFunctions lets the view call the user-defined functions fns.
func WithFunctions(fns Functions) Option { return func(b *binder) { b.fns = fns } }

// IsBuiltinFunction reports whether name is a built-in function or
// aggregate, which a user-defined function may not shadow.
func IsBuiltinFunction(name string) bool {
	_, scalar := scalarFuncs[name]
	return scalar || special[name] != nil || aggregates[name] || clockFuncs[name]
}

// bindUDF binds a call of a user-defined scalar function.
func bindUDF(fc *pg.FuncCall, f *Function, rec func(*pg.Node) (engine.Expr, error)) (engine.Expr, error) {
	if fc.Over != nil {
		return nil, errAt(fc.Location, "", "%s is not a window function", f.Name)
	}
	if fc.AggStar || fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0 {
		return nil, errAt(fc.Location, "", "%s is not an aggregate function", f.Name)
	}
	switch {
	case len(f.Ambiguous) > 0:
		return nil, errAt(fc.Location, "qualify it with its udf's name: "+strings.Join(f.Ambiguous, " or "), "function %s is defined by several udfs", f.Name)
	case f.Kind == TableFunction:
		return nil, errAt(fc.Location, "call it alone as a select-list item: SELECT id, "+f.Name+"(..) AS x FROM ..", "table function %s() is not allowed inside an expression", f.Name)
	case !f.Deterministic:
		return nil, nondeterministic(fc.Location, "the nondeterministic udf "+f.Name+"()")
	case f.Scalar == nil:
		return nil, errAt(fc.Location, "", "udf %s has no implementation loaded", f.Name)
	}
	args := make([]engine.Expr, len(fc.Args))
	for i, a := range fc.Args {
		e, err := rec(a)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	if len(args) == len(f.Args) {
		if cast, ok := fitArgs(args, f.Args, fc.Location); ok {
			return &engine.UDFCall{Fn: f.Scalar, Args: cast, T: f.Returns, Policy: f.Policy}, nil
		}
	}
	return nil, errAt(fc.Location, "the udf is "+f.Signature()+"; cast the arguments, e.g. x::double", "function %s(%s) does not exist", f.Name, typeList(args))
}

// tableTarget finds the select-list item that calls a table function, if
// any: -1 when none.
func tableTarget(targets []*pg.Node, fns Functions) (int, *Function, error) {
	at, found := -1, (*Function)(nil)
	for i, t := range targets {
		fc := t.GetResTarget().Val.GetFuncCall()
		if fc == nil {
			continue
		}
		f, ok := fns[funcName(fc)]
		if !ok || f.Kind != TableFunction {
			continue
		}
		if found != nil {
			return -1, nil, errAt(fc.Location, "split the query: apply one table function in a subquery, the other outside it", "only one table function per select list is supported")
		}
		at, found = i, f
	}
	return at, found, nil
}

// tableFuncRel applies table function f, called by fc, to every row of in:
// the result has in's columns and then the function's value, named name.
func tableFuncRel(in *rel, sc *scope, fc *pg.FuncCall, f *Function, name string) (*rel, error) {
	switch {
	case len(f.Ambiguous) > 0:
		return nil, errAt(fc.Location, "qualify it with its udf's name: "+strings.Join(f.Ambiguous, " or "), "function %s is defined by several udfs", f.Name)
	case !f.Deterministic:
		return nil, nondeterministic(fc.Location, "the nondeterministic udf "+f.Name+"()")
	case f.Table == nil:
		return nil, errAt(fc.Location, "", "udf %s has no implementation loaded", f.Name)
	case fc.Over != nil || fc.AggStar || fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0:
		return nil, errAt(fc.Location, "", "%s is a table function", f.Name)
	}
	args := make([]engine.Expr, len(fc.Args))
	for i, a := range fc.Args {
		e, err := sc.bind(a)
		if err != nil {
			return nil, err
		}
		if engine.HasUDF(e) {
			return nil, errAt(location(a), "compute the argument in a subquery first", "a table function's arguments cannot call UDFs")
		}
		args[i] = e
	}
	if len(args) == len(f.Args) {
		if cast, ok := fitArgs(args, f.Args, fc.Location); ok {
			cols := append(append([]core.Column(nil), in.cols...), core.Column{Name: name, Type: f.Returns})
			return &rel{cols: cols, node: &lop{ins: []*rel{in}, mk: func(mem memory.Allocator, s []*arrow.Schema) (engine.Operator, error) {
				return engine.NewTableFunc(mem, s[0], f.Table, cast, name, f.Returns, f.Policy), nil
			}}}, nil
		}
	}
	return nil, errAt(fc.Location, "the udf is "+f.Signature()+"; cast the arguments, e.g. x::double", "function %s(%s) does not exist", f.Name, typeList(args))
}
