//go:build unix

package mockstation

import "syscall"

// openFileLimit is the most files this process may have open
// (RLIMIT_NOFILE, which Go raises to its hard limit at start), or 0 when
// it cannot be read or has no bound.
func openFileLimit() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	if n := uint64(rl.Cur); n < 1<<40 { // "infinity" is all ones
		return n
	}
	return 0
}
