package luastr

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestQuoteReadsBack(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, s := range []string{"", "plain", "a\"b\\c", "nl\n\r\t", "ctl\x01\x7f9", "bad utf8 \xff\xfe", "ünïcødé"} {
		if err := L.DoString("return " + Quote(s)); err != nil {
			t.Fatalf("Quote(%q) = %s does not load: %v", s, Quote(s), err)
		}
		if got := L.Get(-1).String(); got != s {
			t.Errorf("Quote(%q) = %s reads back as %q", s, Quote(s), got)
		}
		L.Pop(1)
	}
}
