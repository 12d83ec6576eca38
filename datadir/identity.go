package datadir

import (
	"dimtui/client/idstore"
	"dimtui/dimp"
)

// SaveIdentity writes the identity called name back to the store in dir
// ("": idstore's default directory), as after its visa was re-signed with
// a new nickname: a client's Config.SaveIdentity.
func SaveIdentity(dir, name string, id *dimp.Identity) error {
	store, err := idstore.Open(dir)
	if err != nil {
		return err
	}
	return store.Save(name, id)
}

// Saver is the user's Config.SaveIdentity: it writes a re-signed identity
// back to the store in dir, under the user's name.
func (u *User) Saver(dir string) func(*dimp.Identity) error {
	return func(id *dimp.Identity) error { return SaveIdentity(dir, u.Name, id) }
}
