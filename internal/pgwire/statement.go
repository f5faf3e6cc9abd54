package pgwire

import (
	"fmt"
	"strings"
)

// stmtKind says who answers a statement: the Runner (kindQuery) or the
// server itself (session statements, catalog answers, refusals).
type stmtKind int

const (
	kindQuery stmtKind = iota
	kindEmpty
	kindSet
	kindReset
	kindShow
	kindBegin
	kindCommit
	kindRollback
	kindVersion
	kindPrepare
	kindExecute
	kindDeallocate
	kindDiscard
	kindRefused
)

// statement is a parsed statement: a prepared statement of the extended
// protocol or of PREPARE, or one statement of a simple query.
type statement struct {
	sql       string
	kind      stmtKind
	nParams   int
	paramOIDs []uint32 // len nParams; 0 = unspecified

	// For kindSet/kindReset/kindShow: the setting (lower case) and value;
	// kindPrepare/kindExecute/kindDeallocate: the statement name.
	name, value string
	// kindPrepare: the statement prepared; kindExecute: the argument
	// expressions.
	inner *statement
	args  []string
	// kindRefused: the error to answer with.
	refusal *Error

	// fields caches the result columns once described; described reports
	// whether fields is valid (nil fields: no rows).
	fields    []field
	described bool
}

// refusedWords are statements the server never runs: views are defined in
// the deployment file and the backends are read-only.
var refusedWords = map[string]bool{
	"insert": true, "update": true, "delete": true, "merge": true, "upsert": true, "create": true,
	"drop": true, "alter": true, "truncate": true, "copy": true, "grant": true, "revoke": true,
	"vacuum": true, "attach": true, "detach": true, "install": true, "load": true, "import": true,
	"export": true, "checkpoint": true, "force": true, "call": true, "pragma": true, "use": true,
	"comment": true, "lock": true, "savepoint": true, "release": true, "do": true, "refresh": true,
	"cluster": true, "reindex": true, "security": true, "reassign": true,
}

var unsupportedWords = map[string]string{
	"listen": "LISTEN", "unlisten": "UNLISTEN", "notify": "NOTIFY", "fetch": "FETCH", "move": "MOVE",
	"declare": "DECLARE (cursors)", "close": "CLOSE (cursors)",
}

// parseStatement classifies one statement (no top-level ';').
func parseStatement(sql string, paramOIDs []uint32) (*statement, error) {
	st := &statement{sql: sql}
	w := words(sql, 6)
	if len(w) == 0 {
		st.kind = kindEmpty
		return st, nil
	}
	n := max(maxParam(sql), len(paramOIDs))
	st.nParams = n
	st.paramOIDs = make([]uint32, n)
	copy(st.paramOIDs, paramOIDs)
	for i, oid := range inferParamTypes(sql) {
		if i < n && st.paramOIDs[i] == 0 {
			st.paramOIDs[i] = oid
		}
	}
	switch w[0] {
	case "set":
		st.kind = kindSet
		st.name, st.value = parseSet(sql)
	case "reset":
		st.kind = kindReset
		if len(w) > 1 {
			st.name = strings.Trim(w[1], `"`)
		}
	case "show":
		st.kind = kindShow
		st.name = strings.Join(w[1:], " ")
		switch st.name {
		case "transaction isolation level":
			st.name = "transaction_isolation"
		case "time zone":
			st.name = "timezone"
		}
	case "begin", "start":
		st.kind = kindBegin
	case "commit", "end":
		st.kind = kindCommit
	case "rollback", "abort":
		st.kind = kindRollback
		if len(w) > 1 && (w[1] == "to" || w[1] == "prepared") {
			return refused(st, CodeFeatureNotSupported, "ROLLBACK TO SAVEPOINT is not supported"), nil
		}
	case "prepare":
		if len(w) > 1 && w[1] == "transaction" {
			return refused(st, CodeFeatureNotSupported, "PREPARE TRANSACTION is not supported"), nil
		}
		return parsePrepare(st)
	case "execute":
		return parseExecute(st)
	case "deallocate":
		st.kind = kindDeallocate
		name := w[1:]
		if len(name) > 0 && name[0] == "prepare" {
			name = name[1:]
		}
		if len(name) == 0 {
			return nil, &Error{Code: CodeSyntaxError, Message: "syntax error: DEALLOCATE needs a statement name or ALL"}
		}
		st.name = unquoteIdent(name[0])
	case "discard":
		st.kind = kindDiscard
		st.name = strings.Join(w[1:], " ")
	default:
		if refusedWords[w[0]] {
			return refused(st, CodeReadOnlySQLTransaction,
				fmt.Sprintf("cannot execute %s in a read-only transaction", strings.ToUpper(w[0]))), nil
		}
		if what, ok := unsupportedWords[w[0]]; ok {
			return refused(st, CodeFeatureNotSupported, what+" is not supported"), nil
		}
		switch normalize(sql) {
		case "select version()", "select pg_catalog.version()":
			st.kind = kindVersion
			return st, nil
		}
		st.kind = kindQuery
	}
	return st, nil
}

func refused(st *statement, code, msg string) *statement {
	st.kind = kindRefused
	st.refusal = &Error{Code: code, Message: msg}
	if code == CodeReadOnlySQLTransaction {
		st.refusal.Hint = "strata serves read-only SQL over its views; views are defined in the deployment file"
	}
	return st
}

// inferParamTypes returns, per placeholder $n, the OID of an explicit cast
// written right after it ($1::int8, $2::numeric(10,2)), or 0.
func inferParamTypes(sql string) []uint32 {
	toks := scan(sql)
	var out []uint32
	for i, t := range toks {
		if t.kind != tokPlaceholder || i+1 >= len(toks) || toks[i+1].kind != tokOther {
			continue
		}
		rest := sql[toks[i+1].start:toks[i+1].end]
		after, ok := strings.CutPrefix(strings.TrimLeft(rest, " \t\r\n"), "::")
		if !ok {
			continue
		}
		oid, ok := castTarget(after)
		if !ok {
			continue
		}
		for len(out) < t.param {
			out = append(out, 0)
		}
		out[t.param-1] = oid
	}
	return out
}

// castTarget reads the type name at the start of s.
func castTarget(s string) (uint32, bool) {
	s = strings.ToLower(strings.TrimLeft(s, " \t\r\n"))
	end := 0
	for end < len(s) && (s[end] == '_' || s[end] == '.' || s[end] >= 'a' && s[end] <= 'z' || s[end] >= '0' && s[end] <= '9') {
		end++
	}
	word := strings.TrimPrefix(s[:end], "pg_catalog.")
	rest := strings.Fields(s[end:])
	switch {
	case word == "double" && len(rest) > 0 && strings.HasPrefix(rest[0], "precision"):
		word = "double precision"
	case (word == "timestamp" || word == "time") && len(rest) >= 3 && rest[0] == "with" && rest[1] == "time" && strings.HasPrefix(rest[2], "zone"):
		word = "timestamptz"
		if strings.HasPrefix(s, "time ") {
			return 0, false
		}
	case word == "character" && len(rest) > 0 && strings.HasPrefix(rest[0], "varying"):
		word = "varchar"
	}
	if strings.HasPrefix(strings.TrimSpace(s[end:]), "[") {
		return 0, false // arrays
	}
	return lookupType(word)
}

// parseSet reads SET [SESSION|LOCAL] name {TO|=} value and SET TIME ZONE v.
func parseSet(sql string) (name, value string) {
	rest := strings.TrimSpace(sql[3:])
	low := strings.ToLower(rest)
	for _, p := range []string{"session ", "local "} {
		if strings.HasPrefix(low, p) && !strings.HasPrefix(low, "session characteristics") && !strings.HasPrefix(low, "session authorization") {
			rest, low = strings.TrimSpace(rest[len(p):]), low[len(p):]
			low = strings.TrimSpace(low)
		}
	}
	if strings.HasPrefix(low, "time zone") {
		return "timezone", unquoteValue(rest[len("time zone"):])
	}
	i := strings.IndexAny(rest, " =\t\r\n")
	if i < 0 {
		return strings.ToLower(unquoteIdent(rest)), ""
	}
	name = strings.ToLower(unquoteIdent(rest[:i]))
	v := strings.TrimSpace(rest[i:])
	if strings.HasPrefix(v, "=") {
		v = v[1:]
	} else if len(v) >= 3 && strings.EqualFold(v[:3], "to ") {
		v = v[3:]
	}
	return name, unquoteValue(v)
}

// unquoteValue reads a setting's value list: 'a', b → "a, b".
func unquoteValue(v string) string {
	v = strings.TrimSpace(v)
	var parts []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && p[0] == '\'' && p[len(p)-1] == '\'' {
			p = strings.ReplaceAll(p[1:len(p)-1], "''", "'")
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// readIdent reads an identifier at the start of s and returns it
// (unquoted, folded) and the rest.
func readIdent(s string) (string, string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		end := skipQuoted(s, 1, '"', false)
		return unquoteIdent(s[:end]), s[end:]
	}
	end := 0
	for end < len(s) && (s[end] == '_' || s[end] == '$' || s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z' || s[end] >= '0' && s[end] <= '9' || s[end] >= 0x80) {
		end++
	}
	return strings.ToLower(s[:end]), s[end:]
}

// parsePrepare reads PREPARE name [(type, ...)] AS statement.
func parsePrepare(st *statement) (*statement, error) {
	st.kind = kindPrepare
	name, rest := readIdent(strings.TrimSpace(st.sql)[len("prepare"):])
	if name == "" {
		return nil, &Error{Code: CodeSyntaxError, Message: "syntax error: PREPARE needs a statement name"}
	}
	st.name = name
	rest = strings.TrimSpace(rest)
	var oids []uint32
	if strings.HasPrefix(rest, "(") {
		end := matchParen(rest)
		if end < 0 {
			return nil, &Error{Code: CodeSyntaxError, Message: "syntax error in PREPARE: unbalanced parentheses"}
		}
		types, _ := splitArgs(rest[:end])
		for _, t := range types {
			oid, ok := lookupType(t)
			if !ok {
				return nil, &Error{Code: CodeUndefinedObject, Message: fmt.Sprintf("type %q does not exist", t),
					Hint: "strata knows boolean, smallint, integer, bigint, real, double precision, numeric, text, varchar, bytea, date, time, timestamp, timestamptz, interval, uuid"}
			}
			oids = append(oids, oid)
		}
		rest = strings.TrimSpace(rest[end:])
	}
	if len(rest) < 3 || !strings.EqualFold(rest[:2], "as") || !isSpace(rest[2]) {
		return nil, &Error{Code: CodeSyntaxError, Message: "syntax error in PREPARE: expected AS followed by the statement"}
	}
	inner, err := parseStatement(strings.TrimSpace(rest[2:]), oids)
	if err != nil {
		return nil, err
	}
	switch inner.kind {
	case kindQuery, kindVersion, kindShow, kindRefused:
	default:
		return nil, &Error{Code: CodeFeatureNotSupported, Message: "only a query can be prepared"}
	}
	st.inner = inner
	return st, nil
}

// parseExecute reads EXECUTE name [(arg, ...)].
func parseExecute(st *statement) (*statement, error) {
	st.kind = kindExecute
	name, rest := readIdent(strings.TrimSpace(st.sql)[len("execute"):])
	if name == "" {
		return nil, &Error{Code: CodeSyntaxError, Message: "syntax error: EXECUTE needs a statement name"}
	}
	st.name = name
	if rest = strings.TrimSpace(rest); rest != "" {
		args, ok := splitArgs(rest)
		if !ok {
			return nil, &Error{Code: CodeSyntaxError, Message: "syntax error in EXECUTE: expected (argument, ...)"}
		}
		st.args = args
	}
	return st, nil
}

// matchParen returns the index just past the parenthesis closing s[0].
func matchParen(s string) int {
	depth := 0
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
					return i + 1
				}
			}
		}
	}
	return -1
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
