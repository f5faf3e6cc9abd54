//go:build wasip1

// Command sandbox is a module that misbehaves on purpose, for the host's
// sandbox tests: each function breaks one rule.
package main

import (
	"os"
	"unsafe"

	strata "github.com/stratadb/strata/udf/sdk/go"
)

func main() {}

var sink []byte

// spin(x) loops forever when x < 0, else returns x.
//
//go:wasmexport spin
func spin(frame int32) int32 {
	in := strata.Input(frame)
	xs := in.Arg(0).Int64s()
	out := strata.Out(strata.Int64, in.Rows())
	ys := out.Int64s()
	for i, x := range xs {
		for x < 0 {
			x -= 2
			if x == -1 {
				x = -3
			}
		}
		ys[i] = x
	}
	return out.Finish()
}

// bomb(x) allocates until the memory limit when x < 0.
//
//go:wasmexport bomb
func bomb(frame int32) int32 {
	in := strata.Input(frame)
	xs := in.Arg(0).Int64s()
	out := strata.Out(strata.Int64, in.Rows())
	ys := out.Int64s()
	for i, x := range xs {
		if x < 0 {
			var hoard [][]byte
			for {
				hoard = append(hoard, make([]byte, 1<<20))
				sink = hoard[len(hoard)-1]
			}
		}
		ys[i] = x
	}
	return out.Finish()
}

// trap(x) panics when x < 0 (a Go panic: the module exits with code 2).
//
//go:wasmexport trap
func trap(frame int32) int32 {
	in := strata.Input(frame)
	xs := in.Arg(0).Int64s()
	out := strata.Out(strata.Int64, in.Rows())
	ys := out.Int64s()
	for i, x := range xs {
		if x < 0 {
			os.Stderr.WriteString("trap: negative input\n")
			panic("negative input")
		}
		ys[i] = x
	}
	return out.Finish()
}

// wild(x) returns a result descriptor far outside its memory.
//
//go:wasmexport wild
func wild(frame int32) int32 { return 0x7ffffff0 }

// liar(x) claims more rows than it was given.
//
//go:wasmexport liar
func liar(frame int32) int32 {
	in := strata.Input(frame)
	out := strata.Out(strata.Int64, in.Rows()+1)
	return out.Finish()
}

// garble(x) returns a varchar result whose offsets go backwards.
//
//go:wasmexport garble
func garble(frame int32) int32 {
	in := strata.Input(frame)
	out := strata.Out(strata.Varchar, 0)
	for i := 0; i < in.Rows(); i++ {
		out.AppendString("ab")
	}
	r := out.Finish()
	// The offsets pointer is at +32 of the descriptor; make row 0 end
	// after row 1.
	offs := *(*uint32)(unsafe.Pointer(uintptr(r + 32)))
	if in.Rows() >= 2 {
		*(*int32)(unsafe.Pointer(uintptr(offs + 4))) = 100
	}
	return r
}

// clock() returns the wall clock in microseconds (0 when not granted:
// the sandbox's clock is frozen at the epoch).
//
//go:wasmexport clock
func clock(frame int32) int32 {
	in := strata.Input(frame)
	out := strata.Out(strata.Int64, in.Rows())
	now := nowMicros()
	for i := range out.Int64s() {
		out.Int64s()[i] = now
	}
	return out.Finish()
}

// pickysum(x) sums, reporting negative rows as errors (skipped).
type pickyState struct{ Sum int64 }

func pickyStep(sign int64) func(s *pickyState, f strata.Frame, row int) {
	return func(s *pickyState, f strata.Frame, row int) {
		x := f.Arg(0).Int64s()[row]
		if x < 0 {
			strata.Fail(row, "pickysum: negative value")
			return
		}
		s.Sum += sign * x
	}
}

//go:wasmexport pickysum_accumulate
func pickyAccumulate(frame int32) int32 { return strata.Fold(frame, pickyState{}, pickyStep(1)) }

//go:wasmexport pickysum_retract
func pickyRetract(frame int32) int32 { return strata.Fold(frame, pickyState{}, pickyStep(-1)) }

//go:wasmexport pickysum_merge
func pickyMerge(frame int32) int32 {
	return strata.MergeStates(frame, pickyState{}, func(a *pickyState, b pickyState) { a.Sum += b.Sum })
}

//go:wasmexport pickysum_finish
func pickyFinish(frame int32) int32 {
	return strata.FinishStates(frame, pickyState{}, strata.Int64, func(s pickyState, r *strata.Result, g int) {
		r.Int64s()[g] = s.Sum
	})
}
