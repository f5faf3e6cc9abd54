package plans

import "fmt"

// Error is a problem with a view's SQL: what is wrong, where (a 0-based
// byte offset into the SQL text, or -1 when unknown), and how to fix it.
type Error struct {
	Pos  int
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	s := "plans: " + e.Msg
	if e.Pos >= 0 {
		s += fmt.Sprintf(" at position %d", e.Pos+1)
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func errAt(pos int32, hint, format string, args ...any) *Error {
	return &Error{Pos: int(pos), Msg: fmt.Sprintf(format, args...), Hint: hint}
}

func unsupported(pos int32, construct string) *Error {
	return &Error{Pos: int(pos), Msg: construct + " is not supported yet", Hint: "views support SELECT, WHERE, GROUP BY, HAVING, equi-JOINs, UNION, DISTINCT, WITH and subqueries in FROM so far"}
}
