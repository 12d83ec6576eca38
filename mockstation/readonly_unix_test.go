//go:build unix

package mockstation_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"dimtui/mockstation"
	"dimtui/mockstation/store"
)

// unprivileged runs the calling test again, in a child process, as the
// user nobody (65534) when this process is root, whom file permissions do
// not stop; it reports whether it did, and the caller then returns. The
// test binary is copied where nobody may run it, and the child's temporary
// directories go where nobody may write.
func unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 {
		return false
	}
	dir, err := os.MkdirTemp("", "unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o755, tmp: 0o777 | os.ModeSticky} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "test")
	if err := copyFile(os.Args[0], bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v="+fmt.Sprint(testing.Verbose()))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if _, failed := errors.AsType[*exec.ExitError](err); err != nil && !failed {
		t.Skipf("cannot run the test as nobody: %v", err) // no setuid here
	}
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("as nobody, the test did not run:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("as nobody:\n%s", out)
	}
	return true
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// A database, or a data directory, that cannot be written is refused with
// an error that says so and names the database once.
func TestDatabaseReadOnly(t *testing.T) {
	if unprivileged(t) {
		return
	}
	for _, tc := range []struct {
		name string
		deny func(dir, db string) error
	}{
		{"database file", func(_, db string) error { return os.Chmod(db, 0o400) }},
		{"data directory", func(dir, _ string) error {
			// What a stopped station leaves: no lock, no -wal, no -shm
			// (whose creation the directory now refuses).
			if err := os.Remove(filepath.Join(dir, "station.db-lock")); err != nil {
				return err
			}
			return os.Chmod(dir, 0o500)
		}},
		{"data directory with the lock left", func(dir, _ string) error { return os.Chmod(dir, 0o500) }},
		{"lock file", func(dir, _ string) error { return os.Chmod(filepath.Join(dir, "station.db-lock"), 0o400) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, db := stationDir(t)
			if err := tc.deny(dir, db); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o700) }) // for the removal of the directory
			srv, err := mockstation.New(t.Context(), mockstation.Config{DataDir: dir})
			if err == nil {
				srv.Close()
				t.Fatal("started on a database it cannot write")
			}
			msg := err.Error()
			if !errors.Is(err, store.ErrReadOnly) || !strings.Contains(msg, "read-only") {
				t.Errorf("err = %v, want ErrReadOnly", err)
			}
			if n := strings.Count(msg, dir); n != 1 {
				t.Errorf("error names the data directory %d times, want once: %s", n, msg)
			}
			t.Log(msg)
		})
	}
}
