// Package testutil holds helpers shared by Strata's tests.
package testutil

import (
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Alloc returns a checked Arrow allocator that fails t if any allocation is
// still live when the test ends.
func Alloc(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// CI reports whether the tests run under STRATA_CI=1, where nothing may skip.
func CI() bool { return os.Getenv("STRATA_CI") == "1" }

// SkipOrFail skips t with reason, unless under STRATA_CI=1 where a missing
// prerequisite is a failure.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if CI() {
		t.Fatalf("STRATA_CI=1 forbids skipping: %s", reason)
	}
	t.Skip(reason)
}
