// Package ted reads and writes DIMP's transportable data (TED): the text form
// of every binary value on the wire (signatures, fingerprints, key data,
// message data, encrypted keys).
//
// The v2.4 writer emits plain standard Base64. Readers must also take RFC 2397
// data URIs, and the ≤ v2.3 prefixes "base64,", "base58," and "hex,". Base64
// input may lack padding or carry line breaks, as some peers wrap it.
package ted

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mr-tron/base58"
)

// ErrEncoding marks text that is not valid transportable data.
var ErrEncoding = errors.New("bad transportable data")

// Encode writes b as standard Base64 with padding.
func Encode(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Decode reads transportable data in any form a peer may send.
func Decode(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		return decodeDataURI(s)
	}
	if i := strings.IndexByte(s, ','); i > 0 && i <= 7 {
		switch s[:i] {
		case "base64":
			return Base64(s[i+1:])
		case "base58":
			return Base58(s[i+1:])
		case "hex":
			b, err := hex.DecodeString(s[i+1:])
			if err != nil {
				return nil, fmt.Errorf("%w: hex: %v", ErrEncoding, err)
			}
			return b, nil
		}
	}
	return Base64(s)
}

// Base64 decodes standard Base64, tolerating missing padding, white space
// and the URL-safe alphabet.
func Base64(s string) ([]byte, error) {
	// Fast path: canonical padded Base64.
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\n', '\r', '\t', '=':
			return -1
		case '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, s)
	b, err := base64.RawStdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrEncoding, err)
	}
	return b, nil
}

// Base58 decodes Bitcoin-alphabet Base58; leading '1's are zero bytes.
func Base58(s string) ([]byte, error) {
	if s == "" {
		return []byte{}, nil
	}
	b, err := base58.Decode(s)
	if err != nil {
		return nil, fmt.Errorf("%w: base58: %v", ErrEncoding, err)
	}
	return b, nil
}

// EncodeBase58 writes b in Bitcoin-alphabet Base58, keeping leading zeros.
func EncodeBase58(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return base58.Encode(b)
}

// decodeDataURI reads data:[<mime>][;name=value]*[;base64],<body>.
func decodeDataURI(s string) ([]byte, error) {
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		return nil, fmt.Errorf("%w: data URI without ','", ErrEncoding)
	}
	head, body := s[len("data:"):comma], s[comma+1:]
	isBase64 := false
	for _, p := range strings.Split(head, ";") {
		if p == "base64" {
			isBase64 = true
		}
	}
	if isBase64 {
		return Base64(body)
	}
	text, err := url.PathUnescape(body)
	if err != nil {
		return nil, fmt.Errorf("%w: data URI: %v", ErrEncoding, err)
	}
	return []byte(text), nil
}

// DataURIFilename returns the filename parameter of a data URI, if any.
func DataURIFilename(s string) string {
	if !strings.HasPrefix(s, "data:") {
		return ""
	}
	comma := strings.IndexByte(s, ',')
	if comma < 0 {
		return ""
	}
	for _, p := range strings.Split(s[len("data:"):comma], ";") {
		if name, ok := strings.CutPrefix(p, "filename="); ok {
			return name
		}
	}
	return ""
}
