package engine

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stratadb/strata/engine/core"
)

// String functions count characters (Unicode code points), not bytes, as
// Postgres and DuckDB do; positions are 1-based.

func init() {
	kernels["lower"] = strFunc(func(a []operand, i int, dst []byte) ([]byte, error) {
		return appendCase(dst, a[0].strs().at(i), unicode.ToLower), nil
	})
	kernels["upper"] = strFunc(func(a []operand, i int, dst []byte) ([]byte, error) {
		return appendCase(dst, a[0].strs().at(i), unicode.ToUpper), nil
	})
	kernels["length"] = lengthKernel
	kernels["substr"] = substrKernel
	kernels["btrim"] = trimKernel(true, true)
	kernels["ltrim"] = trimKernel(true, false)
	kernels["rtrim"] = trimKernel(false, true)
	kernels["concat"] = concatKernel
	kernels["concat_op"] = strFunc(func(a []operand, i int, dst []byte) ([]byte, error) {
		return append(append(dst, a[0].strs().at(i)...), a[1].strs().at(i)...), nil
	})
	kernels["replace"] = replaceKernel
	kernels["strpos"] = strposKernel
	kernels["left"] = leftRight(true)
	kernels["right"] = leftRight(false)
	kernels["starts_with"] = startsWithKernel
	kernels["split_part"] = splitPartKernel
	kernels["lpad"] = padKernel(true)
	kernels["rpad"] = padKernel(false)
	kernels["reverse"] = strFunc(func(a []operand, i int, dst []byte) ([]byte, error) {
		s := a[0].strs().at(i)
		for len(s) > 0 {
			r, size := utf8.DecodeLastRuneInString(s)
			dst = utf8.AppendRune(dst, r)
			s = s[:len(s)-size]
		}
		return dst, nil
	})
	kernels["repeat"] = strFunc(func(a []operand, i int, dst []byte) ([]byte, error) {
		s, k := a[0].strs().at(i), nums[int64](a[1]).at(i)
		if k > 0 && int64(len(s))*k > 1<<28 {
			return nil, fmt.Errorf("result too large")
		}
		for ; k > 0; k-- {
			dst = append(dst, s...)
		}
		return dst, nil
	})
}

// strFunc builds a strict varchar kernel from f, which appends row i's
// result to dst; one scratch buffer serves every row, so the loop does not
// allocate per row.
func strFunc(f func(args []operand, i int, dst []byte) ([]byte, error)) kernel {
	return func(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
		return mapStr(mem, n, args, f)
	}
}

func mapStr(mem memory.Allocator, n int, args []operand, f func(args []operand, i int, dst []byte) ([]byte, error)) (arrow.Array, error) {
	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	if a := args[0].arr; a != nil {
		if s, ok := a.(*array.String); ok {
			bld.ReserveData(len(s.ValueBytes()))
		}
	}
	valid := strictValid(n, args)
	var scratch []byte
	for i := 0; i < n; i++ {
		if !valid[i] {
			bld.AppendNull()
			continue
		}
		out, err := f(args, i, scratch[:0])
		if err != nil {
			return nil, err
		}
		bld.BinaryBuilder.Append(out)
		scratch = out
	}
	return bld.NewArray(), nil
}

// mapInt builds a strict bigint (or boolean, via mapBool) result.
func mapInt(mem memory.Allocator, n int, args []operand, t core.Type, f func(i int) int64) arrow.Array {
	valid := strictValid(n, args)
	buf, out := newValues[int64](mem, n)
	for i := range out {
		if valid[i] {
			out[i] = f(i)
		}
	}
	return finishFixed(mem, t.Arrow, valid, buf)
}

func appendCase(dst []byte, s string, f func(rune) rune) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				dst = utf8.AppendRune(dst, f(r))
			}
			return dst
		}
		if 'A' <= c && c <= 'Z' && f(rune(c)) != rune(c) || 'a' <= c && c <= 'z' && f(rune(c)) != rune(c) {
			c ^= 0x20
		}
		dst = append(dst, c)
	}
	return dst
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// charCount is the length of s in characters.
func charCount(s string) int64 {
	if isASCII(s) {
		return int64(len(s))
	}
	return int64(utf8.RuneCountInString(s))
}

// byteAt returns the byte offset of character k of s (clamped to len(s)).
func byteAt(s string, k int64) int {
	if k <= 0 {
		return 0
	}
	if isASCII(s) {
		return int(min(k, int64(len(s))))
	}
	for i := range s {
		if k == 0 {
			return i
		}
		k--
	}
	return len(s)
}

// chars returns characters [from, to) of s, clamped to its bounds.
func chars(s string, from, to int64) string {
	if to <= from {
		return ""
	}
	return s[byteAt(s, from):byteAt(s, to)]
}

func lengthKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	s := args[0].strs()
	return mapInt(mem, n, args, t, func(i int) int64 { return charCount(s.at(i)) }), nil
}

// satAdd adds without wrapping around.
func satAdd(a, b int64) int64 {
	s, ok := addOK(a, b)
	if !ok {
		if b > 0 {
			return 1<<63 - 1
		}
		return -1 << 63
	}
	return s
}

// substrKernel is substr(s, start[, count]) with DuckDB's rules: a
// negative start counts from the end, start 0 is one before the first
// character, and a negative count takes the characters before start.
// (Postgres errors on a negative count and never counts from the end.)
func substrKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	start := nums[int64](args[1])
	count := numAt[int64]{c: 1 << 32}
	if len(args) > 2 {
		count = nums[int64](args[2])
	}
	return mapStr(mem, n, args, func(args []operand, i int, dst []byte) ([]byte, error) {
		s := args[0].strs().at(i)
		size := charCount(s)
		off, length := start.at(i), count.at(i)
		// The window [from, to) in characters, clamped to the string only
		// at the end: substr('A', -3, 1) is empty, not 'A'.
		var from, to int64
		switch {
		case length == 0:
			return dst, nil
		case off > 0:
			from = off - 1
		case off < 0:
			from = size + off
		default:
			from = 0
			length--
			if length <= 0 {
				return dst, nil
			}
		}
		if length > 0 {
			to = satAdd(from, length)
		} else {
			to = from
			from = satAdd(from, length)
		}
		from, to = max(from, 0), min(to, size)
		return append(dst, chars(s, from, to)...), nil
	})
}

func trimKernel(left, right bool) kernel {
	return strFunc(func(args []operand, i int, dst []byte) ([]byte, error) {
		s, cut := args[0].strs().at(i), " "
		if len(args) > 1 {
			cut = args[1].strs().at(i)
		}
		if left {
			s = strings.TrimLeft(s, cut)
		}
		if right {
			s = strings.TrimRight(s, cut)
		}
		return append(dst, s...), nil
	})
}

// concatKernel is concat(a, b, ...): NULL arguments count as empty, so the
// result is never NULL (the || operator, concat_op, is strict instead).
func concatKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	bld := array.NewStringBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	strs := make([]strAt, len(args))
	for k, a := range args {
		strs[k] = a.strs()
	}
	var scratch []byte
	for i := 0; i < n; i++ {
		out := scratch[:0]
		for k, a := range args {
			if !a.null(i) {
				out = append(out, strs[k].at(i)...)
			}
		}
		bld.BinaryBuilder.Append(out)
		scratch = out
	}
	return bld.NewArray(), nil
}

func replaceKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	return mapStr(mem, n, args, func(args []operand, i int, dst []byte) ([]byte, error) {
		s, from, to := args[0].strs().at(i), args[1].strs().at(i), args[2].strs().at(i)
		if from == "" {
			return append(dst, s...), nil
		}
		for {
			j := strings.Index(s, from)
			if j < 0 {
				return append(dst, s...), nil
			}
			dst = append(append(dst, s[:j]...), to...)
			s = s[j+len(from):]
		}
	})
}

// strposKernel is strpos(s, sub) / position(sub IN s): the 1-based
// character position of the first match, 0 when there is none.
func strposKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	s, sub := args[0].strs(), args[1].strs()
	return mapInt(mem, n, args, t, func(i int) int64 {
		str := s.at(i)
		j := strings.Index(str, sub.at(i))
		if j < 0 {
			return 0
		}
		return charCount(str[:j]) + 1
	}), nil
}

// leftRight is left(s, n) / right(s, n); a negative n drops |n| characters
// from the other end.
func leftRight(left bool) kernel {
	return strFunc(func(args []operand, i int, dst []byte) ([]byte, error) {
		s, k := args[0].strs().at(i), nums[int64](args[1]).at(i)
		size := charCount(s)
		if left {
			if k < 0 {
				k = max(size+k, 0)
			}
			return append(dst, chars(s, 0, k)...), nil
		}
		if k < 0 {
			return append(dst, chars(s, min(-k, size), size)...), nil
		}
		return append(dst, chars(s, max(size-k, 0), size)...), nil
	})
}

func mapBool(mem memory.Allocator, n int, args []operand, f func(i int) bool) arrow.Array {
	valid := strictValid(n, args)
	bld := array.NewBooleanBuilder(mem)
	defer bld.Release()
	bld.Reserve(n)
	for i, v := range valid {
		if v {
			bld.UnsafeAppend(f(i))
		} else {
			bld.AppendNull()
		}
	}
	return bld.NewArray()
}

func startsWithKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	s, p := args[0].strs(), args[1].strs()
	return mapBool(mem, n, args, func(i int) bool { return strings.HasPrefix(s.at(i), p.at(i)) }), nil
}

// splitPartKernel is split_part(s, delim, k): field k (1-based; negative
// counts from the end) or ” when there is none. An empty delimiter splits
// into characters (DuckDB).
func splitPartKernel(mem memory.Allocator, n int, args []operand, t core.Type) (arrow.Array, error) {
	return mapStr(mem, n, args, func(args []operand, i int, dst []byte) ([]byte, error) {
		s, d, k := args[0].strs().at(i), args[1].strs().at(i), nums[int64](args[2]).at(i)
		if s == "" {
			return dst, nil
		}
		var parts int64
		if d == "" {
			parts = charCount(s)
		} else {
			parts = int64(strings.Count(s, d)) + 1
		}
		if k < 0 {
			k += parts + 1
		}
		if k < 1 || k > parts {
			return dst, nil
		}
		if d == "" {
			return append(dst, chars(s, k-1, k)...), nil
		}
		for ; k > 1; k-- {
			s = s[strings.Index(s, d)+len(d):]
		}
		if j := strings.Index(s, d); j >= 0 {
			s = s[:j]
		}
		return append(dst, s...), nil
	})
}

// padKernel is lpad/rpad(s, length[, fill]): pad with fill (default ' ')
// or truncate to length characters.
func padKernel(left bool) kernel {
	return strFunc(func(args []operand, i int, dst []byte) ([]byte, error) {
		s, k, fill := args[0].strs().at(i), nums[int64](args[1]).at(i), " "
		if len(args) > 2 {
			fill = args[2].strs().at(i)
		}
		if k > 1<<28 {
			return nil, fmt.Errorf("padded length %d too large", k)
		}
		size := charCount(s)
		if k <= size {
			return append(dst, chars(s, 0, max(k, 0))...), nil
		}
		if fill == "" {
			return nil, fmt.Errorf("insufficient padding")
		}
		need := k - size
		pad := func(dst []byte) []byte {
			for need > 0 {
				for _, r := range fill {
					if need == 0 {
						break
					}
					dst = utf8.AppendRune(dst, r)
					need--
				}
			}
			return dst
		}
		if left {
			return append(pad(dst), s...), nil
		}
		return pad(append(dst, s...)), nil
	})
}

// likePattern is a compiled LIKE pattern.
type likePattern struct {
	toks []likeTok
	fold bool
	// kind is a fast path for patterns that need no matcher.
	kind           int // 0 general, 1 equal, 2 prefix, 3 suffix, 4 contains
	lit            string
	hasUnderscores bool
}

type likeTok struct {
	lit  string // literal run
	one  bool   // _
	many bool   // %
}

// compileLike parses p; esc 0 means no escape character.
func compileLike(p string, esc rune, fold bool) (*likePattern, error) {
	lp := &likePattern{fold: fold}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			lp.toks = append(lp.toks, likeTok{lit: lit.String()})
			lit.Reset()
		}
	}
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case esc != 0 && r == esc:
			if i+1 == len(rs) {
				return nil, fmt.Errorf("LIKE pattern must not end with escape character")
			}
			i++
			lit.WriteRune(rs[i])
		case r == '%':
			flush()
			if len(lp.toks) == 0 || !lp.toks[len(lp.toks)-1].many {
				lp.toks = append(lp.toks, likeTok{many: true})
			}
		case r == '_':
			flush()
			lp.toks = append(lp.toks, likeTok{one: true})
			lp.hasUnderscores = true
		default:
			lit.WriteRune(r)
		}
	}
	flush()
	if fold {
		for i := range lp.toks {
			lp.toks[i].lit = strings.ToLower(lp.toks[i].lit)
		}
	}
	t := lp.toks
	switch {
	case fold || lp.hasUnderscores:
	case len(t) == 0:
		lp.kind, lp.lit = 1, ""
	case len(t) == 1 && !t[0].many:
		lp.kind, lp.lit = 1, t[0].lit
	case len(t) == 1:
		lp.kind, lp.lit = 4, ""
	case len(t) == 2 && t[1].many:
		lp.kind, lp.lit = 2, t[0].lit
	case len(t) == 2 && t[0].many:
		lp.kind, lp.lit = 3, t[1].lit
	case len(t) == 3 && t[0].many && t[2].many:
		lp.kind, lp.lit = 4, t[1].lit
	}
	return lp, nil
}

func (lp *likePattern) match(s string) bool {
	switch lp.kind {
	case 1:
		return s == lp.lit
	case 2:
		return strings.HasPrefix(s, lp.lit)
	case 3:
		return strings.HasSuffix(s, lp.lit)
	case 4:
		return strings.Contains(s, lp.lit)
	}
	if lp.fold {
		s = strings.ToLower(s)
	}
	return matchToks(lp.toks, s)
}

// matchToks matches s against toks: the classic wildcard matcher that,
// on a mismatch, lets the most recent % swallow one more character.
func matchToks(toks []likeTok, s string) bool {
	t, si := 0, 0
	starT, starS := -1, 0
	for {
		if t < len(toks) {
			tk := toks[t]
			switch {
			case tk.many:
				starT, starS = t, si
				t++
				continue
			case tk.one:
				if si < len(s) {
					_, size := utf8.DecodeRuneInString(s[si:])
					si += size
					t++
					continue
				}
			default:
				if strings.HasPrefix(s[si:], tk.lit) {
					si += len(tk.lit)
					t++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starS:])
		starS += size
		t, si = starT+1, starS
	}
}

func evalLike(mem memory.Allocator, e *Like, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	x, err := Eval(mem, e.X, b)
	if err != nil {
		return nil, err
	}
	defer x.Release()
	args := []operand{{arr: x, t: e.X.Type()}}
	if c, ok := e.Pattern.(*Const); ok {
		if c.Value == nil {
			return constColumn(mem, &Const{T: core.Boolean}, n)
		}
		lp, err := compileLike(c.Value.(string), e.Escape, e.Fold)
		if err != nil {
			return nil, err
		}
		s := x.(*array.String)
		return mapBool(mem, n, args, func(i int) bool { return lp.match(s.Value(i)) != e.Not }), nil
	}
	p, err := Eval(mem, e.Pattern, b)
	if err != nil {
		return nil, err
	}
	defer p.Release()
	args = append(args, operand{arr: p, t: e.Pattern.Type()})
	s, ps := x.(*array.String), p.(*array.String)
	var cerr error
	out := mapBool(mem, n, args, func(i int) bool {
		lp, err := compileLike(ps.Value(i), e.Escape, e.Fold)
		if err != nil {
			cerr = err
			return false
		}
		return lp.match(s.Value(i)) != e.Not
	})
	if cerr != nil {
		out.Release()
		return nil, cerr
	}
	return out, nil
}
