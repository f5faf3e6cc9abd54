package config

import (
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// sqlText remembers where a view's SQL scalar is written, so offsets in the
// SQL text can be mapped back to the file.
type sqlText struct {
	src []byte
	pos Pos // the scalar as yaml.v3 reports it (for a block scalar: the | or >)
	// start is the byte offset in src where the text begins: the first
	// character of a flow scalar (its quote, if quoted), or the start of
	// the line after a block scalar's indicator.
	start int
}

func (b *builder) sqlText(v *value) sqlText {
	t := sqlText{src: b.d.src, pos: v.pos, start: -1}
	ls := lineStart(b.d.src, v.node.Line)
	if ls < 0 {
		return t
	}
	if v.node.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		// The content starts on the line after the indicator.
		t.start = lineStart(b.d.src, v.node.Line+1)
		return t
	}
	j := ls
	for c := 1; c < v.node.Column && j < len(b.d.src) && b.d.src[j] != '\n'; c++ {
		_, n := utf8.DecodeRune(b.d.src[j:])
		j += n
	}
	t.start = j
	return t
}

// lineStart returns the byte offset at which 1-based line begins, or -1.
func lineStart(src []byte, line int) int {
	if line < 1 {
		return -1
	}
	j := 0
	for l := 1; l < line; l++ {
		k := indexByte(src[j:], '\n')
		if k < 0 {
			return -1
		}
		j += k + 1
	}
	return j
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// SQLPos maps a 0-based byte offset in v.SQL to the position in the file
// of the character it came from. It handles block scalars (sql: | or >,
// whose text starts on the next line and is indented), and plain and quoted
// scalars on one or more lines. An offset out of range is clamped; a View
// not built by Load or Parse maps every offset to v.Pos.
func (v View) SQLPos(offset int) Pos {
	t := v.sql
	if t.src == nil || t.start < 0 || v.SQL == "" {
		if t.pos.Line > 0 {
			return t.pos
		}
		return v.Pos
	}
	sql, src := v.SQL, t.src
	offset = max(0, min(offset, len(sql)))
	// Walk the text and the file side by side. Characters that agree
	// advance both; what the file has and the text lacks (indentation,
	// quotes, escape backslashes, line breaks folded to spaces) advances
	// the file; what the text has and the file lacks (an escape's result)
	// advances the text.
	i, j := 0, t.start
	for i < offset && j < len(src) {
		switch {
		case sql[i] == src[j]:
			i++
			j++
		case skippable(src[j]):
			j++
		default:
			i++
		}
	}
	if offset < len(sql) {
		for j < len(src) && src[j] != sql[offset] && skippable(src[j]) {
			j++
		}
	}
	return posAt(t.pos.File, src, j)
}

func skippable(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '\\':
		return true
	}
	return false
}

// posAt returns the file position of byte offset j of src.
func posAt(file string, src []byte, j int) Pos {
	j = min(j, len(src))
	line, ls := 1, 0
	for k := 0; k < j; k++ {
		if src[k] == '\n' {
			line, ls = line+1, k+1
		}
	}
	return Pos{File: file, Line: line, Col: utf8.RuneCount(src[ls:j]) + 1}
}
