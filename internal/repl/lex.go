package repl

import (
	"strings"

	"github.com/nslua/nslua/internal/luastr"
)

// The REPL needs to know where strings and comments are in two places: to
// turn a multi-line entry into one history line without changing what it
// means, and to tell whether the cursor sits inside a string literal when Tab
// is pressed. gopher-lua's scanner does not report byte offsets, so this is a
// minimal scanner that only separates code from strings and comments.

type pieceKind int

const (
	code pieceKind = iota
	shortString
	longString
	lineComment
	longComment
)

// piece is one run of source of a single kind. text includes the delimiters.
type piece struct {
	kind   pieceKind
	text   string
	start  int  // byte offset in the source
	closed bool // false when the source ends inside this string or comment
	level  int  // long brackets: the number of '=' signs
}

// splitLua cuts src into code, strings and comments.
func splitLua(src string) []piece {
	var out []piece
	codeStart := 0
	flush := func(end int) {
		if end > codeStart {
			out = append(out, piece{kind: code, text: src[codeStart:end], start: codeStart, closed: true})
		}
	}
	for i := 0; i < len(src); {
		var p piece
		switch c := src[i]; {
		case c == '-' && strings.HasPrefix(src[i:], "--"):
			p = scanComment(src, i)
		case c == '[' && longBracketLevel(src, i) >= 0:
			p = scanLong(src, i, longString)
		case c == '"' || c == '\'':
			p = scanShort(src, i)
		default:
			i++
			continue
		}
		flush(i)
		out = append(out, p)
		i += len(p.text)
		codeStart = i
	}
	flush(len(src))
	return out
}

// longBracketLevel returns n for an opening long bracket "[" "="*n "[" at
// src[i], or -1 when there is none.
func longBracketLevel(src string, i int) int {
	if i >= len(src) || src[i] != '[' {
		return -1
	}
	n := 0
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '=':
			n++
		case '[':
			return n
		default:
			return -1
		}
	}
	return -1
}

func scanLong(src string, i int, kind pieceKind) piece {
	open := i
	if kind == longComment {
		open = i + 2
	}
	level := longBracketLevel(src, open)
	body := open + level + 2
	closer := "]" + strings.Repeat("=", level) + "]"
	end := strings.Index(src[body:], closer)
	if end < 0 {
		return piece{kind: kind, text: src[i:], start: i, level: level}
	}
	stop := body + end + len(closer)
	return piece{kind: kind, text: src[i:stop], start: i, closed: true, level: level}
}

func scanComment(src string, i int) piece {
	if longBracketLevel(src, i+2) >= 0 {
		return scanLong(src, i, longComment)
	}
	end := strings.IndexAny(src[i:], "\r\n")
	if end < 0 {
		// A line comment ends at the end of the source as well as at a newline.
		return piece{kind: lineComment, text: src[i:], start: i, closed: true}
	}
	return piece{kind: lineComment, text: src[i : i+end], start: i, closed: true}
}

// scanShort scans a quoted string. A raw newline ends it unclosed, as it
// does for Lua; a backslash escapes the next byte, newlines included.
func scanShort(src string, i int) piece {
	quote := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case quote:
			return piece{kind: shortString, text: src[i : j+1], start: i, closed: true}
		case '\\':
			j++
			if j+1 < len(src) && isNewlinePair(src[j], src[j+1]) {
				j++
			}
		case '\n', '\r':
			return piece{kind: shortString, text: src[i:j], start: i}
		}
	}
	return piece{kind: shortString, text: src[i:], start: i}
}

// oneLine rewrites a multi-line chunk as a single line with the same
// meaning, so that it is one history entry both in memory and in the
// history file (which holds one entry per line): newlines between tokens
// become spaces, comments go, and strings that span lines become quoted
// strings with \n escapes.
func oneLine(src string) string {
	var b strings.Builder
	for _, p := range splitLua(src) {
		switch {
		case p.kind == code:
			b.WriteString(joinCodeLines(p.text))
		case p.kind == lineComment:
			// Spaces before the comment would double up with the newline's.
			trimmed := strings.TrimRight(b.String(), " \t")
			b.Reset()
			b.WriteString(trimmed)
		case p.kind == longComment:
			b.WriteByte(' ')
		case p.kind == longString && p.closed && strings.ContainsAny(p.text, "\r\n"):
			b.WriteString(luastr.Quote(longStringValue(p)))
		case p.kind == shortString:
			b.WriteString(escapeLineContinuations(p.text))
		default:
			b.WriteString(p.text)
		}
	}
	return strings.TrimSpace(b.String())
}

// joinCodeLines replaces each run of white space that holds a newline with
// one space, keeping the spacing the user typed within a line.
func joinCodeLines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !isSpace(s[i]) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if run := s[i:j]; strings.ContainsAny(run, "\r\n") {
			b.WriteByte(' ')
		} else {
			b.WriteString(run)
		}
		i = j
	}
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// longStringValue is the value of a closed long string: Lua drops a newline
// right after the opening bracket and reads any newline sequence as "\n".
func longStringValue(p piece) string {
	body := p.text[p.level+2 : len(p.text)-p.level-2]
	for _, nl := range []string{"\r\n", "\n\r", "\n", "\r"} {
		if strings.HasPrefix(body, nl) {
			body = body[len(nl):]
			break
		}
	}
	return normalizeNewlines(body)
}

func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\n\r", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// escapeLineContinuations turns a backslash-newline inside a quoted string
// (a newline in the string's value) into the escape \n.
func escapeLineContinuations(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		next := s[i+1]
		if next != '\n' && next != '\r' {
			b.WriteString(s[i : i+2])
			i++
			continue
		}
		b.WriteString(`\n`)
		i++
		if i+1 < len(s) && isNewlinePair(next, s[i+1]) {
			i++
		}
	}
	return b.String()
}

// isNewlinePair reports whether a and b form one newline, "\r\n" or "\n\r",
// as Lua's scanner reads them.
func isNewlinePair(a, b byte) bool {
	return a == '\r' && b == '\n' || a == '\n' && b == '\r'
}
