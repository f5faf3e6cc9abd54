package config

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a deployment file. Line and Col are 1-based; Col
// counts characters. A zero Line means the position is the file as a whole.
type Pos struct {
	File      string
	Line, Col int
}

// String formats p as file:line:col (file alone when p has no line).
func (p Pos) String() string {
	if p.Line <= 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// IsValid reports whether p names a line.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) less(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// Problem is one thing wrong with a deployment file: where, what, and how to
// fix it.
type Problem struct {
	Pos Pos
	// Msg says what is wrong ("unknown key \"storag\" in view \"v1\"").
	Msg string
	// Hint is a one-line suggestion ("did you mean \"storage\"?"); it may be
	// empty.
	Hint string
}

// Error formats the problem as file:line:col: msg (hint).
func (p Problem) Error() string {
	if p.Hint == "" {
		return p.Pos.String() + ": " + p.Msg
	}
	return p.Pos.String() + ": " + p.Msg + " (" + p.Hint + ")"
}

// Problems is every problem found in a deployment file. Load and Parse
// return it, sorted by position, as their error; callers get at the list
// with errors.As.
type Problems []Problem

// Error lists the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by position, keeping the order of problems at
// the same position.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Pos.less(ps[j].Pos) })
}
