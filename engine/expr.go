package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stratadb/strata/engine/core"
)

// Expr is a typed scalar expression over the columns of a batch, built by the
// planner and evaluated a whole column at a time.
type Expr interface {
	// Type is the SQL type of the expression's result.
	Type() core.Type
	// String renders the expression for EXPLAIN.
	String() string
}

// ColRef reads column Index of the input.
type ColRef struct {
	Index int
	Name  string
	T     core.Type
}

// Const is a literal; Value is nil (NULL), bool, int64, float64 or string;
// int64 also holds date (days), timestamp and timestamptz (microseconds);
// an interval is an arrow.MonthDayNanoInterval and a decimal a
// decimal128.Num at the type's scale.
type Const struct {
	Value any
	T     core.Type
}

// BinOp names a binary operator.
type BinOp string

// The binary operators.
const (
	OpAdd BinOp = "+"
	OpSub BinOp = "-"
	OpMul BinOp = "*"
	OpDiv BinOp = "/"
	OpMod BinOp = "%"
	OpEq  BinOp = "="
	OpNe  BinOp = "<>"
	OpLt  BinOp = "<"
	OpLe  BinOp = "<="
	OpGt  BinOp = ">"
	OpGe  BinOp = ">="
	OpAnd BinOp = "AND"
	OpOr  BinOp = "OR"
)

// IsComparison reports whether op compares its operands.
func (op BinOp) IsComparison() bool {
	switch op {
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return true
	}
	return false
}

// IsArithmetic reports whether op is + - * / %.
func (op BinOp) IsArithmetic() bool {
	switch op {
	case OpAdd, OpSub, OpMul, OpDiv, OpMod:
		return true
	}
	return false
}

// Binary applies Op to L and R. The planner casts both operands to one type
// for arithmetic and comparison (see Cast).
type Binary struct {
	Op   BinOp
	L, R Expr
	T    core.Type
}

// UnOp names a unary operator.
type UnOp string

// The unary operators.
const (
	OpNot       UnOp = "NOT"
	OpNeg       UnOp = "-"
	OpIsNull    UnOp = "IS NULL"
	OpIsNotNull UnOp = "IS NOT NULL"
)

// Unary applies Op to X.
type Unary struct {
	Op UnOp
	X  Expr
	T  core.Type
}

// Cast converts X to T. The engine implements the widening casts the
// planner inserts implicitly (integer -> bigint -> double).
type Cast struct {
	X Expr
	T core.Type
}

func (e *ColRef) Type() core.Type { return e.T }
func (e *Const) Type() core.Type  { return e.T }
func (e *Binary) Type() core.Type { return e.T }
func (e *Unary) Type() core.Type  { return e.T }
func (e *Cast) Type() core.Type   { return e.T }

func (e *ColRef) String() string { return fmt.Sprintf("%s#%d", e.Name, e.Index) }
func (e *Const) String() string {
	switch v := e.Value.(type) {
	case nil:
		return "NULL"
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case arrow.MonthDayNanoInterval:
		return "INTERVAL '" + core.FormatInterval(v) + "'"
	case int64:
		switch t := e.T.Arrow.(type) {
		case *arrow.TimestampType:
			if t.Unit == arrow.Microsecond {
				name := "TIMESTAMP"
				if t.TimeZone != "" {
					name = "TIMESTAMPTZ"
				}
				return name + " '" + time.UnixMicro(v).UTC().Format("2006-01-02 15:04:05.999999") + "'"
			}
		case *arrow.Date32Type:
			return "DATE '" + arrow.Date32(v).ToTime().Format("2006-01-02") + "'"
		}
	}
	return fmt.Sprint(e.Value)
}
func (e *Binary) String() string { return fmt.Sprintf("(%s %s %s)", e.L, e.Op, e.R) }
func (e *Unary) String() string {
	if e.Op == OpIsNull || e.Op == OpIsNotNull {
		return fmt.Sprintf("(%s %s)", e.X, e.Op)
	}
	return fmt.Sprintf("(%s %s)", e.Op, e.X)
}
func (e *Cast) String() string { return fmt.Sprintf("CAST(%s AS %s)", e.X, e.T.Name) }

// Call applies the scalar function Fn to Args. The planner resolves the
// overload and casts the arguments to the types the kernel expects (see
// funcs in func_*.go); T is the result type. Every function is strict
// (NULL in, NULL out) unless its kernel says otherwise (coalesce, concat,
// greatest, least, the IS tests).
type Call struct {
	Fn   string
	Args []Expr
	T    core.Type
}

// When is one WHEN Cond THEN Then arm of a Case.
type When struct {
	Cond, Then Expr
}

// Case is a searched CASE: the first arm whose Cond is true gives the row's
// value, else Else (nil means NULL). The planner lowers the simple form
// CASE x WHEN v ... to this one with x = v conditions. An arm's Then is
// only required to succeed on the rows that arm selects.
type Case struct {
	Whens []When
	Else  Expr
	T     core.Type
}

// In is X [NOT] IN (List...), with SQL's NULL rules: NULL when X is NULL,
// or when no element matches and some element is NULL.
type In struct {
	X    Expr
	List []Expr
	Not  bool
}

// Like is X [NOT] LIKE / ILIKE Pattern: % matches any run of characters, _
// one character, and Escape (0 for none) makes the next character literal.
type Like struct {
	X, Pattern Expr
	Escape     rune
	Fold       bool // ILIKE: case-insensitive
	Not        bool
}

func (e *Call) Type() core.Type { return e.T }
func (e *Case) Type() core.Type { return e.T }
func (e *In) Type() core.Type   { return core.Boolean }
func (e *Like) Type() core.Type { return core.Boolean }

// postfix names the Call functions rendered as postfix tests.
var postfix = map[string]string{"is_true": "IS TRUE", "is_not_true": "IS NOT TRUE", "is_false": "IS FALSE", "is_not_false": "IS NOT FALSE"}

// infix names the Call functions rendered as binary operators.
var infix = map[string]string{"concat_op": "||", "is_distinct": "IS DISTINCT FROM", "is_not_distinct": "IS NOT DISTINCT FROM"}

func (e *Call) String() string {
	if op, ok := infix[e.Fn]; ok && len(e.Args) == 2 {
		return fmt.Sprintf("(%s %s %s)", e.Args[0], op, e.Args[1])
	}
	if op, ok := postfix[e.Fn]; ok && len(e.Args) == 1 {
		return fmt.Sprintf("(%s %s)", e.Args[0], op)
	}
	args := make([]string, len(e.Args))
	for i, a := range e.Args {
		args[i] = a.String()
	}
	return e.Fn + "(" + strings.Join(args, ", ") + ")"
}

func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range e.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", w.Cond, w.Then)
	}
	if e.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", e.Else)
	}
	b.WriteString(" END")
	return b.String()
}

func (e *In) String() string {
	args := make([]string, len(e.List))
	for i, a := range e.List {
		args[i] = a.String()
	}
	not := ""
	if e.Not {
		not = "NOT "
	}
	return fmt.Sprintf("(%s %sIN (%s))", e.X, not, strings.Join(args, ", "))
}

func (e *Like) String() string {
	op := "LIKE"
	if e.Fold {
		op = "ILIKE"
	}
	if e.Not {
		op = "NOT " + op
	}
	esc := ""
	if e.Escape != '\\' {
		esc = " ESCAPE ''"
		if e.Escape != 0 {
			esc = " ESCAPE '" + strings.ReplaceAll(string(e.Escape), "'", "''") + "'"
		}
	}
	return fmt.Sprintf("(%s %s %s%s)", e.X, op, e.Pattern, esc)
}
