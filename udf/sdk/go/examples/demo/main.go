//go:build wasip1

// Command demo is the worked example of the Go SDK: a numeric scalar
// (double_it), a string scalar (shout), a table function (words) and a
// retractable aggregate (mean). Its manifest is strata.json.
package main

import (
	"strings"

	strata "github.com/stratadb/strata/udf/sdk/go"
)

func main() {}

// double_it(x double) -> double: 2x, NULL for NULL.
//
//go:wasmexport double_it
func doubleIt(frame int32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(strata.Double, in.Rows())
	xs, ys := x.Float64s(), out.Float64s()
	for i := range ys {
		ys[i] = xs[i] * 2
	}
	out.NullWhere(x)
	return out.Finish()
}

// shout(s varchar) -> varchar: ASCII letters upper-cased, other bytes kept,
// with a "!"; an empty string is a row error.
//
//go:wasmexport shout
func shout(frame int32) int32 {
	in := strata.Input(frame)
	s := in.Arg(0)
	out := strata.Out(strata.Varchar, 0)
	for i := 0; i < in.Rows(); i++ {
		switch {
		case s.IsNull(i):
			out.AppendNull()
		case s.String(i) == "":
			out.AppendNull()
			out.Error(i, "shout: empty string")
		default:
			buf = append(buf[:0], s.Bytes(i)...)
			for j, c := range buf {
				if 'a' <= c && c <= 'z' {
					buf[j] = c - 'a' + 'A'
				}
			}
			out.AppendBytes(append(buf, '!'))
		}
	}
	return out.Finish()
}

var buf []byte

// asciiSpace is the whitespace words splits on, as in the other SDKs.
func asciiSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
}

// words(s varchar) -> setof varchar: the words of s.
//
//go:wasmexport words
func words(frame int32) int32 {
	in := strata.Input(frame)
	s := in.Arg(0)
	out := strata.Out(strata.Varchar, 0)
	for i := 0; i < in.Rows(); i++ {
		if s.IsNull(i) {
			continue
		}
		for _, w := range strings.FieldsFunc(s.String(i), asciiSpace) {
			out.Emit(i)
			out.AppendString(w)
		}
	}
	return out.Finish()
}

// mean(x double) -> double: the average of the non-NULL values; retractable.
type meanState struct {
	Sum   float64
	Count int64
}

//go:wasmexport mean_accumulate
func meanAccumulate(frame int32) int32 {
	return strata.Fold(frame, meanState{}, func(s *meanState, f strata.Frame, row int) {
		if x := f.Arg(0); !x.IsNull(row) {
			s.Sum += x.Float64s()[row]
			s.Count++
		}
	})
}

//go:wasmexport mean_retract
func meanRetract(frame int32) int32 {
	return strata.Fold(frame, meanState{}, func(s *meanState, f strata.Frame, row int) {
		if x := f.Arg(0); !x.IsNull(row) {
			s.Sum -= x.Float64s()[row]
			s.Count--
		}
	})
}

//go:wasmexport mean_merge
func meanMerge(frame int32) int32 {
	return strata.MergeStates(frame, meanState{}, func(a *meanState, b meanState) {
		a.Sum += b.Sum
		a.Count += b.Count
	})
}

//go:wasmexport mean_finish
func meanFinish(frame int32) int32 {
	return strata.FinishStates(frame, meanState{}, strata.Double, func(s meanState, r *strata.Result, g int) {
		if s.Count == 0 {
			r.SetNull(g)
			return
		}
		r.Float64s()[g] = s.Sum / float64(s.Count)
	})
}
