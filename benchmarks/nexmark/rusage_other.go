//go:build !unix

package nexmark

import "errors"

// ReadUsage is not implemented on this platform.
func ReadUsage() (Usage, error) {
	return Usage{}, errors.New("nexmark: resource usage is read with getrusage, which this platform lacks")
}
