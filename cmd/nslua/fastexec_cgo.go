//go:build cgo

// fastexec.c holds a constructor that serves `nslua exec` before the Go
// runtime starts; importing "C" is what links it in. Without cgo the same
// work is done by internal/nsexec.ExecInPlace, a few milliseconds slower.

package main

import "C"
