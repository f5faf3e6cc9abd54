// Package schema holds what every backend does the same way with a view's
// definition: validating a core.ViewDef, storing it in a stable text form and
// detecting a mismatch with a stored one, checking that a changelog batch has
// the view's column types, and converting user-supplied key values (Go values
// or text from the CLI) to a column's type.
//
// All functions are pure and safe for concurrent use. Arrow arguments are
// borrowed; Canonical returns a batch the caller must Release.
package schema
