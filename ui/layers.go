package ui

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// renderLayers draws a frame's layers for a width: stacked, or side by
// side in three columns when there is room. Long values are cut to one
// line unless full is set.
func renderLayers(st *Styles, f frameRec, w int, full bool) []string {
	if f.cut != nil {
		out := cutNote(st, f, w)
		f.cut = nil
		return append(out, renderLayers(st, f, w, full)...)
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
		cols := [][]string{reliableLayer(st, f, colW, full), secureLayer(st, f, colW, full), instantLayer(st, f, colW, full)}
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
	out := reliableLayer(st, f, w, full)
	out = append(out, "")
	out = append(out, secureLayer(st, f, w, full)...)
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

// reliableLayer draws the message as it travelled and whether its
// signature verified.
func reliableLayer(st *Styles, f frameRec, w int, full bool) []string {
	l := f.layers
	var verdict string
	switch {
	case l.ParseErr != nil:
		verdict = st.LayerBad.Render("✗ not a DIM message")
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
	case l.VerifyErr != nil && !l.Verified:
		out = append(out, noteLines(st, display.Sanitize(l.VerifyErr.Error(), false), w)...)
	case l.Reliable != nil && l.Reliable.Meta != nil:
		out = append(out, noteLines(st, "meta and visa attached: first contact", w)...)
	}
	return append(out, prettyJSON(st, f.raw, w, full)...)
}

// secureLayer draws the encrypted data, the key bundle and the IV.
func secureLayer(st *Styles, f frameRec, w int, full bool) []string {
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
	out = append(out, kvLines(st, "data (AES-256-CBC)", sm.Data, w, lines)...)
	if len(sm.IV) > 0 {
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

// instantLayer draws the content in the clear, as far as it was opened.
func instantLayer(st *Styles, f frameRec, w int, full bool) []string {
	l := f.layers
	switch {
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
