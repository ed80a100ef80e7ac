package luabind

const secTest = "Lab tests (`nslua test`)"

var testDocs = []Doc{
	{Section: secTest, Name: "ns.test", Sig: "ns.test(name, fn)", Extra: true,
		Text: "Register a test of a *_test.lua file; `nslua test` runs each in a fresh lab of its own, torn down after it whatever happened. Global functions named test_* are tests too (after the registered ones, by name). A plain run of the file only registers them."},
	{Section: secTest, Name: "ns.skip", Sig: "ns.skip(reason)", Extra: true,
		Text: "End the running test as skipped (reported with the reason), e.g. when the machine lacks a radio, netem or a package. Outside a test it ends the script with that error."},
	{Section: secTest, Name: "ns.prefix", Sig: "ns.prefix() -> string", Extra: true,
		Text: "The prefix `nslua test` puts before every name given to ns.add and ns.pin in this test (\"\" outside `nslua test`), so that tests run in parallel with the same names in source never clash; n.name is the full name."},
}

func init() { Docs = append(Docs, testDocs...) }
