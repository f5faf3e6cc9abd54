package udf

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels, for errors.Is. A *CallError wraps exactly one of the first
// four.
var (
	// ErrDeadline means a call ran past its deadline and was stopped.
	ErrDeadline = errors.New("udf: deadline exceeded")
	// ErrTrap means the guest trapped (unreachable, out-of-bounds access,
	// division by zero, a panic, an exit, running out of memory).
	ErrTrap = errors.New("udf: trap")
	// ErrBadResult means the guest returned result buffers that break the
	// ABI (out of bounds, wrong type, non-monotonic offsets, invalid UTF-8).
	ErrBadResult = errors.New("udf: bad result buffer")
	// ErrBadArgs means the caller passed arguments that do not match the
	// function's signature.
	ErrBadArgs = errors.New("udf: arguments do not match the signature")
	// ErrUnknownFunction means no loaded module exports the function.
	ErrUnknownFunction = errors.New("udf: unknown function")
	// ErrClosed means the host or module was closed.
	ErrClosed = errors.New("udf: closed")
)

// CallError is a failed call: the whole batch has no result. The instance
// that failed is discarded; the next call gets a fresh one.
type CallError struct {
	Func   string // function name
	Module string // module path
	Row    int    // the row at fault, or -1 when unknown
	Kind   error  // ErrDeadline, ErrTrap, ErrBadResult or ErrBadArgs
	Detail string // what happened, for people
	Err    error  // the underlying error, if any
}

func (e *CallError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "udf: %s (%s): %s", e.Func, e.Module, strings.TrimPrefix(e.Kind.Error(), "udf: "))
	if e.Row >= 0 {
		fmt.Fprintf(&b, " at row %d", e.Row)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the kind sentinel and the cause.
func (e *CallError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// RowError is the error a function reported for one input row.
type RowError struct {
	Row int
	Msg string
}

// BatchError is returned with a result when the function reported errors
// for some rows: those rows are NULL in the result (scalar), produced no
// rows (table) or were skipped (aggregate). Applying the UDF's ErrorPolicy
// is the caller's job.
type BatchError struct {
	Func string
	Rows []RowError
}

func (e *BatchError) Error() string {
	r := e.Rows[0]
	more := ""
	if len(e.Rows) > 1 {
		more = fmt.Sprintf(" (and %d more rows)", len(e.Rows)-1)
	}
	return fmt.Sprintf("udf: %s: row %d: %s%s", e.Func, r.Row, r.Msg, more)
}

// ErrorPolicy says what the engine does with a row a UDF failed on.
type ErrorPolicy string

// The error policies a deployment may choose per UDF.
const (
	PolicyFail       ErrorPolicy = "fail"        // fail the view
	PolicyNull       ErrorPolicy = "null"        // the result is NULL
	PolicyDeadLetter ErrorPolicy = "dead_letter" // the row goes to the dead-letter output
)

// ParseErrorPolicy reads a policy name.
func ParseErrorPolicy(s string) (ErrorPolicy, error) {
	switch p := ErrorPolicy(s); p {
	case PolicyFail, PolicyNull, PolicyDeadLetter:
		return p, nil
	}
	return "", fmt.Errorf("udf: unknown error policy %q (use fail, null or dead_letter)", s)
}
