//go:build unix

package nexmark

import (
	"runtime"
	"syscall"
	"time"
)

// Usage is the process's resource usage so far.
type Usage struct {
	CPU     time.Duration // user + system time of every thread
	PeakRSS int64         // the largest resident set, in bytes
}

// ReadUsage returns the process's resource usage (getrusage(RUSAGE_SELF)).
// CPU time only grows, so the CPU of a stretch of work is the difference of
// two readings; the peak RSS cannot be reset, which is why `strata bench`
// runs each query in its own process.
func ReadUsage() (Usage, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return Usage{}, err
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" {
		rss *= 1024 // kilobytes on Linux and the BSDs, bytes on macOS
	}
	return Usage{
		CPU:     time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		PeakRSS: rss,
	}, nil
}
