package plans

import (
	"github.com/stratadb/strata/internal/textutil"

	"fmt"
	"sort"
	"strings"
)

// hintName suggests the closest of known to name, or lists known.
func hintName(name string, known []string, what string) string {
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := textutil.Levenshtein(strings.ToLower(name), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" && bestD <= max(2, len(name)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	sort.Strings(known)
	if len(known) == 0 {
		return "no " + what + " are defined"
	}
	return what + ": " + strings.Join(known, ", ")
}
