package workshop

import (
	"dimtui/client"
	"dimtui/dimp"
)

// The keys a frame was opened or sealed with, and what a group command
// did, as a transcript keeps them, so that a replay shows them as the live
// session did: which meta or visa key signed or verified a frame, the
// message key with the key that encrypted or decrypted it, and who a group
// command added or removed. The message key is written in the clear:
// the transcript holds the content in the clear already.

// KeyRecord is a client.KeyUse in a transcript.
type KeyRecord struct {
	Owner       string `json:"owner"`
	Role        string `json:"role"`
	Algorithm   string `json:"algorithm"`
	Bits        int    `json:"bits,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// MessageKeyRecord is a client.MessageKey in a transcript; Key and IV are
// base64, as encoding/json writes bytes.
type MessageKeyRecord struct {
	Algorithm   string            `json:"algorithm"`
	Key         []byte            `json:"key,omitempty"`
	IV          []byte            `json:"iv,omitempty"`
	Reused      bool              `json:"reused,omitempty"`
	DecryptedBy *KeyRecord        `json:"decrypted_by,omitempty"`
	Entry       string            `json:"entry,omitempty"`
	EncryptedTo []RecipientRecord `json:"encrypted_to,omitempty"`
}

// RecipientRecord is a client.Recipient in a transcript.
type RecipientRecord struct {
	Name string    `json:"name"`
	Key  KeyRecord `json:"key"`
}

// maxRecipients bounds the recipients read back from a transcript: a
// message is sealed for one receiver, or a group's members.
const maxRecipients = 4096

func keyRecord(k *client.KeyUse) *KeyRecord {
	if k == nil {
		return nil
	}
	return &KeyRecord{Owner: k.Owner.String(), Role: string(k.Role), Algorithm: k.Algorithm, Bits: k.Bits, Fingerprint: k.Fingerprint}
}

func messageKeyRecord(m *client.MessageKey) *MessageKeyRecord {
	if m == nil {
		return nil
	}
	r := &MessageKeyRecord{Algorithm: m.Algorithm, Key: m.Key, IV: m.IV, Reused: m.Reused, DecryptedBy: keyRecord(m.DecryptedBy), Entry: m.Entry}
	for _, to := range m.EncryptedTo {
		r.EncryptedTo = append(r.EncryptedTo, RecipientRecord{Name: to.Name, Key: *keyRecord(&to.Key)})
	}
	return r
}

// keyUse reads a key back; nil when it does not name a valid owner or a
// known role, so a damaged transcript loses the key's name, not the frame.
func (r *KeyRecord) keyUse() *client.KeyUse {
	if r == nil {
		return nil
	}
	owner, err := dimp.ParseID(r.Owner)
	role := client.KeyRole(r.Role)
	if err != nil || (role != client.MetaKey && role != client.VisaKey) || r.Bits < 0 {
		return nil
	}
	return &client.KeyUse{Owner: owner, Role: role, Algorithm: r.Algorithm, Bits: r.Bits, Fingerprint: r.Fingerprint}
}

// messageKey reads a message key back, leaving out what does not read.
func (r *MessageKeyRecord) messageKey() *client.MessageKey {
	if r == nil || r.Algorithm == "" {
		return nil
	}
	m := &client.MessageKey{Algorithm: r.Algorithm, Key: r.Key, IV: r.IV, Reused: r.Reused, DecryptedBy: r.DecryptedBy.keyUse(), Entry: r.Entry}
	for i, to := range r.EncryptedTo {
		if i == maxRecipients {
			break
		}
		if k := to.Key.keyUse(); k != nil {
			m.EncryptedTo = append(m.EncryptedTo, client.Recipient{Name: to.Name, Key: *k})
		}
	}
	return m
}

// GroupChangeRecord is what a group command did (client.GroupChange), in a
// transcript; IDs as strings.
type GroupChangeRecord struct {
	Added        []string `json:"added,omitempty"`
	Removed      []string `json:"removed,omitempty"`
	Requested    []string `json:"requested,omitempty"`
	AdminRemoved string   `json:"admin_removed,omitempty"`
	Hired        []string `json:"hired,omitempty"`
	Fired        []string `json:"fired,omitempty"`
	Refused      string   `json:"refused,omitempty"`
	Reason       string   `json:"reason,omitempty"`
	Ignored      string   `json:"ignored,omitempty"`
}

func groupChangeRecord(ch client.GroupChange) *GroupChangeRecord {
	strs := func(ids []dimp.ID) []string {
		var out []string
		for _, id := range ids {
			out = append(out, id.String())
		}
		return out
	}
	r := &GroupChangeRecord{Added: strs(ch.Added), Removed: strs(ch.Removed), Requested: strs(ch.Requested),
		Hired: strs(ch.Hired), Fired: strs(ch.Fired), Refused: ch.Refused, Reason: ch.Reason, Ignored: ch.Ignored}
	if !ch.AdminRemoved.IsZero() {
		r.AdminRemoved = ch.AdminRemoved.String()
	}
	return r
}

// change reads a group change back, leaving out the IDs that do not parse.
func (r *GroupChangeRecord) change() client.GroupChange {
	if r == nil {
		return client.GroupChange{}
	}
	ids := func(list []string) []dimp.ID {
		var out []dimp.ID
		for _, s := range list[:min(len(list), maxRecipients)] {
			if id, err := dimp.ParseID(s); err == nil {
				out = append(out, id)
			}
		}
		return out
	}
	ch := client.GroupChange{Added: ids(r.Added), Removed: ids(r.Removed), Requested: ids(r.Requested),
		Hired: ids(r.Hired), Fired: ids(r.Fired), Refused: r.Refused, Reason: r.Reason, Ignored: r.Ignored}
	if id, err := dimp.ParseID(r.AdminRemoved); err == nil {
		ch.AdminRemoved = id
	}
	return ch
}

// GroupCopyRecord is how one member's copy of a group message was made
// (client.GroupSend), in a transcript.
type GroupCopyRecord struct {
	Group   string `json:"group"`
	Member  string `json:"member"`
	Members int    `json:"members"`
	Once    bool   `json:"once,omitempty"`
}

// groupSend reads a group copy back; nil when there is none or its IDs do
// not parse.
func (r *GroupCopyRecord) groupSend() *client.GroupSend {
	if r == nil {
		return nil
	}
	group, err := dimp.ParseID(r.Group)
	if err != nil {
		return nil
	}
	member, err := dimp.ParseID(r.Member)
	if err != nil {
		return nil
	}
	return &client.GroupSend{Group: group, Member: member, Members: max(r.Members, 0), Once: r.Once}
}

// MemberRecord is one member's delivery of a group message
// (client.MemberDelivery), in a transcript.
type MemberRecord struct {
	Member string `json:"member"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}
