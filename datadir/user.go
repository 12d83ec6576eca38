package datadir

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"dimtui/client/history"
	"dimtui/client/idstore"
	"dimtui/dimp"
)

// User is one of the user's identities, ready for a client: its keys and
// documents, its name in the store and where its client keeps its history.
type User struct {
	Identity *dimp.Identity
	Name     string
	History  string // the history's file, beside the identity's
}

// LoadOrCreateUser loads the identity called name from the store in dir
// ("": idstore's default directory; name "": the store's default
// identity), creating it when it does not exist. A new default identity is
// named after $USER (see UserName). The first start of the terminal client
// needs no `dimtui id new`.
func LoadOrCreateUser(dir, name string, log *slog.Logger) (*User, error) {
	store, err := idstore.Open(dir)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = store.Default()
	}
	if name == "" {
		name = UserName()
	}
	hist, err := store.HistoryPath(name)
	if err != nil {
		return nil, err
	}
	id, err := store.Load(name)
	if err == nil {
		return &User{Identity: id, Name: name, History: hist}, nil
	}
	if !errors.Is(err, idstore.ErrNotFound) {
		return nil, fmt.Errorf("identity %s: %w", name, err)
	}
	// secp256k1 for the meta key: created in a blink, where RSA-2048 takes
	// a noticeable moment on first start.
	id, err = store.Create(name, idstore.Options{KeyAlg: "ecc"})
	if err != nil {
		return nil, fmt.Errorf("create identity %s: %w", name, err)
	}
	log.Info("identity created", "name", name, "id", id.ID, "dir", store.Dir)
	return &User{Identity: id, Name: name, History: hist}, nil
}

// OpenHistory opens the history of the user's client. A file it cannot
// use stops the program with what to do: it is never replaced, since the
// messages it remembers would be shown again.
func (u *User) OpenHistory(ctx context.Context) (*history.DB, error) {
	h, err := history.Open(ctx, u.History, u.Identity.ID, history.Options{})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w (move the file away to start a new one: messages the station offers again may then be shown twice)", u.Name, err)
	}
	return h, nil
}

// UserName is a name for a new identity: $USER made safe for an ID (ASCII
// letters, digits, - and _, at most 32 of them), or "me".
func UserName() string {
	name := os.Getenv("USER")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		}
		if b.Len() >= 32 {
			break
		}
	}
	if b.Len() == 0 {
		return "me"
	}
	return b.String()
}
