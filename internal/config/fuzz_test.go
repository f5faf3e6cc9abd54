package config

import (
	"errors"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Properties checked:
//   - Parse never panics and always returns a Deployment;
//   - the error is nil or Problems, never empty, sorted by position;
//   - every problem has a line >= 1, a column >= 1 and a message;
//   - SQLPos of every view maps any offset to a line >= 1 without panicking.
//
// The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Example))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz.yaml", data, append(testOptions(), WithEnv(fakeEnv(map[string]string{"A": "1"})))...)
		if d == nil {
			t.Fatalf("nil deployment (err %v)", err)
		}
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			if len(ps) == 0 {
				t.Fatal("empty Problems returned as an error")
			}
			for i, p := range ps {
				if p.Pos.Line < 1 || p.Pos.Col < 1 || p.Pos.File != "fuzz.yaml" || p.Msg == "" {
					t.Fatalf("bad problem %d: %#v", i, p)
				}
				if i > 0 && p.Pos.less(ps[i-1].Pos) {
					t.Fatalf("problems out of order: %v before %v", ps[i-1], p)
				}
			}
		}
		for _, v := range d.Views {
			for _, off := range []int{-1, 0, len(v.SQL) / 2, len(v.SQL) - 1, len(v.SQL), len(v.SQL) + 1} {
				if p := v.SQLPos(off); p.Line < 1 {
					t.Fatalf("SQLPos(%d) of %q = %v", off, v.SQL, p)
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	src := []byte(Example)
	opts := testOptions()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("testdata/strata.yaml", src, opts...); err != nil {
			b.Fatal(err)
		}
	}
}
