package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultFilename is what a file is saved as when its name has nothing
// usable left.
const DefaultFilename = "file"

// maxNameBytes bounds a saved name; most file systems take 255 bytes, and
// room is left for " (NNNN)".
const maxNameBytes = 240

// ErrNoRoom: every numbered variant of a name is taken.
var ErrNoRoom = errors.New("transfer: no free file name")

// SanitizeFilename makes a peer's file name safe to create in a
// directory: the last path element only (both / and \ separate), no
// control or format characters (NUL, escapes, bidi overrides), none of
// the characters Windows reserves, no leading dots or trailing dots and
// spaces, no device names, at most maxNameBytes of valid UTF-8 with the
// extension kept. A name with nothing left becomes DefaultFilename.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimRight(name, ". ")
	name = strings.TrimSpace(name)
	if name == "" {
		return DefaultFilename
	}
	stem, ext := splitExt(name)
	if reservedDevice(stem) {
		stem = "_" + stem
	}
	if len(ext) > 32 {
		ext = ""
	}
	stem = truncateUTF8(stem, maxNameBytes-len(ext))
	stem = strings.TrimRight(stem, ". ")
	if stem == "" {
		stem = DefaultFilename
	}
	return stem + ext
}

// splitExt splits name into its stem and extension (with the dot); a
// name that is all extension is all stem.
func splitExt(name string) (stem, ext string) {
	ext = filepath.Ext(name)
	if ext == name || ext == "." {
		return name, ""
	}
	return strings.TrimSuffix(name, ext), ext
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// reservedDevice reports names Windows gives to devices.
func reservedDevice(stem string) bool {
	s := strings.ToUpper(strings.TrimSpace(stem))
	switch s {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(s) == 4 && (strings.HasPrefix(s, "COM") || strings.HasPrefix(s, "LPT")) && s[3] >= '0' && s[3] <= '9' {
		return true
	}
	return false
}

// Save writes data to a new file in dir named after filename (see
// SanitizeFilename) and returns its path. It never replaces a file: when
// the name is taken it tries "name (1).ext", "name (2).ext" and so on.
// The file is written to a temporary file in dir, made durable, and only
// then given its name, with mode 0600; a failure leaves nothing behind.
func Save(dir, filename string, data []byte) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("transfer: save: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("transfer: save: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".dimtui-*.part") // mode 0600
	if err != nil {
		return "", fmt.Errorf("transfer: save: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link, or on failure
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("transfer: save: %w", err)
	}

	name := SanitizeFilename(filename)
	stem, ext := splitExt(name)
	for i := 0; i < 10000; i++ {
		candidate := name
		if i > 0 {
			candidate = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		if !filepath.IsLocal(candidate) || strings.ContainsAny(candidate, `/\`) {
			return "", fmt.Errorf("transfer: save: unsafe name %q", candidate)
		}
		final := filepath.Join(dir, candidate)
		ok, err := claim(tmpName, final)
		if err != nil {
			return "", fmt.Errorf("transfer: save: %w", err)
		}
		if ok {
			syncDir(dir)
			return final, nil
		}
	}
	return "", fmt.Errorf("%w for %q in %s", ErrNoRoom, name, dir)
}

// claim gives the complete temporary file tmp the name final unless a
// file has it already (false). A hard link does that atomically; where
// links are not supported, final is created exclusively first and then
// replaced by tmp.
func claim(tmp, final string) (bool, error) {
	err := os.Link(tmp, final)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	f, err := os.OpenFile(final, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f.Close()
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(final)
		return false, err
	}
	return true, nil
}

// syncDir makes a new name in dir durable, as far as the system allows.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
