package workshop

import (
	"fmt"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// Knowledge is what a pane learned of the keys of the entities it met,
// from its own identity and the metas and visas that went by in frames:
// the explanations name the keys that sign and encrypt. It is not safe for
// concurrent use.
type Knowledge struct {
	meta map[string]crypto.PublicKey  // by client.IDKey: the meta key (signs)
	visa map[string]crypto.EncryptKey // by client.IDKey: the visa key (message keys are encrypted to it)
}

// NewKnowledge returns a Knowledge of no key.
func NewKnowledge() *Knowledge {
	return &Knowledge{meta: map[string]crypto.PublicKey{}, visa: map[string]crypto.EncryptKey{}}
}

// LearnProfile records the keys of a meta and visa.
func (k *Knowledge) LearnProfile(id dimp.ID, meta *dimp.Meta, visa *dimp.Document) {
	if id.IsZero() {
		return
	}
	if meta != nil && meta.Key != nil {
		k.meta[client.IDKey(id)] = meta.Key
	}
	if visa != nil {
		if vk, err := visa.VisaKey(); err == nil && vk != nil {
			k.visa[client.IDKey(id)] = vk
		}
	}
}

// LearnFrame records what a frame shows: attached metas and visas, and the
// metas and visas a documents or meta command carries.
func (k *Knowledge) LearnFrame(l *client.Layers) {
	if l == nil || l.Reliable == nil {
		return
	}
	rm := l.Reliable
	if rm.Meta != nil || rm.Visa != nil {
		k.LearnProfile(rm.Sender, rm.Meta, rm.Visa)
	}
	if l.Instant == nil {
		return
	}
	switch c := l.Instant.Content.(type) {
	case *dimp.DocumentCommand:
		var visa *dimp.Document
		for _, d := range c.Documents {
			if d.DocType() == dimp.DocVisa {
				visa = d
			}
		}
		k.LearnProfile(c.ID, c.Meta, visa)
	case *dimp.MetaCommand:
		k.LearnProfile(c.ID, c.Meta, nil)
	case *dimp.ForwardContent:
		for _, inner := range c.Secrets {
			if inner.Meta != nil || inner.Visa != nil {
				k.LearnProfile(inner.Sender, inner.Meta, inner.Visa)
			}
		}
	}
}

// signKey names who signs for id and with what: "alice's meta key (secp256k1, ECDSA over SHA-256)".
func (k *Knowledge) signKey(id dimp.ID, who string) string {
	s := who + "'s meta key"
	if key := k.meta[client.IDKey(id)]; key != nil {
		s += " (" + keyLabel(key, true) + ")"
	}
	return s
}

// encryptKey names the key a message key is encrypted to: "bob's visa key (RSA-1024, PKCS#1 v1.5)".
func (k *Knowledge) encryptKey(id dimp.ID, who string) string {
	s := who + "'s visa key"
	if key := k.visa[client.IDKey(id)]; key != nil {
		s += " (" + keyLabel(key, false) + ")"
	}
	return s
}

// keyLabel names a public key's algorithm and, for signing, its scheme.
func keyLabel(k crypto.PublicKey, signing bool) string {
	switch k := k.(type) {
	case *crypto.RSAPublicKey:
		if signing {
			return fmt.Sprintf("RSA-%d, PKCS#1 v1.5/SHA-256", k.Size()*8)
		}
		return fmt.Sprintf("RSA-%d, PKCS#1 v1.5", k.Size()*8)
	case *crypto.ECCPublicKey:
		return "secp256k1, ECDSA/SHA-256"
	}
	return k.Algorithm()
}
