//go:build !cgo

package capture

import (
	"errors"

	"golang.org/x/net/bpf"
)

func pcapCompile(expr string, linkType, snaplen int) ([]bpf.RawInstruction, error) {
	return nil, errors.New("this nslua was built without cgo (CGO_ENABLED=0), and filters are compiled by libpcap, which needs cgo: build nslua with cgo, or capture without a filter")
}

// FiltersAvailable reports whether this build can compile filters.
const FiltersAvailable = false
