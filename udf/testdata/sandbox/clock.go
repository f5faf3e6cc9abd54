//go:build wasip1

package main

import "time"

func nowMicros() int64 { return time.Now().UnixMicro() }
