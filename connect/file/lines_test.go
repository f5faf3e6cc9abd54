package file

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestLineReader(t *testing.T) {
	big := strings.Repeat("y", 200<<10) // beyond the 64 KiB read buffer
	type line struct {
		text string
		n    int
	}
	tests := []struct {
		name  string
		input string
		max   int
		want  []line
	}{
		{"empty", "", 10, nil},
		{"one terminated", "ab\n", 10, []line{{"ab", 2}}},
		{"unterminated last", "ab\ncd", 10, []line{{"ab", 2}, {"cd", 2}}},
		{"blank lines", "\n\nx\n", 10, []line{{"", 0}, {"", 0}, {"x", 1}}},
		{"crlf", "ab\r\ncd\r", 10, []line{{"ab", 2}, {"cd", 2}}},
		{"exactly max", "abcd\nabcde\n", 4, []line{{"abcd", 4}, {"abcd", 5}}},
		{"crlf at max", "abcd\r\n", 4, []line{{"abcd", 4}}},
		{"longer than buffer", big + "\nz", 300 << 10, []line{{big, len(big)}, {"z", 1}}},
		{"overlong beyond buffer", big + "\nz\n", 8, []line{{"yyyyyyyy", len(big)}, {"z", 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, keep := range []bool{true, false} {
				lr := newLineReader(strings.NewReader(tc.input), 0, tc.max)
				var got []line
				for {
					l, n, err := lr.next(keep)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, line{string(l), n})
				}
				if len(got) != len(tc.want) {
					t.Fatalf("keep=%v: %d lines, want %d", keep, len(got), len(tc.want))
				}
				for i, w := range tc.want {
					if keep && got[i].text != w.text || keep && got[i].n != w.n {
						t.Errorf("line %d: %q (n=%d), want %q (n=%d)", i, clip(got[i].text), got[i].n, clip(w.text), w.n)
					}
				}
				if lr.off != int64(len(tc.input)) {
					t.Errorf("keep=%v: offset %d at the end, want %d", keep, lr.off, len(tc.input))
				}
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}
