package config

import (
	"fmt"
	"sort"
	"strings"
)

// suggest returns "did you mean "x"?" for the entry of known closest to
// name, or, when none is close, "<what>: a, b, c".
func suggest(name string, known []string, what string) string {
	if best, ok := closest(name, known); ok {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if len(known) == 0 {
		return "no " + what + " are defined"
	}
	return what + ": " + strings.Join(sorted(known), ", ")
}

// closest returns the entry of known nearest to name by edit distance
// (case-insensitive), if it is near enough to be a plausible typo.
func closest(name string, known []string) (string, bool) {
	best, bestD := "", 1<<30
	lname := strings.ToLower(name)
	for _, k := range known {
		if d := levenshtein(lname, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" || bestD > max(1, min(3, len(name)/3+1)) || bestD >= len(best) {
		return "", false
	}
	return best, true
}

func sorted(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
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
