//go:build wasip1

// Command types returns each argument unchanged, one function per ABI
// type, for the host's round-trip tests.
package main

import strata "github.com/stratadb/strata/udf/sdk/go"

func main() {}

//go:wasmexport id_boolean
func idBoolean(frame int32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(strata.Boolean, in.Rows())
	for i := 0; i < in.Rows(); i++ {
		out.SetBool(i, x.Bool(i))
	}
	out.NullWhere(x)
	return out.Finish()
}

//go:wasmexport id_integer
func idInteger(frame int32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(strata.Int32, in.Rows())
	copy(out.Int32s(), x.Int32s())
	out.NullWhere(x)
	return out.Finish()
}

//go:wasmexport id_bigint
func idBigint(frame int32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(strata.Int64, in.Rows())
	copy(out.Int64s(), x.Int64s())
	out.NullWhere(x)
	return out.Finish()
}

//go:wasmexport id_double
func idDouble(frame int32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(strata.Double, in.Rows())
	copy(out.Float64s(), x.Float64s())
	out.NullWhere(x)
	return out.Finish()
}

//go:wasmexport id_timestamp
func idTimestamp(frame int32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(strata.Timestamp, in.Rows())
	copy(out.Int64s(), x.Int64s())
	out.NullWhere(x)
	return out.Finish()
}

func idBytes(frame int32, typ uint32) int32 {
	in := strata.Input(frame)
	x := in.Arg(0)
	out := strata.Out(typ, 0)
	for i := 0; i < in.Rows(); i++ {
		if x.IsNull(i) {
			out.AppendNull()
		} else {
			out.AppendBytes(x.Bytes(i))
		}
	}
	return out.Finish()
}

//go:wasmexport id_varchar
func idVarchar(frame int32) int32 { return idBytes(frame, strata.Varchar) }

//go:wasmexport id_bytea
func idBytea(frame int32) int32 { return idBytes(frame, strata.Bytea) }
