package repl

import (
	"math"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// chunkName names REPL input in error messages ("stdin:1: ..."), as lua does.
const chunkName = "stdin"

// compile turns what the user typed into a function. An expression is
// compiled as "return <src>" so that its values print; anything else as a
// statement. incomplete is true while the input only lacks an ending (the
// parse error is at end of input), so the caller reads another line.
// A leading "=" (Lua 5.1's "print this") is accepted too.
func compile(L *lua.LState, src string) (fn *lua.LFunction, incomplete bool, err error) {
	if rest, ok := strings.CutPrefix(src, "="); ok {
		fn, err = load(L, "return "+rest)
		return fn, atEOF(err), err
	}
	fn, retErr := load(L, "return "+src)
	if retErr == nil {
		return fn, false, nil
	}
	fn, err = load(L, src)
	if err == nil {
		return fn, false, nil
	}
	// "{1," is incomplete as an expression although it is already wrong as
	// a statement, so either form ending early means "read on".
	return nil, atEOF(err) || atEOF(retErr), further(err, retErr)
}

// further picks the syntax error that the parser reached later: the
// statement's for "x = = 1", the expression's for "1 +* 2" (where the
// statement parser gives up on the "1"). Ties go to the statement.
func further(stmtErr, exprErr error) error {
	ps, ok := parseError(stmtErr)
	pe, ok2 := parseError(exprErr)
	if !ok || !ok2 {
		return stmtErr
	}
	sl, sc := errorPos(ps, 0)
	el, ec := errorPos(pe, len("return "))
	if el > sl || el == sl && ec > sc {
		return exprErr
	}
	return stmtErr
}

// errorPos is where a parse error happened in what the user typed, the
// end of input counting as the furthest place; shift is the length of
// text put before the user's first line.
func errorPos(pe *parse.Error, shift int) (line, col int) {
	if pe.Pos.Line == parse.EOF {
		return math.MaxInt, 0
	}
	line, col = reportedLine(pe), pe.Pos.Column
	if line == 1 {
		col -= shift
	}
	return line, col
}

// reportedLine is the line a parse error belongs to: the scanner reports
// an error found on reading a newline (an unterminated string) at column 0
// of the next line.
func reportedLine(pe *parse.Error) int {
	if pe.Pos.Column == 0 && pe.Pos.Line > 1 {
		return pe.Pos.Line - 1
	}
	return pe.Pos.Line
}

// load compiles src. The trailing newline makes a quote left open on the
// last line an error on that line (as in Lua) rather than at end of input.
func load(L *lua.LState, src string) (*lua.LFunction, error) {
	return L.Load(strings.NewReader(src+"\n"), chunkName)
}

func parseError(err error) (*parse.Error, bool) {
	ae, ok := err.(*lua.ApiError)
	if !ok {
		return nil, false
	}
	pe, ok := ae.Cause.(*parse.Error)
	return pe, ok
}

func atEOF(err error) bool {
	pe, ok := parseError(err)
	return ok && pe.Pos.Line == parse.EOF
}

// historyEntry is the one-line form of a chunk typed over several lines,
// used when it provably means the same: both compile to the same bytecode.
// Otherwise (which would be a bug in oneLine) the lines are kept as typed.
func historyEntry(lines []string) string {
	src := strings.Join(lines, "\n")
	if len(lines) == 1 {
		return src
	}
	flat := oneLine(src)
	want, err := compileProto(src)
	if err != nil {
		// A chunk that does not compile cannot be checked; the flat form is
		// still what the user wants back to fix it.
		return flat
	}
	got, err := compileProto(flat)
	if err != nil || !sameProto(want, got) {
		return src
	}
	return flat
}

func compileProto(src string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src+"\n"), chunkName)
	if err != nil {
		return nil, err
	}
	return lua.Compile(chunk, chunkName)
}

// sameProto compares what two compiled chunks do, ignoring the line
// numbers kept for debugging.
func sameProto(a, b *lua.FunctionProto) bool {
	if a.NumUpvalues != b.NumUpvalues || a.NumParameters != b.NumParameters ||
		a.IsVarArg != b.IsVarArg || a.NumUsedRegisters != b.NumUsedRegisters ||
		!slices.Equal(a.Code, b.Code) || len(a.Constants) != len(b.Constants) ||
		len(a.FunctionPrototypes) != len(b.FunctionPrototypes) {
		return false
	}
	for i, c := range a.Constants {
		d := b.Constants[i]
		if c.Type() != d.Type() || c.String() != d.String() {
			return false
		}
	}
	for i, p := range a.FunctionPrototypes {
		if !sameProto(p, b.FunctionPrototypes[i]) {
			return false
		}
	}
	return true
}
