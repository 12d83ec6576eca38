package dimp

import (
	"fmt"
	"strings"
)

// MaxIDLength bounds the text of an ID. The reference has no bound; names
// come from seeds, addresses are at most 42 characters, terminals are short.
const MaxIDLength = 256

// ID identifies an entity: [name@]address[/terminal]. The zero ID means "no
// ID". An ID keeps the exact text it was read from; two IDs are Equal when
// the texts are the same and SameAs when they name the same entity.
type ID struct {
	name     string
	addr     Address
	terminal string
	text     string
}

// Well-known broadcast IDs.
var (
	Anyone        = ID{name: "anyone", addr: Anywhere, text: "anyone@anywhere"}
	Everyone      = ID{name: "everyone", addr: Everywhere, text: "everyone@everywhere"}
	Founder       = ID{name: "moky", addr: Anywhere, text: "moky@anywhere"}
	AnyStation    = ID{name: "station", addr: Anywhere, text: "station@anywhere"}
	EveryStations = ID{name: "stations", addr: Everywhere, text: "stations@everywhere"}
)

// ParseID reads name@address/terminal. The terminal is everything after the
// first '/', the name everything before the last '@'. An empty name before
// '@', an empty terminal after '/', an invalid address, control characters
// or white space anywhere, or more than MaxIDLength bytes are refused.
func ParseID(s string) (ID, error) {
	if s == "" {
		return ID{}, fmt.Errorf("%w: empty", ErrInvalidID)
	}
	if len(s) > MaxIDLength {
		return ID{}, fmt.Errorf("%w: %d bytes is longer than %d", ErrInvalidID, len(s), MaxIDLength)
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7F || r == '\uFFFD' {
			return ID{}, fmt.Errorf("%w: %q contains white space or a control character", ErrInvalidID, s)
		}
	}
	body, terminal, hasTerminal := strings.Cut(s, "/")
	if hasTerminal && terminal == "" {
		return ID{}, fmt.Errorf("%w: %q has an empty terminal", ErrInvalidID, s)
	}
	var name, addrText string
	if at := strings.LastIndexByte(body, '@'); at >= 0 {
		name, addrText = body[:at], body[at+1:]
		if name == "" {
			return ID{}, fmt.Errorf("%w: %q has an empty name", ErrInvalidID, s)
		}
	} else {
		addrText = body
	}
	addr, err := ParseAddress(addrText)
	if err != nil {
		return ID{}, fmt.Errorf("%w: %q: %w", ErrInvalidID, s, err)
	}
	return ID{name: name, addr: addr, terminal: terminal, text: s}, nil
}

// MustParseID is ParseID for constants in tests and examples; it panics on error.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// NewID assembles an ID from its parts.
func NewID(name string, addr Address, terminal string) ID {
	text := addr.String()
	if name != "" {
		text = name + "@" + text
	}
	if terminal != "" {
		text += "/" + terminal
	}
	return ID{name: name, addr: addr, terminal: terminal, text: text}
}

// String returns the ID text.
func (id ID) String() string { return id.text }

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool { return id.text == "" }

// Name is the part before '@' (the meta seed), empty for BTC/ETH-meta IDs.
func (id ID) Name() string { return id.name }

// Address is the part between '@' and '/'.
func (id ID) Address() Address { return id.addr }

// Terminal is the part after '/': the login point or device.
func (id ID) Terminal() string { return id.terminal }

// Type is the entity type carried by the address.
func (id ID) Type() EntityType { return id.addr.Type() }

// IsUser reports whether the ID names a user kind (user, station, bot, anyone).
func (id ID) IsUser() bool { return !id.IsZero() && id.Type().IsUser() }

// IsGroup reports whether the ID names a group kind.
func (id ID) IsGroup() bool { return !id.IsZero() && id.Type().IsGroup() }

// IsBroadcast reports whether the address is anywhere or everywhere.
func (id ID) IsBroadcast() bool { return id.addr.IsBroadcast() }

// Equal compares the exact text, terminal included; use it for map keys.
func (id ID) Equal(other ID) bool { return id.text == other.text }

// SameAs reports whether both IDs name the same entity: same name and
// address, the terminal ignored.
func (id ID) SameAs(other ID) bool {
	if id.IsZero() || other.IsZero() {
		return id.IsZero() && other.IsZero()
	}
	return id.name == other.name && id.addr.Equal(other.addr)
}

// WithoutTerminal returns the ID of the entity without the device part.
func (id ID) WithoutTerminal() ID {
	if id.terminal == "" {
		return id
	}
	return NewID(id.name, id.addr, "")
}

// WithTerminal returns the ID with the given terminal.
func (id ID) WithTerminal(terminal string) ID { return NewID(id.name, id.addr, terminal) }

// MarshalText writes the ID text.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.text), nil }

// UnmarshalText reads an ID with ParseID.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
