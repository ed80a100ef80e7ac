package tests

import "testing"

func TestTopoLua(t *testing.T) { runLuaTests(t, "topo_test.lua") }
