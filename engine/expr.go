package engine

import (
	"fmt"
	"strings"

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

// Const is a literal; Value is nil (NULL), bool, int64, float64 or string.
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
