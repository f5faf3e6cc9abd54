package udf

import (
	"bytes"
	"testing"
)

// FuzzManifest: reading a manifest from arbitrary bytes never panics, and
// embedding one then reading it back gives it unchanged.
func FuzzManifest(f *testing.F) {
	m := &Manifest{ABI: 1, Functions: []FunctionSpec{{Name: "f", Kind: Scalar, Args: []string{"double"}, Returns: "double", Deterministic: true}}}
	base := append([]byte(nil), wasmMagic...)
	withMan, err := EmbedManifest(base, m)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(withMan)
	f.Add(base)
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x00\x05\x04name"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		got, err := ReadManifest(wasm)
		if err != nil {
			return
		}
		again, err := EmbedManifest(wasm, got)
		if err != nil {
			t.Fatalf("a manifest read from a module does not embed back: %v", err)
		}
		back, err := ReadManifest(again)
		if err != nil {
			t.Fatalf("re-embedded manifest unreadable: %v", err)
		}
		if len(back.Functions) != len(got.Functions) || !bytes.HasPrefix(again, wasmMagic) {
			t.Fatalf("manifest changed on the round trip: %+v vs %+v", back, got)
		}
	})
}
