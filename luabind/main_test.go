package luabind

import (
	"os"
	"testing"
)

// TestMain leaves the host's /etc/netns and /var/lib/nslua as they were:
// runs against real labs make them on first use, and nslua leaves them.
// Fuzz workers (they inherit the prefix) leave that to the process that
// started them, which outlives them.
func TestMain(m *testing.M) {
	cleanup := func() {}
	if os.Getenv(fuzzPrefixEnv) == "" {
		cleanup = removeIfMadeHere("/etc/netns", "/var/lib/nslua")
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// removeIfMadeHere returns a cleanup that removes those of dirs that do not
// exist now, once the tests are over, if empty: the host is left as it was
// (nslua makes them on first use and leaves them).
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
