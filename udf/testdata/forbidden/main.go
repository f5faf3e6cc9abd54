//go:build wasip1

// Command forbidden imports a host function the sandbox does not provide.
package main

import strata "github.com/stratadb/strata/udf/sdk/go"

func main() {}

//go:wasmimport env open_socket
func openSocket() int32

//go:wasmexport f
func f(frame int32) int32 {
	in := strata.Input(frame)
	out := strata.Out(strata.Int64, in.Rows())
	out.Int64s()[0] = int64(openSocket())
	return out.Finish()
}
