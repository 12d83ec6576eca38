package dimp

import (
	"fmt"
	"testing"
	"time"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/ted"
)

// BenchmarkPipeline measures seal and open against the bare cryptography
// they need, interleaved in the same loop so that a noisy machine slows both
// alike. Each case reports:
//
//	proto-ns/op  the whole step: JSON, Base64, copies and the crypto
//	floor-ns/op  the crypto operations alone, on the same data
//	x-floor      proto / floor (target: at most 1.15)
//
// Senders are RSA-1024, RSA-2048 and secp256k1 identities writing to a user
// with an RSA-1024 visa key. "fresh" makes a new message key per message and
// sends it encrypted; "reused" takes the cached key and sends no keys.
func BenchmarkPipeline(b *testing.B) {
	bob := newTestUser(b, "bob", MetaMKM, mustRSA(b, 1024))
	senders := []struct {
		name string
		key  crypto.PrivateKey
	}{
		{"rsa1024", mustRSA(b, 1024)},
		{"rsa2048", mustRSA(b, 2048)},
		{"secp256k1", mustECC(b)},
	}
	const text = "Hello, Bob! 你好 👋 — this is a message of typical chat length."
	for _, s := range senders {
		alice := newTestUser(b, "alice", MetaMKM, s.key)
		for _, fresh := range []bool{true, false} {
			mode := map[bool]string{true: "fresh", false: "reused"}[fresh]
			b.Run(fmt.Sprintf("%s/seal/%s", s.name, mode), func(b *testing.B) {
				benchSeal(b, alice, bob, text, fresh)
			})
			b.Run(fmt.Sprintf("%s/open/%s", s.name, mode), func(b *testing.B) {
				benchOpen(b, alice, bob, text, fresh)
			})
		}
	}
}

type interleaved struct{ proto, floor time.Duration }

func (r *interleaved) report(b *testing.B) {
	n := float64(b.N)
	b.ReportMetric(float64(r.proto.Nanoseconds())/n, "proto-ns/op")
	b.ReportMetric(float64(r.floor.Nanoseconds())/n, "floor-ns/op")
	b.ReportMetric(float64(r.proto)/float64(r.floor), "x-floor")
}

func benchSeal(b *testing.B, alice, bob *Identity, text string, fresh bool) {
	p := NewPacker(alice)
	to := []*Profile{bob.Profile()}
	visaKey, _ := bob.Visa.VisaKey()
	body := MarshalContent(NewText(text))
	reused, _ := crypto.GenerateAES()
	p.Keys.Put(alice.ID, bob.ID, reused)
	pwd, _ := reused.MarshalJSON() // same length as any AES-256 key map
	var r interleaved
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if fresh {
			p.Keys = &KeyCache{}
		}
		rm, err := p.Seal(NewInstantMessage(alice.ID, bob.ID, NewText(text)), to, SealOptions{OmitKey: !fresh})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rm.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		pw := reused
		if fresh {
			pw, _ = crypto.GenerateAES()
		}
		ct, _, _ := pw.Encrypt(body)
		if fresh {
			_, _ = visaKey.Encrypt(pwd)
		}
		_, _ = alice.SignKey.Sign(ct)
		t2 := time.Now()
		r.proto += t1.Sub(t0)
		r.floor += t2.Sub(t1)
	}
	r.report(b)
}

func benchOpen(b *testing.B, alice, bob *Identity, text string, fresh bool) {
	sender := NewPacker(alice)
	opts := SealOptions{OmitKey: !fresh}
	first, _ := sender.Seal(NewInstantMessage(alice.ID, bob.ID, NewText(text)), []*Profile{bob.Profile()}, SealOptions{})
	rm, err := sender.Seal(NewInstantMessage(alice.ID, bob.ID, NewText(text)), []*Profile{bob.Profile()}, opts)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := rm.MarshalJSON()
	from := alice.Profile()
	receiver := NewPacker(bob)
	if _, err := receiver.Open(first, from); err != nil { // caches the key
		b.Fatal(err)
	}
	// The floor's inputs, decoded once outside the loop.
	data, _ := rm.DataBytes()
	pw := receiver.Keys.Get(alice.ID, bob.ID)
	var ek []byte
	if fresh {
		ek, _ = ted.Decode(rm.Keys[bob.ID.String()])
	}
	var r interleaved
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if fresh {
			receiver.Keys = &KeyCache{} // a new key: nothing cached opens it
		}
		got, err := receiver.Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := receiver.Open(got, from); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := alice.SignKey.PublicKey().Verify(data, rm.Signature); err != nil {
			b.Fatal(err)
		}
		if fresh {
			if _, err := bob.Decrypt[0].Decrypt(ek); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := pw.Decrypt(data, rm.IV); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		r.proto += t1.Sub(t0)
		r.floor += t2.Sub(t1)
	}
	r.report(b)
}
