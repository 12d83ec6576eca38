package dimptest

import (
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// NewIdentity makes an identity as dimtui makes users and its station: a
// secp256k1 meta key and an RSA-1024 visa key.
func NewIdentity(t testing.TB, typ dimp.EntityType, name string) *dimp.Identity {
	t.Helper()
	sign, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	id, err := dimp.NewIdentity(typ, dimp.MetaMKM, name, name, sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// World is alice, bob and a station, each with a packer, able to seal
// real messages to one another.
type World struct {
	T                      testing.TB
	Alice, Bob, Station    *dimp.Identity
	AliceP, BobP, StationP *dimp.Packer
}

// NewWorld makes alice, bob and the station gsp-s001.
func NewWorld(t testing.TB) *World {
	w := &World{T: t, Alice: NewIdentity(t, dimp.User, "alice"), Bob: NewIdentity(t, dimp.User, "bob"),
		Station: NewIdentity(t, dimp.Station, "gsp-s001")}
	w.AliceP, w.BobP, w.StationP = dimp.NewPacker(w.Alice), dimp.NewPacker(w.Bob), dimp.NewPacker(w.Station)
	return w
}

// Seal packs content from a packer's identity to a receiver (whose
// profile, when given, the message key is encrypted to) and returns the
// reliable message sent and the instant message it was made from.
func (w *World) Seal(from *dimp.Packer, to dimp.ID, toProfile *dimp.Profile, c dimp.Content, attach bool) (*dimp.ReliableMessage, *dimp.InstantMessage) {
	w.T.Helper()
	im := dimp.NewInstantMessage(from.Me.ID, to, c)
	var profiles []*dimp.Profile
	if toProfile != nil {
		profiles = []*dimp.Profile{toProfile}
	}
	rm, err := from.Seal(im, profiles, dimp.SealOptions{Attach: attach})
	if err != nil {
		w.T.Fatal(err)
	}
	return rm, im
}
