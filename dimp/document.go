package dimp

import (
	"fmt"
	"time"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/jsonx"
)

// Document types.
const (
	DocVisa     = "visa"     // a user's profile; its `key` receives messages
	DocBulletin = "bulletin" // a group's profile
	DocProfile  = "profile"  // anything else
)

// Document is a signed profile of an entity. Its properties are the JSON
// object in Data; the signature covers the exact UTF-8 bytes of Data, so
// Data is never rebuilt from the properties once signed.
type Document struct {
	ID        ID
	Type      string // "visa", "bulletin", "profile"; derived from ID when absent
	Data      string
	Signature []byte

	sigText tedText
	extra   jsonx.Object
	props   jsonx.Object // parsed Data, lazily
}

// ParseDocument reads a document map (`did` or the old `ID`, `data`,
// `signature`, optional `type`). Both `data` and `signature` are required.
// The properties must be a JSON object. The signature is not verified here:
// that needs the signer's meta (see Verify and VerifyFor).
func ParseDocument(raw []byte) (*Document, error) {
	m, err := jsonx.ParseMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDocument, err)
	}
	return documentFromMembers(m)
}

// documentFromMembers reads a document map already split into members.
func documentFromMembers(m *jsonx.Members) (*Document, error) {
	d := &Document{}
	idRaw := m.Take("did")
	if legacy := m.Take("ID"); idRaw == nil {
		idRaw = legacy
	}
	if idRaw == nil {
		return nil, fmt.Errorf("%w: no did", ErrInvalidDocument)
	}
	var err error
	if d.ID, err = idField(idRaw); err != nil {
		return nil, fmt.Errorf("%w: did: %w", ErrInvalidDocument, err)
	}
	if raw := m.Take("type"); raw != nil {
		if d.Type, err = jsonx.String(raw); err != nil {
			return nil, fmt.Errorf("%w: type: %w", ErrInvalidDocument, err)
		}
	}
	dataRaw, sigRaw := m.Take("data"), m.Take("signature")
	if dataRaw == nil || sigRaw == nil {
		return nil, fmt.Errorf("%w: data and signature are required", ErrInvalidDocument)
	}
	if d.Data, err = jsonx.String(dataRaw); err != nil {
		return nil, fmt.Errorf("%w: data: %w", ErrInvalidDocument, err)
	}
	if d.Signature, d.sigText, err = readTED(sigRaw); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrInvalidDocument, err)
	}
	if d.props, err = jsonx.ParseObject([]byte(d.Data)); err != nil {
		return nil, fmt.Errorf("%w: data is not a JSON object: %w", ErrInvalidDocument, err)
	}
	d.extra = m.Rest()
	return d, nil
}

// NewDocument starts an unsigned document for id. Set properties with Set,
// then Sign.
func NewDocument(id ID, docType string) *Document {
	if docType == "" {
		docType = defaultDocType(id)
	}
	now := Now()
	d := &Document{ID: id, Type: docType, props: jsonx.Object{}}
	d.props["type"] = jsonx.AppendString(nil, docType)
	d.props["created_time"] = jsonx.AppendFloat(nil, now)
	return d
}

func defaultDocType(id ID) string {
	switch {
	case id.IsUser():
		return DocVisa
	case id.IsGroup():
		return DocBulletin
	}
	return DocProfile
}

// Now returns the current time as DIMP writes it: float seconds.
func Now() float64 {
	return float64(time.Now().UnixMicro()) / 1e6
}

// DocType returns Type, or the type implied by the ID when none was sent.
func (d *Document) DocType() string {
	if d.Type != "" {
		return d.Type
	}
	return defaultDocType(d.ID)
}

// Set sets a property (any value encoding/json can write). It clears the
// signature: the document must be signed again.
func (d *Document) Set(name string, v any) error {
	if d.props == nil {
		d.props = jsonx.Object{}
	}
	if err := d.props.Set(name, v); err != nil {
		return fmt.Errorf("document property %s: %w", name, err)
	}
	d.Data, d.Signature = "", nil
	return nil
}

// Sign stamps `time`, serialises the properties into Data and signs Data
// with priv (the private key of the meta, for visas and bulletins).
func (d *Document) Sign(priv crypto.PrivateKey) error {
	if d.props == nil {
		d.props = jsonx.Object{}
	}
	d.props["time"] = jsonx.AppendFloat(nil, Now())
	w := jsonx.NewWriter(nil)
	for _, k := range []string{"type", "created_time", "name", "avatar", "key", "terminal", "founder"} {
		w.Raw(k, d.props[k])
	}
	w.Rest(d.props)
	data := string(w.End())
	sig, err := priv.Sign([]byte(data))
	if err != nil {
		return fmt.Errorf("sign document: %w", err)
	}
	d.Data, d.Signature = data, sig
	return nil
}

// Verify checks the signature over the exact bytes of Data with key.
func (d *Document) Verify(key crypto.PublicKey) error {
	if d.Data == "" || len(d.Signature) == 0 {
		return fmt.Errorf("%w: document of %s is not signed", ErrDocumentSignature, d.ID)
	}
	if err := key.Verify([]byte(d.Data), d.Signature); err != nil {
		return fmt.Errorf("%w: document of %s: %w", ErrDocumentSignature, d.ID, err)
	}
	return nil
}

// VerifyFor checks that the document belongs to id (terminal ignored) and
// is signed by the key of signer's meta: the entity's own meta for a visa,
// the founder's or owner's meta for a bulletin.
func (d *Document) VerifyFor(id ID, signer *Meta) error {
	if !d.ID.SameAs(id) {
		return fmt.Errorf("%w: document is for %s, not %s", ErrDocumentID, d.ID, id)
	}
	return d.Verify(signer.Key)
}

// Property returns the raw JSON of a property, nil when absent.
func (d *Document) Property(name string) []byte {
	v := d.props[name]
	if jsonx.IsNull(v) {
		return nil
	}
	return v
}

// PropertyNames lists the properties in byte order.
func (d *Document) PropertyNames() []string { return d.props.SortedKeys() }

// Name is the `name` property (nickname or group title).
func (d *Document) Name() string {
	s, _ := jsonx.String(d.Property("name"))
	return s
}

// Time is the signing time (`time` property), 0 when absent.
func (d *Document) Time() float64 {
	f, _ := jsonx.Float(d.Property("time"))
	return f
}

// Terminal is the device this visa is for: the document's `terminal`
// member, else the terminal of its ID, else "" (every device).
func (d *Document) Terminal() string {
	if raw := d.extra["terminal"]; raw != nil {
		if s, err := jsonx.String(raw); err == nil && s != "*" {
			return s
		}
	}
	if s, err := jsonx.String(d.Property("terminal")); err == nil && s != "" && s != "*" {
		return s
	}
	return d.ID.Terminal()
}

// Founder is a bulletin's `founder` property.
func (d *Document) Founder() (ID, error) {
	raw := d.Property("founder")
	if raw == nil {
		return ID{}, nil
	}
	return idField(raw)
}

// VisaKey returns the visa's `key`: the public key messages to this user are
// encrypted with. It is nil (and no error) when the visa carries none.
func (d *Document) VisaKey() (crypto.EncryptKey, error) {
	raw := d.Property("key")
	if raw == nil {
		return nil, nil
	}
	pub, err := crypto.ParsePublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: visa key: %w", ErrInvalidDocument, err)
	}
	enc, ok := pub.(crypto.EncryptKey)
	if !ok {
		return nil, fmt.Errorf("%w: visa key (%s) cannot encrypt", ErrInvalidDocument, pub.Algorithm())
	}
	return enc, nil
}

// MarshalJSON writes the document with both `did` and the old `ID`.
func (d *Document) MarshalJSON() ([]byte, error) {
	sig := d.sigText.textOf(d.Signature)
	w := jsonx.NewWriter(make([]byte, 0, 128+len(d.Data)+len(sig)))
	w.String("did", d.ID.String())
	w.String("ID", d.ID.String())
	w.StringIf("type", d.Type)
	w.String("data", d.Data)
	w.String("signature", sig)
	w.Rest(d.extra)
	return w.End(), nil
}
