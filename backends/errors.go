package backends

import "errors"

// ErrClosed is returned by a backend's methods after Close.
var ErrClosed = errors.New("backend is closed")
