//go:build !unix

package mockstation

// openFileLimit is 0, unknown: this system has no RLIMIT_NOFILE.
func openFileLimit() uint64 { return 0 }
