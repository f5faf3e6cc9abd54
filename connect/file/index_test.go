package file

import "testing"

func TestIndex(t *testing.T) {
	f := &fileState{}
	for l := int64(maxIndex + 50); l > 0; l-- { // out of order on purpose
		f.remember(l*10, l*100)
	}
	f.remember(20, 200) // duplicate
	if len(f.index) != maxIndex {
		t.Fatalf("index holds %d marks, want %d", len(f.index), maxIndex)
	}
	for i := 1; i < len(f.index); i++ {
		if f.index[i-1].line >= f.index[i].line {
			t.Fatalf("index not sorted at %d: %v", i, f.index[i-1:i+1])
		}
	}
	lo := f.index[0].line
	tests := []struct {
		line int64
		want mark
	}{
		{0, mark{}},
		{lo - 1, mark{}},
		{lo, mark{lo, lo * 10}},
		{lo + 5, mark{lo, lo * 10}},
		{1e9, f.index[len(f.index)-1]},
	}
	for _, tc := range tests {
		if got := f.lookup(tc.line); got != tc.want {
			t.Errorf("lookup(%d) = %v, want %v", tc.line, got, tc.want)
		}
	}
}
