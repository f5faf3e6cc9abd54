package config

import (
	"github.com/stratadb/strata/internal/textutil"

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
		if d := textutil.Levenshtein(lname, strings.ToLower(k)); d < bestD {
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
