package inspect

import (
	"fmt"
	"strings"

	"github.com/nslua/nslua/internal/tc"
)

// shapeText is a link's shaping as `nslua shape` takes it.
func shapeText(m map[string]any) string {
	var parts []string
	for _, k := range tc.Keys {
		if v, ok := m[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}
