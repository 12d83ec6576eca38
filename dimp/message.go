package dimp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"dimtui/dimp/internal/jsonx"
	"dimtui/dimp/internal/ted"
)

// messageShortNames are the message members the reference's optional
// shortener renames. Readers expand them; this package never writes them.
var messageShortNames = [][2]string{
	{"sender", "F"}, {"receiver", "R"}, {"time", "W"}, {"type", "T"}, {"group", "G"},
	{"keys", "K"}, {"data", "D"}, {"signature", "V"}, {"meta", "M"}, {"visa", "P"},
}

// expandKeyNames expands the short member names of a message. `K` is the
// `keys` map, or the single `key` string of older peers.
func expandKeyNames(m *jsonx.Members) {
	if k := m.Get("K"); k != nil && k[0] == '"' && !m.Has("key") {
		m.Expand([][2]string{{"key", "K"}})
	}
	m.Expand(messageShortNames)
}

// Envelope is who sends a message to whom, and when.
type Envelope struct {
	Sender   ID
	Receiver ID
	Time     float64
	Group    ID          // exposed group: set when a group message is split per member
	Type     ContentType // the content type, copied out so relays can see it
	HasType  bool        // whether Type was present
}

// IsBroadcast reports whether the message is a broadcast: to a broadcast
// receiver, or with a broadcast exposed group. Broadcasts are not encrypted.
func (e *Envelope) IsBroadcast() bool {
	return e.Receiver.IsBroadcast() || (!e.Group.IsZero() && e.Group.IsBroadcast())
}

// Destination is what the symmetric key is shared for: the exposed group,
// the receiver if it is a group, else the receiver.
func (e *Envelope) Destination() ID {
	switch {
	case e.Receiver.IsBroadcast():
		return e.Receiver
	case !e.Group.IsZero():
		return e.Group
	}
	return e.Receiver
}

func readEnvelope(r *fieldReader) (Envelope, error) {
	var e Envelope
	senderRaw := r.raw("sender")
	if senderRaw == nil {
		return e, fmt.Errorf("%w: no sender", ErrInvalidMessage)
	}
	e.Sender = r.idOf("sender", senderRaw)
	e.Receiver = r.id("receiver")
	if e.Receiver.IsZero() && r.err == nil {
		e.Receiver = Anyone
	}
	e.Time = r.float("time")
	e.Group = r.id("group")
	// The envelope type is a hint for relays, not signed and not needed to
	// open the message; the reference even writes "" when its shortener ran
	// first. One that does not read is kept as an unknown member.
	if raw := r.m.Get("type"); raw != nil {
		if tok, err := jsonx.Token(raw); err == nil && tok != "" {
			if t, err := ParseContentType(tok); err == nil {
				e.Type, e.HasType = t, true
				r.m.Take("type")
			}
		}
	}
	if r.err != nil {
		return e, fmt.Errorf("%w: %w", ErrInvalidMessage, r.err)
	}
	return e, nil
}

func (e *Envelope) write(w *jsonx.Writer) {
	w.String("sender", e.Sender.String())
	w.String("receiver", e.Receiver.String())
	w.Float("time", e.Time)
	writeIDIf(w, "group", e.Group)
	if e.HasType {
		w.Int("type", int64(e.Type))
	}
}

// InstantMessage is a message in the clear: an envelope and a content.
type InstantMessage struct {
	Envelope
	Content Content
	Extra   Fields
}

// NewInstantMessage wraps a content for a receiver. The envelope time is the
// content's (now, if the content has none). For a group message, pass the
// group as receiver and set the content's Group.
func NewInstantMessage(sender, receiver ID, c Content) *InstantMessage {
	h := c.Header()
	if h.Time == 0 {
		h.Time = Now()
	}
	return &InstantMessage{Envelope: Envelope{Sender: sender, Receiver: receiver, Time: h.Time}, Content: c}
}

// ParseInstantMessage reads an instant message (`sender` and `content` required).
func ParseInstantMessage(raw []byte) (*InstantMessage, error) {
	m, err := jsonx.ParseMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	expandKeyNames(m)
	r := &fieldReader{m: m}
	env, err := readEnvelope(r)
	if err != nil {
		return nil, err
	}
	cr := r.sub("content")
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, r.err)
	}
	if cr == nil {
		return nil, fmt.Errorf("%w: no content", ErrInvalidMessage)
	}
	c, err := contentFrom(cr)
	if err != nil {
		return nil, fmt.Errorf("%w: content: %w", ErrInvalidMessage, err)
	}
	if env.Time == 0 {
		env.Time = c.Header().Time
	}
	return &InstantMessage{Envelope: env, Content: c, Extra: m.Rest()}, nil
}

// MarshalJSON writes the instant message with long member names.
func (m *InstantMessage) MarshalJSON() ([]byte, error) {
	return m.appendJSON(make([]byte, 0, 512)), nil
}

func (m *InstantMessage) appendJSON(buf []byte) []byte {
	w := jsonx.NewWriter(buf)
	m.Envelope.write(w)
	w.Raw("content", MarshalContent(m.Content))
	w.Rest(m.Extra)
	return w.End()
}

// SecureMessage is an encrypted message: Data is the ciphertext in Base64
// (for a broadcast: the content JSON text itself) and Keys holds the message
// key encrypted for each receiver, by "ID" or "ID/terminal".
type SecureMessage struct {
	Envelope
	Data  string            // exact wire text, never re-encoded
	Keys  map[string]string // Base64 encrypted keys; may hold "digest"
	IV    []byte            // the AES IV (`IV`; old peers: `iv`); nil = none
	Extra Fields

	ivText     tedText // IV as received
	ivInExtra  bool    // IV came from `iv`, which stays in Extra
	keysLegacy bool    // Keys came from the old `key`, which stays in Extra
	decoded    []byte  // DataBytes of decodedFor, kept for the next step
	decodedFor string
}

// ReliableMessage is a signed secure message: what travels on the wire.
// Meta and Visa are the sender's, attached on first contact.
type ReliableMessage struct {
	SecureMessage
	Signature []byte
	Meta      *Meta
	Visa      *Document

	sigText tedText
}

// ParseSecureMessage reads a secure message (`sender` and `data` required).
func ParseSecureMessage(raw []byte) (*SecureMessage, error) {
	m, err := parseMessage(raw, false, nil)
	if err != nil {
		return nil, err
	}
	return &m.SecureMessage, nil
}

// ParseReliableMessage reads a reliable message (`sender`, `data` and
// `signature` required) in any form: short member names, the old `key`,
// numeric or string types. An attached meta or visa must be well formed
// and the meta valid; whether they belong to the sender is checked by
// Verify.
func ParseReliableMessage(raw []byte) (*ReliableMessage, error) {
	return parseMessage(raw, true, nil)
}

func parseMessage(raw []byte, signed bool, ids *IDCache) (*ReliableMessage, error) {
	members, err := jsonx.ParseMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	expandKeyNames(members)
	r := &fieldReader{m: members, cache: ids}
	env, err := readEnvelope(r)
	if err != nil {
		return nil, err
	}
	m := &ReliableMessage{SecureMessage: SecureMessage{Envelope: env}}
	dataRaw := r.raw("data")
	if dataRaw == nil {
		return nil, fmt.Errorf("%w: no data", ErrInvalidMessage)
	}
	m.Data = r.strOf("data", dataRaw)
	if kobj := r.object("keys"); kobj != nil {
		m.Keys = make(map[string]string, len(kobj))
		for k, v := range kobj {
			s, err := jsonx.String(v)
			if err != nil {
				r.fail("keys."+k, err)
				break
			}
			m.Keys[k] = s
		}
	} else if legacy := members.Get("key"); legacy != nil && r.err == nil {
		s, err := jsonx.String(legacy)
		if err != nil {
			r.fail("key", err)
		} else {
			m.Keys = map[string]string{env.Receiver.WithoutTerminal().String(): s}
			m.keysLegacy = true
		}
	}
	ivRaw := r.raw("IV")
	if ivRaw == nil {
		if legacy := members.Get("iv"); legacy != nil {
			ivRaw, m.ivInExtra = legacy, true
		}
	}
	if ivRaw != nil {
		if m.IV, m.ivText, err = readTED(ivRaw); err != nil {
			r.fail("IV", err)
		}
	}
	sigRaw := r.raw("signature")
	if sigRaw != nil {
		if m.Signature, m.sigText, err = readTED(sigRaw); err != nil {
			r.fail("signature", err)
		}
	} else if signed {
		return nil, fmt.Errorf("%w: no signature", ErrInvalidMessage)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, r.err)
	}
	if mobj := r.members("meta"); mobj != nil {
		if m.Meta, err = metaFromMembers(mobj); err != nil {
			return nil, fmt.Errorf("%w: attached meta: %w", ErrInvalidMessage, err)
		}
	}
	if vobj := r.members("visa"); vobj != nil {
		if m.Visa, err = documentFromMembers(vobj); err != nil {
			return nil, fmt.Errorf("%w: attached visa: %w", ErrInvalidMessage, err)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, r.err)
	}
	m.Extra = members.Rest()
	return m, nil
}

// DataBytes returns what the signature covers and the key decrypts: the
// Base64-decoded ciphertext, or for a broadcast the UTF-8 of the JSON text.
// The result is shared between calls: do not modify it.
func (m *SecureMessage) DataBytes() ([]byte, error) {
	if m.decoded != nil && m.decodedFor == m.Data {
		return m.decoded, nil
	}
	var b []byte
	if m.IsBroadcast() {
		b = []byte(m.Data)
	} else {
		var err error
		if b, err = ted.Decode(m.Data); err != nil {
			return nil, fmt.Errorf("%w: data: %w", ErrInvalidMessage, err)
		}
	}
	m.decoded, m.decodedFor = b, m.Data
	return b, nil
}

// Digest identifies a message by what its sender signed: the hex SHA-256
// of the sender's ID (without terminal) and the data bytes. A signature
// covers the data alone and has several valid forms for one message
// (Base64 with or without padding, an RSA signature that lost its leading
// zero byte, ECDSA's two equivalent s values), so a receiver that drops
// duplicates by digest sees each message once, however a station re-sends
// it. Data that does not decode is hashed as its text: such a message
// never verifies.
func (m *ReliableMessage) Digest() string {
	data, err := m.DataBytes()
	if err != nil {
		data = []byte(m.Data)
	}
	h := sha256.New()
	h.Write([]byte(m.Sender.WithoutTerminal().String()))
	h.Write([]byte{0})
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// SignatureText returns the signature as it travels (Base64).
func (m *ReliableMessage) SignatureText() string {
	return m.sigText.textOf(m.Signature)
}

func (m *SecureMessage) writeBody(w *jsonx.Writer) {
	m.Envelope.write(w)
	if m.IV != nil && !m.ivInExtra {
		w.String("IV", m.ivText.textOf(m.IV))
	}
	w.String("data", m.Data)
	if len(m.Keys) > 0 && !m.keysLegacy {
		kw := jsonx.NewWriter(make([]byte, 0, 200*len(m.Keys)))
		names := make([]string, 0, len(m.Keys))
		for k := range m.Keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			kw.String(k, m.Keys[k])
		}
		w.Raw("keys", kw.End())
	}
}

// MarshalJSON writes the secure message with long member names.
func (m *SecureMessage) MarshalJSON() ([]byte, error) {
	w := jsonx.NewWriter(make([]byte, 0, 512+len(m.Data)))
	m.writeBody(w)
	w.Rest(m.Extra)
	return w.End(), nil
}

// MarshalJSON writes the reliable message as it goes on the wire: long
// member names, attachments included, unknown members kept.
func (m *ReliableMessage) MarshalJSON() ([]byte, error) {
	return m.appendJSON(make([]byte, 0, 768+len(m.Data))), nil
}

func (m *ReliableMessage) appendJSON(buf []byte) []byte {
	w := jsonx.NewWriter(buf)
	m.writeBody(w)
	w.String("signature", m.SignatureText())
	writeMeta(w, "meta", m.Meta)
	if m.Visa != nil {
		if raw, err := m.Visa.MarshalJSON(); err == nil {
			w.Raw("visa", raw)
		}
	}
	w.Rest(m.Extra)
	return w.End()
}
