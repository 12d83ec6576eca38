package store

import (
	"errors"
	"io/fs"
	"os"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors of the database file itself, for callers to test with errors.Is.
// Each comes as an error that names the file once (see dbError).
var (
	// ErrFull: the database cannot grow, its disk being full (SQLite's
	// SQLITE_FULL). What was stored stays; nothing new is taken.
	ErrFull = errors.New("database or disk is full")
	// ErrCorrupt: the file is damaged, or is not an SQLite database
	// (SQLITE_CORRUPT, SQLITE_NOTADB).
	ErrCorrupt = errors.New("database is corrupt")
	// ErrReadOnly: the database, or the directory it needs to write its
	// -wal and -shm files in, cannot be written (SQLITE_READONLY, or a
	// permission refused to the store's own files).
	ErrReadOnly = errors.New("database is read-only")
	// ErrNoDatabase: Options.Existing was set and the file is missing or
	// holds no tables.
	ErrNoDatabase = errors.New("no database")
)

// dbError is one of the errors above about one file: its text says what
// happened and the path, once, then SQLite's or the system's own words.
type dbError struct {
	kind error  // ErrFull, ErrCorrupt, ErrReadOnly, ErrNoDatabase
	text string // what happened, in front of the path
	path string
	err  error // the cause, nil when text says it all
}

func (e *dbError) Error() string {
	s := e.text + ": " + e.path
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

// Unwrap lets errors.Is find the kind and errors.As the cause.
func (e *dbError) Unwrap() []error {
	if e.err == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.err}
}

// readOnlyText is the text of ErrReadOnly errors: the first thing to look at.
const readOnlyText = "database is read-only (check the permissions of it and its directory)"

// classify turns what SQLite reports about the file at path (full,
// corrupt, read-only) into a dbError naming it; other errors, and nil, are
// returned as they are.
func classify(path string, err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	var de *dbError
	if errors.As(err, &de) {
		return err // classified already
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL:
		return &dbError{kind: ErrFull, text: "database or disk is full", path: path, err: se}
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return &dbError{kind: ErrCorrupt, text: "database is corrupt", path: path, err: se}
	case sqlite3.SQLITE_READONLY:
		return &dbError{kind: ErrReadOnly, text: readOnlyText, path: path, err: se}
	}
	return err
}

// fileError names a file system error about one of the store's own files
// (the database, its lock) once: os's errors carry the path already.
func fileError(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, fs.ErrPermission) {
		return &dbError{kind: ErrReadOnly, text: readOnlyText, path: pe.Path, err: pe.Err}
	}
	return err
}

// privateMode is the mode of the database and its -wal, -shm and -lock
// files: they hold who writes to whom and the messages waiting, for the
// station's user alone (like its identity file).
const privateMode = 0o600

// makePrivate creates the database file with privateMode unless it exists,
// so that SQLite, which gives its -wal and -shm files the database's mode,
// creates those private too; and takes group and other access away from
// the store's files that an older station created with SQLite's default
// (0644). A file it cannot change (another user's) is left as it is: the
// store then works or fails as SQLite finds it.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, privateMode)
	switch {
	case err == nil:
		return f.Close()
	case !errors.Is(err, fs.ErrExist):
		return fileError(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm", "-lock"} {
		if fi, err := os.Stat(path + suffix); err == nil && fi.Mode().Perm()&^privateMode != 0 {
			_ = os.Chmod(path+suffix, fi.Mode().Perm()&privateMode)
		}
	}
	return nil
}
