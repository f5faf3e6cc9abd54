// Package udf will host WebAssembly user-defined functions: the wazero
// runtime, the batched Arrow ABI, module manifests, the compilation cache and
// the sandbox limits, with SDKs under udf/sdk/<lang>.
//
// It is empty in the foundation release on purpose: the deployment file
// already accepts `udfs: [{name, path}]` and validates that each module
// exists, and the engine's expression interface (engine.Expr) is where UDF
// calls will plug in. The WASM UDF issue builds the host. udf may import
// only engine/core (see internal/lint).
package udf
