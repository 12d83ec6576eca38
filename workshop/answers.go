package workshop

import (
	"fmt"
	"strings"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// What the station (or a receiver's client) answered to a message sent is
// known only when its receipt comes, frames later. The Recorder notes which
// frame answered which message (a receipt names the message by its
// signature), and the Markdown account tells each message sent with the
// answers it really got, instead of the ones it might have.

// Answer is a receipt that came back for a message sent: the station's
// word on it, or the receiver's client's.
type Answer struct {
	From   dimp.ID
	Text   string // the receipt's text: "Document not changed."
	Number int    // the frame that carried it (see Numbers); 0 when unknown
}

// Answered returns the explanation of a message sent with what really
// came back in place of what might: the station's answer ends the Station
// part, the receiver's receipts make the Next part. An explanation that
// expects no answer, or no answer, leaves it as it is.
func (e Explanation) Answered(as []Answer) Explanation {
	if e.expect == "" || len(as) == 0 {
		return e
	}
	var station, peer []string
	for _, a := range as {
		said := "“" + display.Sanitize(a.Text, false) + "”"
		if a.Number > 0 {
			said += fmt.Sprintf(" (frame #%d)", a.Number)
		}
		if a.From.Type() == dimp.Station {
			station = append(station, "It answered "+said+": "+stationVerdict(a.Text, "the message", e.receiver)+".")
			continue
		}
		tick := "✓✓"
		if a.Text == dimp.ReceiptRead {
			tick = "◉ (read)"
		}
		peer = append(peer, display.Name(a.From)+"'s client answered "+said+": "+tick+".")
	}
	if len(station) > 0 {
		e.Station = strings.TrimSuffix(e.Station, e.expect) + strings.Join(station, " ")
	}
	if len(peer) > 0 {
		e.Next = strings.Join(peer, " ")
	}
	e.expect = ""
	return e
}

// stationVerdict says what the station's receipt text means for the
// message it is about, sent to receiver: what the station did, in its
// own words' sense.
func stationVerdict(text, about, receiver string) string {
	switch text {
	case dimp.ReceiptDelivered:
		return receiver + " is online; the station stored " + about + " and pushed it to " + receiver + "'s session"
	case dimp.ReceiptCached:
		return receiver + " is not online here; " + about + " waits in the station's store until " + receiver +
			" comes back and acknowledges it, or, when " + receiver + " logged in at another station, until the next " +
			"station on the way has stored it"
	case "Document received.":
		return "the visa is new to the station, which checked it against the meta and stored it"
	case "Document not changed.":
		return "the station has this visa already; it checked it and stored nothing new"
	case "Document not found.":
		return "the station knows no meta or visa for that ID"
	case "Login received.":
		return "the station stored the login and marked the session active"
	case "Message forwarded.":
		return "the station pushed it to the users online"
	case "Message redirected.":
		return receiver + " logged in at another station: this station passed " + about +
			" over its link to the next station, which stored it before this one deleted its copy"
	}
	if strings.HasSuffix(text, " received.") {
		return "the station processed it"
	}
	return "the station refused " + about
}

// stationRefused reports whether a station's receipt text says it did not
// take the message.
func stationRefused(text string) bool {
	return strings.HasPrefix(stationVerdict(text, "", ""), "the station refused")
}

// originCommand reports whether a receipt is about a command (a receipt
// among them), by the content type its origin names.
func originCommand(o *dimp.Origin) bool {
	t, err := dimp.ParseContentType(o.Type)
	return err == nil && t == dimp.ContentCommand
}

// sentKey names a message sent as its receipts do: by its signature, in
// the pane that sent it.
type sentKey struct {
	pane int
	sig  string
}

// forgetAnswers forgets the messages sent and their answers whose frames
// are no longer kept.
func (r *Recorder) forgetAnswers() {
	kept := map[int]bool{}
	for _, e := range r.entries {
		if e.rec.Number > 0 {
			kept[e.rec.Number] = true
		}
	}
	for k, n := range r.sent {
		if !kept[n] {
			delete(r.sent, k)
		}
	}
	for n := range r.answers {
		if !kept[n] {
			delete(r.answers, n)
		}
	}
}

// noteAnswers notes the messages a pane sends, and the receipts that
// answer them.
func (r *Recorder) noteAnswers(pane int, ev client.FrameEvent) {
	l := ev.Layers
	if ev.Number == 0 || l == nil || l.Reliable == nil {
		return
	}
	if ev.Dir == client.Out {
		r.sent[sentKey{pane, l.Reliable.SignatureText()}] = ev.Number
		return
	}
	if l.Instant == nil || !l.Verified {
		return
	}
	rc, ok := l.Instant.Content.(*dimp.ReceiptCommand)
	if !ok || rc.Origin == nil || rc.Origin.Signature == "" {
		return
	}
	if n, ok := r.sent[sentKey{pane, rc.Origin.Signature}]; ok {
		r.answers[n] = append(r.answers[n], Answer{From: l.Reliable.Sender, Text: rc.Text, Number: ev.Number})
	}
}
