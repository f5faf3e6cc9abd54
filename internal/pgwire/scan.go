package pgwire

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A small SQL lexer: just enough to split a query string into statements,
// find $n placeholders and read leading keywords. It knows the lexical
// forms that can hide a ';' or a '$': single-quoted strings (” inside),
// E'...' strings (backslash escapes), quoted identifiers, dollar-quoted
// strings ($tag$...$tag$), -- line comments and nested /* */ comments.
// Anything else is passed through untouched, for DuckDB to parse.

// tokKind is the kind of a lexical item the scanner reports.
type tokKind int

const (
	tokOther       tokKind = iota // a run of ordinary characters
	tokString                     // '...', E'...', $tag$...$tag$
	tokIdent                      // "..." quoted identifier
	tokComment                    // -- ... or /* ... */
	tokSemicolon                  // ;
	tokPlaceholder                // $n
)

// token is a lexical item; [start, end) are byte offsets into the query.
type token struct {
	kind       tokKind
	start, end int
	param      int // the n of a $n placeholder
}

// scan splits q into tokens. It never fails: an unterminated string or
// comment runs to the end of the input (DuckDB reports the error).
func scan(q string) []token {
	var toks []token
	i := 0
	otherStart := -1
	flush := func() {
		if otherStart >= 0 {
			toks = append(toks, token{kind: tokOther, start: otherStart, end: i})
			otherStart = -1
		}
	}
	emit := func(k tokKind, start, end, param int) {
		flush()
		toks = append(toks, token{kind: k, start: start, end: end, param: param})
		i = end
	}
	for i < len(q) {
		c := q[i]
		switch {
		case c == '\'':
			emit(tokString, i, skipQuoted(q, i+1, '\'', false), 0)
		case (c == 'E' || c == 'e') && i+1 < len(q) && q[i+1] == '\'' && !identBefore(q, i):
			emit(tokString, i, skipQuoted(q, i+2, '\'', true), 0)
		case c == '"':
			emit(tokIdent, i, skipQuoted(q, i+1, '"', false), 0)
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				end = len(q)
			} else {
				end += i + 1
			}
			emit(tokComment, i, end, 0)
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			emit(tokComment, i, skipBlockComment(q, i+2), 0)
		case c == ';':
			emit(tokSemicolon, i, i+1, 0)
		case c == '$' && !identBefore(q, i):
			if n, end, ok := placeholder(q, i); ok {
				emit(tokPlaceholder, i, end, n)
				continue
			}
			if end, ok := dollarQuoted(q, i); ok {
				emit(tokString, i, end, 0)
				continue
			}
			if otherStart < 0 {
				otherStart = i
			}
			i++
		default:
			if otherStart < 0 {
				otherStart = i
			}
			i++
		}
	}
	flush()
	return toks
}

// identBefore reports whether q[i] continues an identifier or a number
// (then "$" and "E'" are not special: a$1 is one identifier).
func identBefore(q string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(q[:i])
	return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// skipQuoted returns the end of a quoted item whose body starts at i; a
// doubled quote is part of the body, and with backslash a backslash
// escapes the next byte.
func skipQuoted(q string, i int, quote byte, backslash bool) int {
	for i < len(q) {
		switch q[i] {
		case '\\':
			if backslash {
				i += 2
				continue
			}
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(q)
}

func skipBlockComment(q string, i int) int {
	depth := 1
	for i < len(q) {
		switch {
		case strings.HasPrefix(q[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(q[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(q)
}

// placeholder reads $n at q[i].
func placeholder(q string, i int) (n, end int, ok bool) {
	j := i + 1
	for j < len(q) && q[j] >= '0' && q[j] <= '9' {
		if n > 1<<16 {
			return 0, 0, false
		}
		n = n*10 + int(q[j]-'0')
		j++
	}
	if j == i+1 || n == 0 {
		return 0, 0, false
	}
	return n, j, true
}

// dollarQuoted reads $tag$...$tag$ at q[i].
func dollarQuoted(q string, i int) (end int, ok bool) {
	j := i + 1
	for j < len(q) {
		r, size := utf8.DecodeRuneInString(q[j:])
		if r == '$' {
			break
		}
		if !(r == '_' || unicode.IsLetter(r) || (j > i+1 && unicode.IsDigit(r))) {
			return 0, false
		}
		j += size
	}
	if j >= len(q) {
		return 0, false
	}
	tag := q[i : j+1]
	k := strings.Index(q[j+1:], tag)
	if k < 0 {
		return len(q), true
	}
	return j + 1 + k + len(tag), true
}

// splitStatements splits q at top-level semicolons. Statements that hold
// only whitespace and comments are dropped, so "" and ";;" yield none.
func splitStatements(q string) []string {
	var out []string
	start := 0
	blank := true
	for _, t := range scan(q) {
		switch t.kind {
		case tokSemicolon:
			if !blank {
				out = append(out, strings.TrimSpace(q[start:t.start]))
			}
			start, blank = t.end, true
		case tokComment:
		case tokOther:
			if strings.TrimSpace(q[t.start:t.end]) != "" {
				blank = false
			}
		default:
			blank = false
		}
	}
	if !blank {
		out = append(out, strings.TrimSpace(q[start:]))
	}
	return out
}

// maxParam returns the largest n of the $n placeholders in q.
func maxParam(q string) int {
	m := 0
	for _, t := range scan(q) {
		if t.kind == tokPlaceholder && t.param > m {
			m = t.param
		}
	}
	return m
}

// substitute replaces each $n placeholder of q with lits[n-1]. Callers
// check that every placeholder has a literal (n <= len(lits)).
func substitute(q string, lits []string) string {
	var b strings.Builder
	last := 0
	for _, t := range scan(q) {
		if t.kind != tokPlaceholder {
			continue
		}
		b.WriteString(q[last:t.start])
		b.WriteString(lits[t.param-1])
		last = t.end
	}
	b.WriteString(q[last:])
	return b.String()
}

// words returns the first n words of q in lower case, skipping comments and
// treating punctuation as separators: words("  Select\n* from x", 2) is
// ["select", "*"]. Quoted strings and identifiers count as one word each.
func words(q string, n int) []string {
	var out []string
	for _, t := range scan(q) {
		if len(out) >= n {
			break
		}
		switch t.kind {
		case tokComment:
			continue
		case tokOther:
			for _, w := range strings.FieldsFunc(q[t.start:t.end], func(r rune) bool {
				return unicode.IsSpace(r) || r == '(' || r == ')' || r == ',' || r == '='
			}) {
				if len(out) < n {
					out = append(out, strings.ToLower(w))
				}
			}
		default:
			out = append(out, q[t.start:t.end])
		}
	}
	return out
}

// normalize lower-cases q outside strings and identifiers, drops comments
// and folds whitespace runs to one space, for matching fixed statements
// like "select version()".
func normalize(q string) string {
	var b strings.Builder
	for _, t := range scan(q) {
		switch t.kind {
		case tokComment:
			b.WriteByte(' ')
		case tokOther:
			b.WriteString(strings.ToLower(q[t.start:t.end]))
		default:
			b.WriteString(q[t.start:t.end])
		}
	}
	n := strings.Join(strings.Fields(b.String()), " ")
	return strings.NewReplacer(" (", "(", "( ", "(", " )", ")").Replace(n)
}

// splitArgs splits a parenthesised, comma-separated list "(a, 'b,c', f(x))"
// into its top-level items, or reports false when s is not one.
func splitArgs(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") {
		return nil, false
	}
	depth := 0
	var out []string
	start := 1
	for _, t := range scan(s) {
		if t.kind != tokOther {
			continue
		}
		for i := t.start; i < t.end; i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					if strings.TrimSpace(s[i+1:]) != "" {
						return nil, false
					}
					if item := strings.TrimSpace(s[start:i]); item != "" || len(out) > 0 {
						out = append(out, item)
					}
					return out, true
				}
			case ',':
				if depth == 1 {
					out = append(out, strings.TrimSpace(s[start:i]))
					start = i + 1
				}
			}
		}
	}
	return nil, false
}
