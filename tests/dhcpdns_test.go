package tests

import "testing"

func TestDhcpDnsLua(t *testing.T) { runLuaTests(t, "dhcpdns_test.lua") }
