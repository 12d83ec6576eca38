package mockstation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// identityFile holds the station's identity, private keys included, in the
// data directory.
const identityFile = "identity.json"

// stationSeed is the name part of the station's ID; its nickname goes in the
// visa.
const (
	stationSeed = "dimtui-station"
	stationNick = "dimtui station"
)

// loadIdentity reads the station's identity from dir, or creates one on the
// first start: entity type station, an MKM meta signed by a secp256k1 key,
// and a visa carrying an RSA-1024 key that clients encrypt to. The file is
// written with mode 0600 and replaced atomically, so a station killed while
// creating it finds either nothing or a whole identity next time.
func loadIdentity(dir string) (id *dimp.Identity, created bool, err error) {
	path := filepath.Join(dir, identityFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		id, err := dimp.ParseIdentity(raw)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		if id.ID.Type() != dimp.Station {
			return nil, false, fmt.Errorf("%s: %s is a %s, not a station", path, id.ID, id.ID.Type())
		}
		if len(id.Decrypt) == 0 {
			return nil, false, fmt.Errorf("%s: no key to decrypt messages with", path)
		}
		return id, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("read station identity: %w", err)
	}

	sign, err := crypto.GenerateECC()
	if err != nil {
		return nil, false, err
	}
	visaKey, err := crypto.GenerateRSA(1024)
	if err != nil {
		return nil, false, err
	}
	id, err = dimp.NewIdentity(dimp.Station, dimp.MetaMKM, stationSeed, stationNick, sign, visaKey)
	if err != nil {
		return nil, false, fmt.Errorf("create station identity: %w", err)
	}
	raw, err = dimp.MarshalIdentity(id)
	if err != nil {
		return nil, false, fmt.Errorf("write station identity: %w", err)
	}
	if err := writePrivate(path, raw); err != nil {
		return nil, false, fmt.Errorf("write station identity: %w", err)
	}
	return id, true, nil
}

// writePrivate writes data to path with mode 0600 through a temporary file
// that is synced and renamed into place.
func writePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".identity-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
