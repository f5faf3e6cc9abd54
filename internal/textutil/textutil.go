// Package textutil holds small text helpers shared by the packages that
// write messages for people (config, plans).
package textutil

// Levenshtein is the edit distance between a and b, in bytes: the number of
// single-byte insertions, deletions and substitutions turning a into b. It
// ranks "did you mean" suggestions.
func Levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
