package connect

import (
	"fmt"
	"time"
)

// Options reads typed values out of a connector's option map, remembering
// the first problem so a connector can read all its options and check once.
type Options struct {
	m   map[string]any
	err error
}

// NewOptions wraps an option map.
func NewOptions(m map[string]any) *Options { return &Options{m: m} }

// Err returns the first problem met while reading options.
func (o *Options) Err() error { return o.err }

func (o *Options) fail(format string, args ...any) {
	if o.err == nil {
		o.err = fmt.Errorf(format, args...)
	}
}

// String returns option name as a string, or def when absent.
func (o *Options) String(name, def string) string {
	v, ok := o.m[name]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		o.fail("option %s: want a string, got %v", name, v)
		return def
	}
	return s
}

// Int returns option name as an integer, or def when absent.
func (o *Options) Int(name string, def int64) int64 {
	v, ok := o.m[name]
	if !ok || v == nil {
		return def
	}
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	}
	o.fail("option %s: want an integer, got %v", name, v)
	return def
}

// Bool returns option name as a boolean, or def when absent.
func (o *Options) Bool(name string, def bool) bool {
	v, ok := o.m[name]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		o.fail("option %s: want true or false, got %v", name, v)
		return def
	}
	return b
}

// Duration returns option name as a duration ("5s"), or def when absent.
func (o *Options) Duration(name string, def time.Duration) time.Duration {
	v, ok := o.m[name]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		o.fail("option %s: want a duration like 5s, got %v", name, v)
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		o.fail("option %s: %v", name, err)
		return def
	}
	return d
}

// Strings returns option name as a list of strings (a single string is a
// one-element list), or def when absent.
func (o *Options) Strings(name string, def []string) []string {
	v, ok := o.m[name]
	if !ok || v == nil {
		return def
	}
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				o.fail("option %s: want a list of strings, got element %v", name, e)
				return def
			}
			out = append(out, s)
		}
		return out
	}
	o.fail("option %s: want a list of strings, got %v", name, v)
	return def
}
