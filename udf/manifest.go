package udf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/stratadb/strata/engine/core"
)

// ABIVersion is the version of the batched Arrow ABI this host speaks
// (docs/udf-abi.md). A module's manifest names the version it was built for.
const ABIVersion = 1

// ManifestSection is the name of the WebAssembly custom section that holds
// a module's manifest (JSON).
const ManifestSection = "strata.manifest"

// Kind is what a function does with its rows.
type Kind string

// The function kinds of ABI v1.
const (
	// Scalar maps each input row to one output row.
	Scalar Kind = "scalar"
	// Table maps each input row to zero or more output rows, each tagged
	// with the index of the row it came from.
	Table Kind = "table"
	// Aggregate folds rows into a state blob per group: accumulate,
	// retract, merge and finish (init is the NULL state).
	Aggregate Kind = "aggregate"
)

// Manifest is a module's description of itself, stored as JSON in the
// custom section ManifestSection.
type Manifest struct {
	// ABI is the ABI version the module was built for.
	ABI int `json:"abi"`
	// Functions lists the functions the module exports.
	Functions []FunctionSpec `json:"functions"`
}

// FunctionSpec is one function of a manifest.
type FunctionSpec struct {
	Name          string   `json:"name"`
	Kind          Kind     `json:"kind"`
	Args          []string `json:"args"`
	Returns       string   `json:"returns"`
	Deterministic bool     `json:"deterministic"`
	// State optionally names the aggregate's state type for documentation;
	// on the wire a state is always a bytea blob.
	State string `json:"state,omitempty"`
}

// abiTypes are the SQL types ABI v1 carries, by every accepted spelling.
var abiTypes = map[string]core.Type{
	"boolean": core.Boolean, "bool": core.Boolean,
	"integer": core.Integer, "int": core.Integer, "int4": core.Integer, "int32": core.Integer,
	"bigint": core.Bigint, "int8": core.Bigint, "int64": core.Bigint,
	"double": core.Double, "float8": core.Double, "float64": core.Double, "double precision": core.Double,
	"varchar": core.Varchar, "text": core.Varchar, "string": core.Varchar,
	"bytea": core.Bytea, "bytes": core.Bytea, "blob": core.Bytea,
	"timestamp": core.Timestamp,
}

// ParseType resolves an ABI type name: boolean, integer (int32), bigint
// (int64), double, varchar, bytea or timestamp.
func ParseType(name string) (core.Type, error) {
	t, ok := abiTypes[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return core.Type{}, fmt.Errorf("unknown type %q (ABI v1 types: boolean, integer, bigint, double, varchar, bytea, timestamp)", name)
	}
	return t, nil
}

// ParseManifest decodes and checks a manifest, reporting every problem.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate reports every problem of m at once.
func (m *Manifest) Validate() error {
	var errs []error
	if m.ABI != ABIVersion {
		errs = append(errs, fmt.Errorf("manifest: abi %d is not supported (this host speaks abi %d)", m.ABI, ABIVersion))
	}
	if len(m.Functions) == 0 {
		errs = append(errs, errors.New("manifest: no functions"))
	}
	seen := map[string]bool{}
	for i, f := range m.Functions {
		where := fmt.Sprintf("manifest: functions[%d] %q", i, f.Name)
		if !isIdent(f.Name) {
			errs = append(errs, fmt.Errorf("%s: name must be a lower-case identifier ([a-z_][a-z0-9_]*)", where))
		}
		for _, e := range f.exports() {
			if seen[e] {
				errs = append(errs, fmt.Errorf("%s: export %q is used twice", where, e))
			}
			seen[e] = true
		}
		switch f.Kind {
		case Scalar, Table, Aggregate:
		default:
			errs = append(errs, fmt.Errorf("%s: kind %q must be scalar, table or aggregate", where, f.Kind))
		}
		for j, a := range f.Args {
			if _, err := ParseType(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: args[%d]: %w", where, j, err))
			}
		}
		if _, err := ParseType(f.Returns); err != nil {
			errs = append(errs, fmt.Errorf("%s: returns: %w", where, err))
		}
	}
	return errors.Join(errs...)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return true
}

// exports lists the wasm exports the function needs.
func (f FunctionSpec) exports() []string {
	if f.Kind == Aggregate {
		return []string{f.Name + "_accumulate", f.Name + "_retract", f.Name + "_merge", f.Name + "_finish"}
	}
	return []string{f.Name}
}

// wasmMagic is the header of every WebAssembly binary (magic, version 1).
var wasmMagic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// section is one section of a module: its id, its name (custom sections)
// and where its bytes are.
type section struct {
	id         byte
	name       string
	start, end int // the whole section, header included
	body       int // start of the payload (after the custom name)
}

// sections splits a module into its sections without decoding them.
func sections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:8], wasmMagic) {
		return nil, errors.New("not a WebAssembly module (bad magic or version)")
	}
	var out []section
	for p := 8; p < len(wasm); {
		s := section{id: wasm[p], start: p}
		size, n := binary.Uvarint(wasm[p+1:])
		if n <= 0 || size > uint64(len(wasm)) || p+1+n+int(size) > len(wasm) {
			return nil, fmt.Errorf("truncated section at byte %d", p)
		}
		s.body = p + 1 + n
		s.end = s.body + int(size)
		if s.id == 0 {
			l, k := binary.Uvarint(wasm[s.body:s.end])
			if k <= 0 || s.body+k+int(l) > s.end {
				return nil, fmt.Errorf("bad custom section name at byte %d", p)
			}
			s.name = string(wasm[s.body+k : s.body+k+int(l)])
			s.body += k + int(l)
		}
		out = append(out, s)
		p = s.end
	}
	return out, nil
}

// ReadManifest returns the manifest embedded in a module's custom section.
func ReadManifest(wasm []byte) (*Manifest, error) {
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	for _, s := range secs {
		if s.id == 0 && s.name == ManifestSection {
			return ParseManifest(wasm[s.body:s.end])
		}
	}
	return nil, fmt.Errorf("no %q custom section (build the module with `strata udf build`, which embeds it)", ManifestSection)
}

// EmbedManifest returns wasm with m in its ManifestSection custom section,
// replacing any manifest it had. m is validated first.
func EmbedManifest(wasm []byte, m *Manifest) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(wasm)+len(payload)+32)
	out = append(out, wasm[:8]...)
	for _, s := range secs {
		if s.id == 0 && s.name == ManifestSection {
			continue
		}
		out = append(out, wasm[s.start:s.end]...)
	}
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(ManifestSection)))
	body = append(body, ManifestSection...)
	body = append(body, payload...)
	out = append(out, 0)
	out = binary.AppendUvarint(out, uint64(len(body)))
	return append(out, body...), nil
}
