package dimp

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"dimtui/dimp/crypto"
	"dimtui/dimp/internal/ted"
)

// EntityType is what an ID names; it is the network byte of its address.
type EntityType uint8

// Entity types (mkm EntityType).
const (
	User    EntityType = 0x00 // a person
	Group   EntityType = 0x01 // a user group
	Station EntityType = 0x02 // a server node
	ISP     EntityType = 0x03 // a service provider (station group)
	Bot     EntityType = 0x04 // a business node
	ICP     EntityType = 0x05 // a content provider (bot group)
	Any     EntityType = 0x80 // broadcast "anyone" (address anywhere)
	Every   EntityType = 0x81 // broadcast "everyone" (address everywhere)
)

// IsUser reports whether the type is a user kind (even types: user, station, bot, any).
func (t EntityType) IsUser() bool { return t&0x01 == 0 }

// IsGroup reports whether the type is a group kind (odd types).
func (t EntityType) IsGroup() bool { return t&0x01 == 1 }

// IsBroadcast reports whether the type is a broadcast (0x80 bit).
func (t EntityType) IsBroadcast() bool { return t&0x80 != 0 }

// String names the type.
func (t EntityType) String() string {
	switch t {
	case User:
		return "user"
	case Group:
		return "group"
	case Station:
		return "station"
	case ISP:
		return "isp"
	case Bot:
		return "bot"
	case ICP:
		return "icp"
	case Any:
		return "any"
	case Every:
		return "every"
	}
	return fmt.Sprintf("type-%#02x", uint8(t))
}

// legacyType maps the network bytes of MKM 0.9 addresses to entity types.
func legacyType(network byte) EntityType {
	switch network {
	case 0x08:
		return User
	case 0x10, 0x30:
		return Group
	case 0x88:
		return Station
	case 0x76:
		return ISP
	case 0xC8:
		return Bot
	}
	return EntityType(network)
}

type addressKind uint8

const (
	addrNone addressKind = iota
	addrBroadcast
	addrBTC
	addrETH
)

// Address is the part of an ID after '@': a BTC-style Base58 address, an
// ETH address, or one of the broadcast words anywhere/everywhere.
type Address struct {
	text    string
	network byte
	kind    addressKind
}

// Broadcast addresses.
var (
	Anywhere   = Address{text: "anywhere", network: byte(Any), kind: addrBroadcast}
	Everywhere = Address{text: "everywhere", network: byte(Every), kind: addrBroadcast}
)

// ParseAddress reads an address. Broadcast words are matched without
// regard to case; BTC addresses must carry a valid checksum; ETH addresses
// in mixed case must carry a valid EIP-55 checksum.
func ParseAddress(s string) (Address, error) {
	switch len(s) {
	case 8:
		if strings.EqualFold(s, "anywhere") {
			return Address{text: s, network: byte(Any), kind: addrBroadcast}, nil
		}
	case 10:
		if strings.EqualFold(s, "everywhere") {
			return Address{text: s, network: byte(Every), kind: addrBroadcast}, nil
		}
	case 42:
		return parseETH(s)
	}
	if len(s) >= 26 && len(s) <= 35 {
		return parseBTC(s)
	}
	return Address{}, fmt.Errorf("%w: %q has no address form of length %d", ErrInvalidAddress, s, len(s))
}

func parseBTC(s string) (Address, error) {
	b, err := ted.Base58(s)
	if err != nil || len(b) != 25 {
		return Address{}, fmt.Errorf("%w: %q is not 25 bytes of Base58", ErrInvalidAddress, s)
	}
	if !bytes.Equal(checkCode(b[:21]), b[21:]) {
		return Address{}, fmt.Errorf("%w: %q has a bad checksum", ErrInvalidAddress, s)
	}
	return Address{text: s, network: b[0], kind: addrBTC}, nil
}

func checkCode(head []byte) []byte {
	return crypto.SHA256(crypto.SHA256(head))[:4]
}

// BTCAddress derives a BTC-style address: Base58(network | RIPEMD160(SHA256(fp)) | checksum).
func BTCAddress(fingerprint []byte, network byte) Address {
	head := make([]byte, 0, 25)
	head = append(head, network)
	head = append(head, crypto.RIPEMD160(crypto.SHA256(fingerprint))...)
	head = append(head, checkCode(head)...)
	return Address{text: ted.EncodeBase58(head), network: network, kind: addrBTC}
}

func parseETH(s string) (Address, error) {
	if !strings.HasPrefix(s, "0x") {
		return Address{}, fmt.Errorf("%w: %q does not start with 0x", ErrInvalidAddress, s)
	}
	body := s[2:]
	if _, err := hex.DecodeString(body); err != nil {
		return Address{}, fmt.Errorf("%w: %q is not hex", ErrInvalidAddress, s)
	}
	if body != strings.ToLower(body) && body != strings.ToUpper(body) && eip55(strings.ToLower(body)) != body {
		return Address{}, fmt.Errorf("%w: %q fails its EIP-55 checksum", ErrInvalidAddress, s)
	}
	return Address{text: s, network: byte(User), kind: addrETH}, nil
}

// ETHAddress derives an ETH address from a 64-byte X|Y point (or the
// 65-byte uncompressed form): 0x + EIP55(hex(Keccak256(X|Y)[12:])).
func ETHAddress(point []byte) (Address, error) {
	if len(point) == 65 && point[0] == 0x04 {
		point = point[1:]
	}
	if len(point) != 64 {
		return Address{}, fmt.Errorf("%w: ETH address needs a 64-byte point, got %d", ErrInvalidAddress, len(point))
	}
	digest := crypto.Keccak256(point)
	return Address{text: "0x" + eip55(hex.EncodeToString(digest[12:])), network: byte(User), kind: addrETH}, nil
}

// eip55 applies the mixed-case checksum to 40 lowercase hex digits.
func eip55(lower string) string {
	h := crypto.Keccak256([]byte(lower))
	out := []byte(lower)
	for i, c := range out {
		if c < 'a' {
			continue
		}
		nibble := h[i/2] >> 4
		if i%2 == 1 {
			nibble = h[i/2] & 0x0F
		}
		if nibble >= 8 {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// String returns the address text as it was read or generated.
func (a Address) String() string { return a.text }

// IsZero reports whether a is the zero Address (no address).
func (a Address) IsZero() bool { return a.kind == addrNone }

// Network returns the raw network byte (the first byte of a BTC address).
func (a Address) Network() byte { return a.network }

// Type returns the entity type, mapping the network bytes of MKM 0.9.
func (a Address) Type() EntityType { return legacyType(a.network) }

// IsBroadcast reports whether a is anywhere or everywhere.
func (a Address) IsBroadcast() bool { return a.kind == addrBroadcast }

// IsETH reports whether a is an ETH address.
func (a Address) IsETH() bool { return a.kind == addrETH }

// Equal compares two addresses; broadcast words and ETH hex ignore case.
func (a Address) Equal(b Address) bool {
	if a.kind != b.kind {
		return false
	}
	if a.kind == addrBTC {
		return a.text == b.text
	}
	return strings.EqualFold(a.text, b.text)
}
