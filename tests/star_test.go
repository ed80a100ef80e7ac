package tests

import "testing"

// TestFastStarLua: IPv4 and IPv6 neighbour discovery and pings across the
// bridge of a topo.star, which builds its bridge down and brings it up last.
func TestFastStarLua(t *testing.T) { runLuaTests(t, "star_test.lua") }
