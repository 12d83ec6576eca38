package mockstation

import (
	"errors"
	"fmt"

	"dimtui/dimp"
)

// The bound on the documents the station keeps, and the fitting of a
// documents answer into one frame.
//
// A document reaches the station two ways: uploaded by a document command
// (storeDocument), or attached to a message as the sender's visa
// (handleMessage, learn). Either way one over maxDocumentJSON is refused
// before anything of it is cached or stored, and its sender told why. A
// documents query is answered from the store (documentQuery), which may
// hold documents from before the bound: those are not sent, and what is
// sent is fitted into maxAnswerContent.

// maxDocumentJSON bounds one document the station accepts, in bytes of
// its JSON as the station stores and sends it (Document.MarshalJSON).
//
// dimchat's apps put a name, an avatar URL, the visa key and a few
// properties in a visa: 1–3 KB with an RSA-2048 key, the properties
// JSON-escaped inside `data`, the signature in Base64. 64 KiB is twenty
// times that, room for a long name or more properties, and small beside
// the frame limit: the answer to a documents query carries the newest
// document twice (in `documents`, and as the single `document` that peers
// before dimp 2.3 read) beside the meta (under 1 KB), encrypted and
// Base64-encoded (4 bytes for 3) in the envelope. One visa at the bound
// makes an answer of 4/3 × (2 × 64 + 1) KiB ≈ 172 KiB, a sixth of
// DefaultMaxFrame; a user's several visas (one per terminal) are fitted by
// fitDocuments.
const maxDocumentJSON = 64 << 10

// answerEnvelope is what the frame of an answer adds around its encrypted
// content: sender, receiver, time, the message key encrypted to the
// receiver's visa keys, the signature, the station's meta and visa when
// attached, the AES padding. A few KB; 64 KiB leaves room to spare.
const answerEnvelope = 64 << 10

// maxAnswerContent bounds the content JSON of a documents answer so that
// its frame, the content encrypted and Base64-encoded in the envelope,
// stays within DefaultMaxFrame, the frame clients read (dimtui's client
// and this station take 1 MiB): (1 MiB − 64 KiB) × 3/4 = 720 KiB.
const maxAnswerContent = (DefaultMaxFrame - answerEnvelope) / 4 * 3

// errDocumentTooLarge: a document's JSON is longer than maxDocumentJSON.
var errDocumentTooLarge = errors.New("document too large")

// documentSize returns the length of doc's JSON as the station stores and
// sends it.
func documentSize(doc *dimp.Document) int {
	raw, _ := doc.MarshalJSON() // writing a parsed document does not fail
	return len(raw)
}

// checkDocumentSize returns doc's size and, when it is over
// maxDocumentJSON, an error wrapping errDocumentTooLarge that says so.
func checkDocumentSize(doc *dimp.Document) (int, error) {
	n := documentSize(doc)
	if n <= maxDocumentJSON {
		return n, nil
	}
	return n, fmt.Errorf("%w: %s of %s is %d bytes of JSON, the station takes at most %d",
		errDocumentTooLarge, doc.DocType(), doc.ID, n, maxDocumentJSON)
}

// tooLargeText is the receipt text refusing a document of n bytes; what
// names it as the other refusals of its path do ("Document", "Visa").
func tooLargeText(what string, n int) string {
	return fmt.Sprintf("%s not accepted: %d bytes of JSON, at most %d.", what, n, maxDocumentJSON)
}

// sizedDocument is a stored document with the size of its JSON.
type sizedDocument struct {
	doc  *dimp.Document
	size int
}

// docListOverhead is what the members `"documents":[…]` and `"document":`
// add to a document command beside the documents and the commas between
// them (27 bytes), rounded up.
const docListOverhead = 64

// fitDocuments picks, from documents in time order, those a documents
// answer carries so that its content stays within maxAnswerContent: base
// is the size of the answer without documents (meta, IDs, name). Newest
// first, each is taken if it fits; the newest taken counts twice, as it is
// also the single `document`. It returns what it took, in time order, and
// what it left out.
func fitDocuments(docs []sizedDocument, base int) (taken []*dimp.Document, left []sizedDocument) {
	total := base + docListOverhead
	keep := make([]bool, len(docs))
	first := true
	for i := len(docs) - 1; i >= 0; i-- {
		n := docs[i].size + 1 // and a comma
		if first {
			n += docs[i].size
		}
		if total+n > maxAnswerContent {
			continue
		}
		total += n
		keep[i], first = true, false
	}
	for i, d := range docs {
		if keep[i] {
			taken = append(taken, d.doc)
		} else {
			left = append(left, d)
		}
	}
	return taken, left
}
