// Package idstore keeps local identities on disk: for each one its ID, meta,
// visa and private keys, in one JSON file readable by the owner only.
package idstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// Errors for callers to test.
var (
	ErrNotFound = errors.New("no such identity")
	ErrExists   = errors.New("identity already exists")
	ErrCorrupt  = errors.New("identity file is damaged")
)

// Store is a directory of identity files.
type Store struct{ Dir string }

// DefaultDir is dimtui's directory in the user's config directory.
func DefaultDir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config directory: %w", err)
	}
	return filepath.Join(base, "dimtui", "identities"), nil
}

// Open returns the store in dir, or in DefaultDir when dir is empty.
func Open(dir string) (*Store, error) {
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	return &Store{Dir: dir}, nil
}

// validName keeps names to what is safe as a file name and an ID name.
func validName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, `/\@ `) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("identity name %q: use 1-64 characters without / \\ @ space or a leading dot", name)
	}
	return nil
}

func (s *Store) path(name string) string { return filepath.Join(s.Dir, name+".json") }

// Options choose the keys and meta of a new identity.
type Options struct {
	Type    dimp.EntityType // user by default
	KeyAlg  string          // "rsa" (2048 bits) or "ecc" (secp256k1)
	Meta    dimp.MetaType   // MKM by default
	Nick    string          // visa name; the identity name by default
	VisaRSA int             // visa key size; 1024 by default, as the reference
}

// Create makes a new identity called name and saves it. For MKM metas the
// name is the seed, and so the ID name.
func (s *Store) Create(name string, opt Options) (*dimp.Identity, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if _, err := os.Stat(s.path(name)); err == nil {
		return nil, fmt.Errorf("%w: %s", ErrExists, name)
	}
	if opt.Meta == 0 {
		opt.Meta = dimp.MetaMKM
	}
	if opt.VisaRSA == 0 {
		opt.VisaRSA = 1024
	}
	if opt.Nick == "" {
		opt.Nick = name
	}
	var sign crypto.PrivateKey
	var err error
	switch strings.ToLower(opt.KeyAlg) {
	case "", "rsa":
		if opt.Meta == dimp.MetaETH {
			return nil, fmt.Errorf("an ETH meta needs an ECC key (--key ecc)")
		}
		sign, err = crypto.GenerateRSA(2048)
	case "ecc":
		sign, err = crypto.GenerateECC()
	default:
		return nil, fmt.Errorf("key algorithm %q: use rsa or ecc", opt.KeyAlg)
	}
	if err != nil {
		return nil, err
	}
	visaKey, err := crypto.GenerateRSA(opt.VisaRSA)
	if err != nil {
		return nil, err
	}
	seed := ""
	if opt.Meta == dimp.MetaMKM {
		seed = name
	}
	u, err := dimp.NewIdentity(opt.Type, opt.Meta, seed, opt.Nick, sign, visaKey)
	if err != nil {
		return nil, err
	}
	if err := s.Save(name, u); err != nil {
		return nil, err
	}
	return u, nil
}

// Save writes an identity file with mode 0600 (directory 0700).
func (s *Store) Save(name string, u *dimp.Identity) error {
	if err := validName(name); err != nil {
		return err
	}
	raw, err := dimp.MarshalIdentity(u)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("identity directory: %w", err)
	}
	tmp := s.path(name) + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return fmt.Errorf("write identity: %w", err)
	}
	if err := os.Rename(tmp, s.path(name)); err != nil {
		return fmt.Errorf("write identity: %w", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, defaultFile)); errors.Is(err, os.ErrNotExist) {
		return s.SetDefault(name)
	}
	return nil
}

const defaultFile = "default"

// SetDefault makes name the identity used when none is named.
func (s *Store) SetDefault(name string) error {
	return os.WriteFile(filepath.Join(s.Dir, defaultFile), []byte(name+"\n"), 0o600)
}

// Default returns the name of the default identity ("" when there is none).
func (s *Store) Default() string {
	raw, err := os.ReadFile(filepath.Join(s.Dir, defaultFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(raw))
}

// HistoryPath is where the client keeps name's history (package
// client/history): beside the identity file, so that an identity and what
// its client remembers stay together, in a scratch directory too.
func (s *Store) HistoryPath(name string) (string, error) {
	if err := validName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, name+".history.db"), nil
}

// Names lists the stored identities.
func (s *Store) Names() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Load reads an identity; an empty name means the default one. The file is
// checked: the meta must generate the ID, the visa must be signed by it and
// the private key must pair with the meta key.
func (s *Store) Load(name string) (*dimp.Identity, error) {
	if name == "" {
		if name = s.Default(); name == "" {
			return nil, fmt.Errorf("%w: no default identity in %s (create one with: dimtui id new NAME)", ErrNotFound, s.Dir)
		}
	}
	if err := validName(name); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	u, err := dimp.ParseIdentity(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, s.path(name), err)
	}
	return u, nil
}
