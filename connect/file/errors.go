package file

import "errors"

// ErrClosed is returned by every method of a closed Source but Close.
var ErrClosed = errors.New("file: source is closed")
