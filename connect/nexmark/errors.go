package nexmark

import "errors"

// ErrClosed is returned by every method of a closed Source but Close.
var ErrClosed = errors.New("nexmark: source is closed")
