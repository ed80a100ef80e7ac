// Package luastr writes Go strings as Lua source: the REPL's echo of
// values and the scripts `nslua export` writes both need literals that
// read back byte for byte.
package luastr

import (
	"strings"
	"unicode/utf8"
)

// Quote renders s as a Lua string literal that reads back as s: the usual
// escapes, decimal escapes for other control bytes and for bytes that are
// not UTF-8, printable UTF-8 as is.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f || (r == utf8.RuneError && size == 1):
			// Three digits, so that a digit that follows is not swallowed.
			b.WriteString(`\` + threeDigits(c))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

func threeDigits(c byte) string {
	return string([]byte{'0' + c/100, '0' + c/10%10, '0' + c%10})
}
