package luabind

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/nslua/nslua/internal/journal"
)

// TestMain keeps the records of /etc/netns files that this package's real
// labs write out of the host's /var/lib/nslua: in a directory of the run's
// own, removed at the end. Not while fuzzing: fuzz workers are processes of
// their own, and the one that started them finds a killed worker's records
// in the real directory to undo them (FuzzLuaAPI's sweep); it removes
// /etc/netns and /var/lib/nslua at the end when they were not there before.
func TestMain(m *testing.M) {
	flag.Parse()
	fuzzing := flag.Lookup("test.fuzz").Value.String() != "" || os.Getenv(fuzzPrefixEnv) != ""
	cleanup := func() {}
	if fuzzing && os.Getenv(fuzzPrefixEnv) == "" {
		cleanup = removeIfMadeHere("/etc/netns", "/var/lib/nslua")
	}
	if !fuzzing {
		dir, err := os.MkdirTemp("", "nslua-luabind-state-")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		journal.StateDir = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// removeIfMadeHere returns a cleanup that removes those of dirs that do not
// exist now, if empty, so that the host is left as it was (nslua makes them
// on first use and leaves them).
func removeIfMadeHere(dirs ...string) func() {
	var missing []string
	for _, d := range dirs {
		if _, err := os.Lstat(d); os.IsNotExist(err) {
			missing = append(missing, d)
		}
	}
	return func() {
		for _, d := range missing {
			os.Remove(d) // fails, as it should, if anything is inside
		}
	}
}
