package dimp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/ted"
)

// newTestUser makes a user with the given signing key and an RSA-1024 visa key.
func newTestUser(t testing.TB, seed string, mt MetaType, sign crypto.PrivateKey) *Identity {
	t.Helper()
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		t.Fatal(err)
	}
	if mt != MetaMKM {
		seed = ""
	}
	u, err := NewIdentity(User, mt, seed, "nick "+seed, sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustRSA(t testing.TB, bits int) crypto.PrivateKey {
	k, err := crypto.GenerateRSA(bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustECC(t testing.TB) crypto.PrivateKey {
	k, err := crypto.GenerateECC()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wire sends a message through its JSON form, as the network would.
func wire(t testing.TB, rm *ReliableMessage) *ReliableMessage {
	t.Helper()
	raw, err := rm.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseReliableMessage(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	return back
}

func TestSealOpenEveryMetaType(t *testing.T) {
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	senders := map[string]*Identity{
		"mkm-rsa2048": newTestUser(t, "alice", MetaMKM, mustRSA(t, 2048)),
		"mkm-ecc":     newTestUser(t, "carol", MetaMKM, mustECC(t)),
		"btc-ecc":     newTestUser(t, "", MetaBTC, mustECC(t)),
		"btc-rsa":     newTestUser(t, "", MetaBTC, mustRSA(t, 1024)),
		"eth":         newTestUser(t, "", MetaETH, mustECC(t)),
	}
	for name, sender := range senders {
		t.Run(name, func(t *testing.T) {
			// The receiver learns the sender from the attached meta and visa.
			p := NewPacker(sender)
			for i, text := range []string{"first, with a new key", "second, reusing it"} {
				im := NewInstantMessage(sender.ID, bob.ID, NewText(text))
				rm, err := p.Seal(im, []*Profile{bob.Profile()}, SealOptions{Attach: i == 0})
				if err != nil {
					t.Fatal(err)
				}
				got := wire(t, rm)
				var from *Profile
				if i == 0 {
					if from, err = ProfileFromMessage(got); err != nil {
						t.Fatal(err)
					}
				} else {
					from = sender.Profile()
				}
				opened, err := NewPacker(bob).Open(got, from)
				if err != nil {
					t.Fatal(err)
				}
				if tc, ok := opened.Content.(*TextContent); !ok || tc.Text != text {
					t.Fatalf("opened %#v", opened.Content)
				}
			}
		})
	}
}

func TestReusedKeyWithoutKeys(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustRSA(t, 1024))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	pa, pb := NewPacker(alice), NewPacker(bob)
	first, _ := pa.Seal(NewInstantMessage(alice.ID, bob.ID, NewText("one")), []*Profile{bob.Profile()}, SealOptions{})
	second, _ := pa.Seal(NewInstantMessage(alice.ID, bob.ID, NewText("two")), []*Profile{bob.Profile()}, SealOptions{OmitKey: true})
	if len(second.Keys) != 0 {
		t.Fatalf("reused key sent again: %v", second.Keys)
	}
	// Without the first message, bob has no key for the second.
	if _, err := NewPacker(bob).Open(wire(t, second), alice.Profile()); !errors.Is(err, ErrNoDecryptKey) {
		t.Fatalf("open without cached key = %v, want ErrNoDecryptKey", err)
	}
	for _, rm := range []*ReliableMessage{first, second} {
		if _, err := pb.Open(wire(t, rm), alice.Profile()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBroadcastIsPlainAndSigned(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	c := NewDocumentCommand(alice.ID, nil, []*Document{alice.Visa})
	rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, Everyone, c), nil, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Keys) != 0 || rm.IV != nil || !strings.HasPrefix(rm.Data, "{") {
		t.Fatalf("broadcast not plain: keys=%v iv=%x data=%.40s", rm.Keys, rm.IV, rm.Data)
	}
	if err := alice.Meta.Key.Verify([]byte(rm.Data), rm.Signature); err != nil {
		t.Fatalf("signature must cover the UTF-8 of data: %v", err)
	}
	anyone := &Identity{ID: Anyone}
	im, err := NewPacker(anyone).Open(wire(t, rm), alice.Profile())
	if err != nil {
		t.Fatal(err)
	}
	dc, ok := im.Content.(*DocumentCommand)
	if !ok || len(dc.Documents) != 1 || dc.Documents[0].Data != alice.Visa.Data {
		t.Fatalf("documents command = %#v", im.Content)
	}
}

func TestGroupMessageSplitAndTrim(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustRSA(t, 1024))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	carol := newTestUser(t, "carol", MetaMKM, mustECC(t))
	gmeta, _ := GenerateMeta(MetaMKM, alice.SignKey, "group-x")
	group, _ := gmeta.GenerateID(Group, "")
	text := NewText("hi all")
	text.Group = group
	members := []*Profile{alice.Profile(), bob.Profile(), carol.Profile()}
	rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, group, text), members, SealOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rm.Keys) != 3 {
		t.Fatalf("keys for %d members", len(rm.Keys))
	}
	parts := rm.Split([]ID{bob.ID, carol.ID})
	for i, u := range []*Identity{bob, carol} {
		part := wire(t, parts[i])
		if !part.Receiver.Equal(u.ID) || !part.Group.Equal(group) || len(part.Keys) != 1 {
			t.Fatalf("split for %s: receiver %s group %s keys %d", u.ID, part.Receiver, part.Group, len(part.Keys))
		}
		im, err := NewPacker(u).Open(part, alice.Profile())
		if err != nil {
			t.Fatal(err)
		}
		if im.Content.Header().Group != group || im.Content.(*TextContent).Text != "hi all" {
			t.Fatalf("%s read %#v", u.ID, im.Content)
		}
	}
	// The whole group message opens for any member too.
	if _, err := NewPacker(bob).Open(wire(t, rm), alice.Profile()); err != nil {
		t.Fatal(err)
	}
}

func TestStrictVerification(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustRSA(t, 1024))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	mallory := newTestUser(t, "mallory", MetaMKM, mustRSA(t, 1024))
	seal := func() *ReliableMessage {
		rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, bob.ID, NewText("x")), []*Profile{bob.Profile()}, SealOptions{Attach: true})
		if err != nil {
			t.Fatal(err)
		}
		return wire(t, rm)
	}
	cases := []struct {
		name   string
		mutate func(rm *ReliableMessage) *Profile
		want   error
	}{
		{"signature by another key", func(rm *ReliableMessage) *Profile {
			data, _ := rm.DataBytes()
			rm.Signature, _ = mallory.SignKey.Sign(data)
			return alice.Profile()
		}, ErrSignature},
		{"data changed", func(rm *ReliableMessage) *Profile {
			orig, _ := rm.DataBytes()
			data := append([]byte(nil), orig...)
			data[3] ^= 1
			rm.Data = ted.Encode(data)
			return alice.Profile()
		}, ErrSignature},
		{"meta of someone else attached", func(rm *ReliableMessage) *Profile {
			rm.Meta = mallory.Meta
			_, err := ProfileFromMessage(rm)
			if !errors.Is(err, ErrMetaMismatch) {
				t.Errorf("ProfileFromMessage = %v, want ErrMetaMismatch", err)
			}
			return nil
		}, nil},
		{"visa not signed by the meta key", func(rm *ReliableMessage) *Profile {
			forged := NewDocument(alice.ID, DocVisa)
			_ = forged.Set("key", mallory.Decrypt[0].PublicKey())
			_ = forged.Sign(mallory.SignKey)
			rm.Visa = forged
			_, err := ProfileFromMessage(rm)
			if !errors.Is(err, ErrDocumentSignature) {
				t.Errorf("ProfileFromMessage = %v, want ErrDocumentSignature", err)
			}
			return nil
		}, nil},
		{"key for someone else", func(rm *ReliableMessage) *Profile {
			for k, v := range rm.Keys {
				delete(rm.Keys, k)
				rm.Keys[mallory.ID.String()] = v
			}
			return alice.Profile()
		}, ErrNoDecryptKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rm := seal()
			from := c.mutate(rm)
			if from == nil {
				return
			}
			_, err := NewPacker(bob).Open(wire(t, rm), from)
			if !errors.Is(err, c.want) {
				t.Fatalf("open = %v, want %v", err, c.want)
			}
		})
	}
}

func TestLegacyForms(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustRSA(t, 1024))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	pw, _ := crypto.GenerateAES()
	iv := bytes.Repeat([]byte{0}, 16)
	body := []byte(`{"T":1,"N":7,"W":1700000000.5,"text":"old peer","color":"red"}`)
	ct := pw.EncryptIV(body, iv)
	pwd, _ := pw.MarshalJSON()
	ek, _ := bob.Decrypt[0].PublicKey().(crypto.EncryptKey).Encrypt(pwd)
	sig, _ := alice.SignKey.Sign(ct)
	// Short member names, numeric type, single `key`, no IV (zero IV), TED prefix.
	raw, _ := json.Marshal(map[string]any{
		"F": alice.ID.String(), "R": bob.ID.String(), "W": 1700000000.5, "T": 1,
		"D": "base64," + ted.Encode(ct), "key": ted.Encode(ek), "V": ted.Encode(sig),
	})
	rm, err := ParseReliableMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	im, err := NewPacker(bob).Open(rm, alice.Profile())
	if err != nil {
		t.Fatal(err)
	}
	tc := im.Content.(*TextContent)
	if tc.Text != "old peer" || tc.SN != 7 || tc.Time != 1700000000.5 {
		t.Fatalf("content %#v", tc)
	}
	out := MarshalContent(tc)
	if !bytes.Contains(out, []byte(`"color":"red"`)) || !bytes.Contains(out, []byte(`"type":1`)) {
		t.Fatalf("unknown field lost or type not a number: %s", out)
	}
	// The forwarded form keeps the old `key` for old peers.
	fwd, _ := rm.MarshalJSON()
	if !bytes.Contains(fwd, []byte(`"key":"`)) || bytes.Contains(fwd, []byte(`"keys"`)) {
		t.Fatalf("forwarded form changed the key field: %s", fwd)
	}
}

func TestHandshakeStates(t *testing.T) {
	cases := []struct {
		title, session string
		want           HandshakeState
	}{
		{HandshakeHello, "", HandshakeStart},
		{HandshakeAsk, "abc", HandshakeAgain},
		{HandshakeHello, "abc", HandshakeRestart},
		{HandshakeOK, "abc", HandshakeSuccess},
	}
	for _, c := range cases {
		hc := NewHandshake(c.title, c.session)
		back, err := ParseContent(MarshalContent(hc))
		if err != nil {
			t.Fatal(err)
		}
		if got := back.(*HandshakeCommand).State(); got != c.want {
			t.Errorf("%q/%q: state %v, want %v", c.title, c.session, got, c.want)
		}
	}
	// Old peers send only `message` and `cmd`.
	old, err := ParseContent([]byte(`{"type":136,"sn":1,"cmd":"handshake","message":"DIM!","session":"k"}`))
	if err != nil || old.(*HandshakeCommand).State() != HandshakeSuccess {
		t.Fatalf("legacy handshake: %v %#v", err, old)
	}
	out := string(MarshalContent(NewHandshake(HandshakeHello, "")))
	for _, want := range []string{`"command":"handshake"`, `"cmd":"handshake"`, `"title":"Hello world!"`, `"message":"Hello world!"`} {
		if !strings.Contains(out, want) {
			t.Errorf("handshake lacks %s: %s", want, out)
		}
	}
}

func TestLegacyProfileCommand(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustRSA(t, 1024))
	v := alice.Visa
	raw, _ := json.Marshal(map[string]any{"type": 136, "sn": 9, "cmd": "profile", "ID": alice.ID.String(),
		"profile": v.Data, "signature": ted.Encode(v.Signature)})
	c, err := ParseContent(raw)
	if err != nil {
		t.Fatal(err)
	}
	dc, ok := c.(*DocumentCommand)
	if !ok || len(dc.Documents) != 1 {
		t.Fatalf("profile command read as %#v", c)
	}
	if err := dc.Documents[0].VerifyFor(alice.ID, alice.Meta); err != nil {
		t.Fatalf("v1 profile does not verify: %v", err)
	}
}

func TestSameEncryptedKeyOpensWithoutPrivateKey(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	bob := newTestUser(t, "bob", MetaMKM, mustRSA(t, 1024))
	pw, _ := crypto.GenerateAES()
	r, _ := RecipientOf(bob.Profile())
	seal := func(text string) *ReliableMessage {
		sm, err := Encrypt(NewInstantMessage(alice.ID, bob.ID, NewText(text)), pw, []Recipient{r})
		if err != nil {
			t.Fatal(err)
		}
		rm, _ := Sign(sm, alice.SignKey)
		return wire(t, rm)
	}
	first, second := seal("one"), seal("two")
	// Same key, encrypted once more: a new text, so RSA is needed again.
	rx := NewPacker(bob)
	if _, err := rx.Open(first, alice.Profile()); err != nil {
		t.Fatal(err)
	}
	second.Keys = first.Keys // the sender reuses the encrypted key as well
	data, _ := second.DataBytes()
	second.Signature, _ = alice.SignKey.Sign(data)
	rx.Me = &Identity{ID: bob.ID} // no private key any more
	im, err := rx.Open(second, alice.Profile())
	if err != nil {
		t.Fatalf("the cached key was not reused: %v", err)
	}
	if im.Content.(*TextContent).Text != "two" {
		t.Fatalf("opened %#v", im.Content)
	}
}

// Digest names a message by its sender and signed data: the same for
// every form its signature and data take on the wire, different for
// another message or another sender.
func TestDigest(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	bob := newTestUser(t, "bob", MetaMKM, mustECC(t))
	seal := func(text string) *ReliableMessage {
		rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, bob.ID, NewText(text)), []*Profile{bob.Profile()}, SealOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return wire(t, rm)
	}
	rm := seal("hello")
	raw, _ := rm.MarshalJSON()
	data, _ := rm.DataBytes()
	forms := strings.NewReplacer(
		`"`+rm.SignatureText()+`"`, `"hex,`+hex.EncodeToString(rm.Signature)+`"`,
		`"`+rm.Data+`"`, `"base64,`+strings.TrimRight(rm.Data, "=")+`"`,
	).Replace(string(raw))
	other, err := ParseReliableMessage([]byte(forms))
	if err != nil {
		t.Fatal(err)
	}
	if other.SignatureText() == rm.SignatureText() || other.Data == rm.Data {
		t.Fatalf("the forms were not changed: %s", forms)
	}
	if d, _ := other.DataBytes(); !bytes.Equal(d, data) {
		t.Fatal("the data changed")
	}
	if other.Digest() != rm.Digest() {
		t.Errorf("another form of one message has another digest")
	}
	if seal("hello").Digest() == rm.Digest() {
		t.Errorf("two messages have one digest")
	}
	forged := *rm
	forged.Sender = bob.ID
	if forged.Digest() == rm.Digest() {
		t.Errorf("the same data from another sender has the same digest")
	}
}

// A receipt's origin keeps the envelope's members beside the payload, as
// the reference does: the browser client puts the content's sn on the
// envelope and matches receipts by it.
func TestOriginKeepsTheEnvelope(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	bob := newTestUser(t, "bob", MetaMKM, mustECC(t))
	rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, bob.ID, NewText("hi")), []*Profile{bob.Profile()}, SealOptions{Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := rm.MarshalJSON()
	raw = append([]byte(`{"sn":4242,"traces":["s1"],`), raw[1:]...)
	if rm, err = ParseReliableMessage(raw); err != nil {
		t.Fatal(err)
	}
	o := OriginOf(rm, 0)
	if o.SN != 4242 {
		t.Errorf("origin sn %d, want the envelope's 4242", o.SN)
	}
	if string(o.Extra["traces"]) != `["s1"]` {
		t.Errorf("origin traces %s", o.Extra["traces"])
	}
	for _, k := range []string{"data", "key", "keys", "meta", "visa", "sn"} {
		if _, ok := o.Extra[k]; ok {
			t.Errorf("origin keeps %q", k)
		}
	}
	if o := OriginOf(rm, 7); o.SN != 7 {
		t.Errorf("origin sn %d, want the content's 7", o.SN)
	}
	back, err := ParseContent(MarshalContent(NewReceipt("Message delivered.", OriginOf(rm, 0))))
	if err != nil {
		t.Fatal(err)
	}
	if r := back.(*ReceiptCommand); r.Origin.SN != 4242 || r.Origin.Signature != rm.SignatureText() {
		t.Errorf("receipt read back: %+v", r.Origin)
	}
}

// TestDecryptFor opens a message for the member it is told, for its
// receiver, or for whichever group member the keys at hand belong to.
func TestDecryptFor(t *testing.T) {
	alice := newTestUser(t, "alice", MetaMKM, mustECC(t))
	bob := newTestUser(t, "bob", MetaMKM, mustECC(t))
	carol := newTestUser(t, "carol", MetaMKM, mustECC(t))
	seal := func(to ID, text *TextContent, members ...*Identity) *SecureMessage {
		t.Helper()
		var profiles []*Profile
		for _, m := range members {
			profiles = append(profiles, m.Profile())
		}
		rm, err := NewPacker(alice).Seal(NewInstantMessage(alice.ID, to, text), profiles, SealOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return &wire(t, rm).SecureMessage
	}
	opens := func(what string, sm *SecureMessage, me ID, privs []crypto.DecryptKey, want string) {
		t.Helper()
		im, err := DecryptFor(sm, me, privs)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if got := im.Content.(*TextContent).Text; got != want {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}

	toBob := seal(bob.ID, NewText("hi bob"), bob)
	opens("to the receiver", toBob, ID{}, bob.Decrypt, "hi bob")
	opens("to the member told", toBob, bob.ID, bob.Decrypt, "hi bob")
	if _, err := DecryptFor(toBob, ID{}, carol.Decrypt); !errors.Is(err, ErrDecrypt) {
		t.Errorf("with carol's key: err = %v, want ErrDecrypt", err)
	}

	gmeta, _ := GenerateMeta(MetaMKM, alice.SignKey, "group-y")
	group, _ := gmeta.GenerateID(Group, "")
	text := NewText("hi all")
	text.Group = group
	toGroup := seal(group, text, bob, carol)
	opens("to a group, with carol's key", toGroup, ID{}, carol.Decrypt, "hi all")
	opens("to a group, for bob", toGroup, bob.ID, bob.Decrypt, "hi all")
	if _, err := DecryptFor(toGroup, ID{}, alice.Decrypt); !errors.Is(err, ErrDecrypt) || errors.Is(err, ErrNoMember) {
		t.Errorf("to a group, with a key of no member: err = %v, want ErrDecrypt", err)
	}
	noMembers := *toGroup
	noMembers.Keys = map[string]string{"digest": "x"}
	if _, err := DecryptFor(&noMembers, ID{}, bob.Decrypt); !errors.Is(err, ErrNoMember) || !errors.Is(err, ErrNoDecryptKey) {
		t.Errorf("to a group whose keys name no member: err = %v, want ErrNoMember", err)
	}
}
