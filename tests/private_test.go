package tests

import "testing"

func TestPrivateLua(t *testing.T) { runLuaTests(t, "private_test.lua") }
