package tests

import "testing"

func TestReadyLua(t *testing.T) { runLuaTests(t, "ready_test.lua") }
