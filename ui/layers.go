package ui

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
	"dimtui/display"
)

// renderLayers draws a frame's layers for a width, as the user me sees
// them: stacked, or side by side in three columns when there is room. Long
// values are cut to one line unless full is set. Each layer names the key
// that did its step, as the client recorded it when it processed the
// frame; a frame held by step-through and not processed yet says so.
func renderLayers(st *Styles, me dimp.ID, f frameRec, w int, full bool) []string {
	if f.cut != nil {
		out := cutNote(st, f, w)
		f.cut = nil
		return append(out, renderLayers(st, me, f, w, full)...)
	}
	if f.layers == nil {
		var out []string
		out = append(out, st.LayerTitle.Render("Control frame"))
		for _, line := range display.HardWrap(display.Sanitize(string(f.raw), true), w-1) {
			out = append(out, " "+line)
		}
		for _, l := range display.Wrap("PING and PONG keep the connection alive and measure the round trip; "+
			"ACK tells the station that a message arrived, so it can drop its copy.", w-1) {
			out = append(out, " "+st.LayerNote.Render(l))
		}
		return out
	}
	if w >= 96 {
		colW := (w - 2*3) / 3
		cols := [][]string{reliableLayer(st, me, f, colW, full), secureLayer(st, me, f, colW, full), instantLayer(st, f, colW, full)}
		n := 0
		for _, c := range cols {
			n = max(n, len(c))
		}
		sep := st.Border.Render(" │ ")
		out := make([]string, n)
		for i := range n {
			var b strings.Builder
			for j, c := range cols {
				if j > 0 {
					b.WriteString(sep)
				}
				cell := ""
				if i < len(c) {
					cell = c[i]
				}
				b.WriteString(display.Fit(cell, colW))
			}
			out[i] = b.String()
		}
		return out
	}
	// Stacked, the layers run long (a first contact carries a meta and a
	// visa): the peel in three lines comes first.
	out := peelOverview(st, me, f, w)
	out = append(out, reliableLayer(st, me, f, w, full)...)
	out = append(out, "")
	out = append(out, secureLayer(st, me, f, w, full)...)
	out = append(out, "")
	return append(out, instantLayer(st, f, w, full)...)
}

// cutNote says that only the head of a frame is kept, and what the whole
// frame was.
func cutNote(st *Styles, f frameRec, w int) []string {
	out := []string{st.LayerBad.Render("✂ only the head of this frame is kept")}
	return append(out, noteLines(st, fmt.Sprintf("The frame had %s (SHA-256 %x); %s of it are kept, "+
		"long values cut where they say \"more not kept\", so that a flood of big frames cannot fill the memory.",
		display.Size(f.cut.Size), f.cut.SHA256, display.Size(len(f.raw))), w)...)
}

// noteLines wraps an explanation in the note style.
func noteLines(st *Styles, s string, w int) []string {
	var out []string
	for _, l := range display.Wrap(s, max(w-1, 8)) {
		out = append(out, " "+st.LayerNote.Render(l))
	}
	return out
}

// reliableLayer draws the message as it travelled, whether its signature
// verified and with whose key (or, going out, which key made it).
func reliableLayer(st *Styles, me dimp.ID, f frameRec, w int, full bool) []string {
	l := f.layers
	var verdict string
	switch {
	case l.ParseErr != nil:
		verdict = st.LayerBad.Render("✗ not a DIM message")
	case f.unprocessed():
		verdict = st.LayerNote.Render("⏸ not processed yet")
	case f.dir == client.Out:
		verdict = st.LayerOK.Render("✓ signed by me")
	case l.Verified:
		verdict = st.LayerOK.Render("✓ signature ok")
	case l.VerifyErr != nil:
		verdict = st.LayerBad.Render("✗ not verified")
	default:
		verdict = st.LayerNote.Render("not checked yet")
	}
	out := []string{st.LayerTitle.Render("1 Reliable") + " " + verdict}
	switch {
	case l.ParseErr != nil:
		out = append(out, noteLines(st, display.Sanitize(l.ParseErr.Error(), false), w)...)
	case f.unprocessed():
		out = append(out, noteLines(st, "Held by step-through: the client verifies the signature when the frame is released, "+
			"with the sender's meta or visa key.", w)...)
	case f.dir == client.Out && l.Signer != nil:
		out = append(out, keyLines(st, me, "with", l.Signer, true, w)...)
	case l.Verified && l.Signer != nil:
		out = append(out, keyLines(st, me, "verified with", l.Signer, true, w)...)
	case l.VerifyErr != nil && !l.Verified:
		out = append(out, noteLines(st, display.Sanitize(l.VerifyErr.Error(), false), w)...)
	}
	if l.ParseErr == nil && l.Reliable != nil && l.Reliable.Meta != nil {
		out = append(out, noteLines(st, "meta and visa attached: first contact", w)...)
	}
	return append(out, prettyJSON(st, f.raw, w, full)...)
}

// peelOverview says in a line per layer what opened it: the key the
// signature verified with, the message key and the key that decrypted it,
// the content. It is empty for a frame that is not a DIM message.
func peelOverview(st *Styles, me dimp.ID, f frameRec, w int) []string {
	l := f.layers
	if l.Reliable == nil {
		return nil
	}
	brief := func(k *client.KeyUse) string { return keyOwner(me, k) + " " + string(k.Role) + " key · " + k.Kind() }
	var rel, sec, ins string
	switch {
	case f.unprocessed():
		rel, sec, ins = "⏸ not processed yet", "not decrypted yet", "not opened yet"
	case f.dir == client.Out && l.Signer != nil:
		rel = "✓ signed with " + brief(l.Signer)
	case l.Verified && l.Signer != nil:
		rel = "✓ verified with " + brief(l.Signer)
	case l.Verified || f.dir == client.Out:
		rel = "✓ signed"
	case l.VerifyErr != nil:
		rel = "✗ not verified"
	default:
		rel = "not checked yet"
	}
	if mk := l.MessageKey; mk != nil && !f.unprocessed() {
		switch {
		case mk.Algorithm == crypto.AlgPlain:
			sec = "plain: a broadcast is not encrypted"
		case mk.DecryptedBy != nil:
			sec = mk.Algorithm + " key, decrypted with " + brief(mk.DecryptedBy)
		case len(mk.EncryptedTo) > 0:
			sec = mk.Algorithm + " key, encrypted to " + brief(&mk.EncryptedTo[0].Key)
			if n := len(mk.EncryptedTo); n > 1 {
				sec += fmt.Sprintf(" and %d more", n-1)
			}
		case mk.Reused:
			sec = mk.Algorithm + " key, kept from an earlier message"
		default:
			sec = mk.Algorithm + " key"
		}
	} else if sec == "" && errors.Is(l.OpenErr, client.ErrDuplicate) {
		// A copy offered again (after a crash, or by a second dimtui on
		// this identity): acknowledged, not opened or shown again.
		sec, ins = "↺ already received: acknowledged, not opened again", "shown when first received"
	} else if sec == "" && l.OpenErr != nil {
		sec = "✗ not decrypted"
	}
	if ins == "" {
		ins = "not opened"
		if l.Instant != nil && l.Instant.Content != nil {
			ins = contentLabel(l.Instant.Content)
		}
	}
	var out []string
	rows := [][2]string{{"Reliable", rel}, {"Secure", sec}, {"Instant", ins}}
	if l.Group != nil {
		rows = append([][2]string{{"Group", l.Group.Way()}}, rows...)
	}
	for _, row := range rows {
		if row[1] == "" {
			continue
		}
		// " Reliable " then the text, wrapped under itself.
		for i, part := range display.Wrap(display.Sanitize(row[1], false), max(w-10, 8)) {
			head := strings.Repeat(" ", 10)
			if i == 0 {
				head = " " + st.LayerTitle.Render(fmt.Sprintf("%-8s", row[0])) + " "
			}
			out = append(out, head+part)
		}
	}
	return append(out, "")
}

// keyOwner names whose key it is: "my", "alice's".
func keyOwner(me dimp.ID, k *client.KeyUse) string {
	switch {
	case k.Owner.IsZero():
		return "a"
	case k.Owner.SameAs(me):
		return "my"
	case !k.Owner.IsBroadcast() && k.Owner.Type() == dimp.Station:
		return "the station's"
	}
	return display.Name(k.Owner) + "'s"
}

// keyLines names a key that did a step: "verified with alice's meta key",
// then its type, scheme and fingerprint ("ECC secp256k1 · ECDSA/SHA-256 ·
// fp 9f3a12c4"), on a line each when they do not fit on one. signing picks
// the scheme of a signature, else of the encryption of a message key.
func keyLines(st *Styles, me dimp.ID, how string, k *client.KeyUse, signing bool, w int) []string {
	scheme := ""
	switch k.Algorithm {
	case crypto.AlgRSA:
		scheme = "PKCS#1 v1.5"
		if signing {
			scheme = "PKCS#1 v1.5/SHA-256"
		}
	case crypto.AlgECC:
		scheme = "ECDSA/SHA-256"
	}
	who := fmt.Sprintf(" %s %s %s key", how, keyOwner(me, k), k.Role)
	out := []string{st.LayerOK.Render(display.Truncate(display.Sanitize(who, false), max(w, 4)))}
	parts := []string{display.Sanitize(k.Kind(), false)}
	if scheme != "" {
		parts = append(parts, scheme)
	}
	parts = append(parts, "fp "+display.Sanitize(k.Fingerprint, false))
	if line := strings.Join(parts, " · "); ansi.StringWidth(line) <= w-3 {
		parts = []string{line}
	}
	for _, l := range parts {
		out = append(out, "   "+st.JSONString.Render(display.Truncate(l, max(w-3, 4))))
	}
	return out
}

// secureLayer draws the encrypted data and the key bundle, and the
// message key as the client used it: the lesson of this layer is the key
// that opens data, shown in the clear (the user's own, in the user's own
// client), and the key that decrypted it from the bundle (or, going out,
// the receivers' keys it was encrypted to).
func secureLayer(st *Styles, me dimp.ID, f frameRec, w int, full bool) []string {
	rm := f.layers.Reliable
	if rm == nil {
		return []string{st.LayerTitle.Render("2 Secure") + " " + st.LayerNote.Render("—")}
	}
	sm := &rm.SecureMessage
	broadcast := len(sm.Keys) == 0 && strings.HasPrefix(strings.TrimSpace(sm.Data), "{")
	if broadcast {
		out := []string{st.LayerTitle.Render("2 Secure") + " " + st.LayerNote.Render("plain")}
		return append(out, noteLines(st, "A broadcast is not encrypted: data is the content's JSON, signed but readable by anyone.", w)...)
	}
	n := base64.StdEncoding.DecodedLen(len(sm.Data))
	if b, err := sm.DataBytes(); err == nil {
		n = len(b)
	}
	out := []string{st.LayerTitle.Render("2 Secure") + " " + st.LayerNote.Render(display.Size(n)+" encrypted")}
	lines := 1
	if full {
		lines = 1 << 20
	}
	mk := f.layers.MessageKey
	if f.unprocessed() {
		mk = nil // a preview's, not what the client did
	}
	out = append(out, messageKeyLines(st, me, f, mk, w)...)
	alg := "encrypted"
	if mk != nil {
		alg = mk.Algorithm
	}
	out = append(out, kvLines(st, "data ("+alg+")", sm.Data, w, lines)...)
	if mk == nil && len(sm.IV) > 0 {
		out = append(out, kvLines(st, "IV", base64.StdEncoding.EncodeToString(sm.IV), w, lines)...)
	}
	if len(sm.Keys) > 0 {
		for _, k := range slices.Sorted(maps.Keys(sm.Keys)) {
			label := "key for " + k
			if k == "digest" {
				label = "key digest"
			}
			out = append(out, kvLines(st, label, sm.Keys[k], w, lines)...)
		}
		out = append(out, noteLines(st, "The message key, encrypted to each receiver's visa key: only they can open data.", w)...)
	} else {
		out = append(out, noteLines(st, "No key: the one sent before is reused for this sender and receiver.", w)...)
	}
	return out
}

// messageKeyLines draws the message key as the client used it: its
// algorithm, its bytes and the IV, and how it was got.
func messageKeyLines(st *Styles, me dimp.ID, f frameRec, mk *client.MessageKey, w int) []string {
	switch {
	case f.unprocessed():
		return noteLines(st, "Not decrypted yet: the message key is opened when the frame is released.", w)
	case mk == nil && f.layers.OpenErr != nil:
		return noteLines(st, "Not decrypted: "+display.Sanitize(f.layers.OpenErr.Error(), false), w)
	case mk == nil:
		return nil
	}
	var out []string
	out = append(out, kvLines(st, "message key ("+mk.Algorithm+")", base64.StdEncoding.EncodeToString(mk.Key), w, 1<<20)...)
	if len(mk.IV) > 0 {
		out = append(out, kvLines(st, "IV", base64.StdEncoding.EncodeToString(mk.IV), w, 1<<20)...)
	}
	im := f.layers.Instant
	direction := ""
	if f.layers.Reliable != nil {
		env := f.layers.Reliable.Envelope
		direction = keyDirection(me, env.Sender, env.Destination())
	} else if im != nil {
		direction = keyDirection(me, im.Sender, im.Destination())
	}
	switch {
	case f.dir == client.Out && mk.Reused:
		out = append(out, noteLines(st, "The key of "+direction+", made for an earlier message and used again.", w)...)
	case f.dir == client.Out:
		out = append(out, noteLines(st, "A new key for "+direction+", made for this message.", w)...)
	case mk.DecryptedBy != nil:
		out = append(out, keyLines(st, me, "decrypted with", mk.DecryptedBy, false, w)...)
		if mk.Entry != "" {
			out = append(out, noteLines(st, "from “key for "+entryName(mk.Entry)+"” below", w)...)
		}
	case mk.Reused && mk.Entry != "":
		out = append(out, noteLines(st, "The same encrypted key as an earlier message of "+direction+
			": the key decrypted then is used, no private key needed.", w)...)
	case mk.Reused:
		out = append(out, noteLines(st, "The key of "+direction+", kept from an earlier message that carried it.", w)...)
	}
	for _, r := range mk.EncryptedTo {
		out = append(out, keyLines(st, me, "encrypted to", &r.Key, false, w)...)
	}
	return out
}

// entryName names a member of keys briefly: "bob", "bob/phone".
func entryName(name string) string {
	id, err := dimp.ParseID(name)
	if err != nil {
		return display.Sanitize(name, false)
	}
	s := display.Name(id)
	if t := id.Terminal(); t != "" {
		s += "/" + display.Sanitize(t, false)
	}
	return s
}

// keyDirection names a message key's direction: "alice → me".
func keyDirection(me, from, to dimp.ID) string {
	name := func(id dimp.ID) string {
		if id.SameAs(me) {
			return "me"
		}
		return display.Name(id)
	}
	return display.Sanitize(name(from)+" → "+name(to), false)
}

// instantLayer draws the content in the clear, as far as it was opened.
func instantLayer(st *Styles, f frameRec, w int, full bool) []string {
	l := f.layers
	switch {
	case f.unprocessed():
		out := []string{st.LayerTitle.Render("3 Instant") + " " + st.LayerNote.Render("⏸ not opened yet")}
		return append(out, noteLines(st, "The content is read once the signature verifies and the message key decrypts it.", w)...)
	case l.Instant != nil:
		verdict := "✓ decrypted"
		if f.dir == client.Out {
			verdict = "✓ what I wrote"
		}
		im := l.Instant
		out := []string{st.LayerTitle.Render("3 Instant") + " " + st.LayerOK.Render(verdict)}
		env := fmt.Sprintf("%s → %s", display.ShortID(im.Sender), display.ShortID(im.Receiver))
		if im.Time > 0 {
			env += ", " + time.Unix(0, int64(im.Time*1e9)).Format("15:04:05")
		}
		out = append(out, noteLines(st, display.Sanitize(env, false), w)...)
		if im.Content != nil {
			if title, lines, ok := display.ContentCard(im.Content); ok {
				// What the conversation shows of it, above its JSON.
				out = append(out, " "+st.Text.Render(display.Truncate(title, max(w-1, 4))))
				for _, l := range lines {
					out = append(out, "   "+st.LayerNote.Render(display.Truncate(l, max(w-3, 4))))
				}
			}
			out = append(out, prettyJSON(st, dimp.MarshalContent(im.Content), w, full)...)
		}
		return out
	case l.OpenErr != nil:
		out := []string{st.LayerTitle.Render("3 Instant") + " " + st.LayerBad.Render("✗ not opened")}
		return append(out, noteLines(st, display.Sanitize(l.OpenErr.Error(), false), w)...)
	case l.VerifyErr != nil:
		out := []string{st.LayerTitle.Render("3 Instant") + " " + st.LayerNote.Render("not opened")}
		return append(out, noteLines(st, "A message is opened only after its signature verifies.", w)...)
	}
	return []string{st.LayerTitle.Render("3 Instant") + " " + st.LayerNote.Render("not opened")}
}

// kvLines draws a long value under a label, hard-wrapped and cut after
// maxLines lines.
func kvLines(st *Styles, label, value string, w, maxLines int) []string {
	out := []string{" " + st.JSONKey.Render(display.Truncate(display.Sanitize(label, false), max(w-1, 4)))}
	width := max(w-3, 8)
	lines := display.HardWrap(display.Sanitize(value, false), width)
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = ansi.Truncate(lines[maxLines-1], width-1, "") + "…"
	}
	for _, l := range lines {
		out = append(out, "   "+st.JSONString.Render(l))
	}
	return out
}

// maxJSONValue bounds how much of one JSON string the inspector shows.
const maxJSONValue = 1200

// prettyJSON indents JSON and draws it with keys and values coloured;
// long values are cut to the line, or wrapped under their key when full.
func prettyJSON(st *Styles, raw []byte, w int, full bool) []string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		var out []string
		for _, l := range display.HardWrap(display.Sanitize(string(raw), true), max(w-1, 8)) {
			out = append(out, " "+l)
		}
		return out
	}
	var out []string
	for _, line := range strings.Split(buf.String(), "\n") {
		out = append(out, jsonLine(st, line, w, full)...)
	}
	return out
}

// jsonLine colours one line of indented JSON, cutting or wrapping a long
// value.
func jsonLine(st *Styles, line string, w int, full bool) []string {
	trimmed := strings.TrimLeft(line, " ")
	indent := " " + line[:len(line)-len(trimmed)]
	key, value := "", trimmed
	if strings.HasPrefix(trimmed, `"`) {
		if end := closingQuote(trimmed); end > 0 && strings.HasPrefix(trimmed[end+1:], ": ") {
			key, value = trimmed[:end+1], trimmed[end+3:]
		}
	}
	valueStyle := st.JSONLiteral
	switch {
	case strings.HasPrefix(value, `"`):
		valueStyle = st.JSONString
	case strings.Trim(value, "{}[],") == "":
		valueStyle = st.JSONPunct
	}
	if len(value) > maxJSONValue {
		value = value[:maxJSONValue] + fmt.Sprintf("…(%d more)", len(value)-maxJSONValue)
	}
	value = display.Sanitize(value, false)
	head := indent
	if key != "" {
		head += st.JSONKey.Render(display.Sanitize(key, false)) + st.JSONPunct.Render(": ")
	}
	headW := ansi.StringWidth(head)
	avail := w - headW
	if !full {
		if avail < 6 {
			return []string{ansi.Truncate(head, w-1, "…")}
		}
		return []string{head + valueStyle.Render(display.Truncate(value, avail))}
	}
	if avail >= 12 || key == "" {
		parts := display.HardWrap(value, max(avail, 8))
		out := []string{head + valueStyle.Render(parts[0])}
		pad := strings.Repeat(" ", headW)
		for _, p := range parts[1:] {
			out = append(out, pad+valueStyle.Render(p))
		}
		return out
	}
	// The key leaves no room: the value goes below it.
	out := []string{head}
	pad := indent + "  "
	for _, p := range display.HardWrap(value, max(w-len(pad), 8)) {
		out = append(out, pad+valueStyle.Render(p))
	}
	return out
}

// closingQuote finds the quote that ends the JSON string starting at s[0].
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}
