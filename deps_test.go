package main

import (
	"os"
	"regexp"
	"testing"
)

// TestPinnedDependencies keeps go.mod on the dependency versions the
// project has approved. The module proxy serves newer releases of some of
// them that are not approved (bubbles v2.2.x); a `go get -u` would take
// them silently.
func TestPinnedDependencies(t *testing.T) {
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{
		"charm.land/bubbles/v2": "v2.1.1",
	}
	for path, want := range pins {
		re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(path) + `\s+(\S+)`)
		m := re.FindSubmatch(mod)
		if m == nil {
			t.Errorf("go.mod does not require %s", path)
			continue
		}
		if got := string(m[1]); got != want {
			t.Errorf("go.mod requires %s %s, want %s (the newest approved release)", path, got, want)
		}
	}
}
