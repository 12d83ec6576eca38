package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// Sharing from the composer: /page sends a web page, /card a contact's
// name card, /reply a quote of the selected message, as dimchat's apps
// send them.

// maxPageTitle bounds a page's title typed in the composer.
const maxPageTitle = 256

// shareContent makes the content of /page URL [TITLE], /card NAME|ID or
// /reply TEXT.
func (p *Pane) shareContent(name, arg string) (dimp.Content, error) {
	switch name {
	case "page":
		addr, title, _ := strings.Cut(arg, " ")
		u, err := url.Parse(addr)
		if addr == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("/page URL [TITLE]: the URL is an http(s) address")
		}
		title = strings.TrimSpace(title)
		if len(title) > maxPageTitle {
			return nil, errors.New("/page: the title is longer than 256 bytes")
		}
		return &dimp.PageContent{Head: dimp.NewHead(dimp.ContentPage), URL: u.String(), Title: title}, nil
	case "card":
		if arg == "" {
			return nil, errors.New("/card NAME|ID: whose card")
		}
		id, err := p.chat.contacts.resolve(arg)
		if err != nil {
			return nil, err
		}
		if id.IsBroadcast() {
			return nil, errors.New("/card: a broadcast address has no card")
		}
		return &dimp.NameCardContent{Head: dimp.NewHead(dimp.ContentNameCard), ID: id, Name: p.chat.contacts.labelOf(id)}, nil
	case "reply":
		return p.quote(arg)
	case "recall":
		return p.recall()
	case "resend":
		return p.resendCopy()
	}
	return nil, errors.New("unknown command /" + name)
}

// quote makes the reply of /reply TEXT: a quote content whose origin is
// the selected message's envelope (sender, receiver, type, serial number)
// with its text, as dimchat's apps quote.
func (p *Pane) quote(text string) (dimp.Content, error) {
	if text == "" {
		return nil, errors.New("/reply TEXT: the answer")
	}
	e := p.chat.current.selected()
	if e == nil || !e.selectable() {
		return nil, errors.New("/reply: no message to answer (select one with ↑)")
	}
	o := &dimp.Origin{Sender: e.from, Receiver: p.chat.me, SN: e.sn, Type: strconv.Itoa(int(e.ctype)),
		Time: float64(e.at.UnixMilli()) / 1000}
	if e.out {
		o.Receiver = p.chat.current.peer
	}
	if e.kind == entryText {
		o.Extra = dimp.Fields{}
		if err := o.Extra.Set("text", e.text); err != nil {
			return nil, err
		}
	}
	return &dimp.QuoteContent{Head: dimp.NewHead(dimp.ContentQuote), Text: text, Origin: o}, nil
}

// labelOf names a contact as the list shows it (a group by its name), or
// by its ID when it is not one.
func (l *contactList) labelOf(id dimp.ID) string {
	if c := l.byKey[client.IDKey(id)]; c != nil {
		return c.label()
	}
	return display.Name(id)
}

// A recall, as dimchat's apps send one (there is no recall in the
// protocol itself): a text content with the recalled message's own serial
// number and time, `action: "recall"`, a Markdown line saying what was
// recalled, and `origin` naming its type and serial number. An app keeps
// messages by sender and serial number, so the recall takes the
// original's place; only its sender can send one that does, as the
// message is signed.

// recallWindow is how long after sending a message its sender may
// recall it, as dimchat's apps allow.
const recallWindow = 128 * time.Second

// recallText is what a recall says in place of a message of type t.
func recallText(t dimp.ContentType) string {
	switch t {
	case dimp.ContentImage:
		return "_(image recalled)_"
	case dimp.ContentAudio:
		return "_(voice message recalled)_"
	case dimp.ContentVideo:
		return "_(video recalled)_"
	case dimp.ContentFile:
		return "_(file recalled)_"
	case dimp.ContentPage:
		return "_(web page recalled)_"
	case dimp.ContentNameCard:
		return "_(name card recalled)_"
	}
	return "_(message recalled)_"
}

// recall makes the recall of my selected message.
func (p *Pane) recall() (dimp.Content, error) {
	e := p.chat.current.selected()
	switch {
	case e == nil || !e.selectable():
		return nil, errors.New("/recall: no message selected (↑ selects one of mine)")
	case !e.out:
		return nil, errors.New("/recall: only my own messages can be recalled")
	case e.recalled:
		return nil, errors.New("/recall: already recalled")
	case time.Since(e.at) > recallWindow:
		return nil, fmt.Errorf("/recall: sent %s ago; dimchat's apps recall within %s", time.Since(e.at).Round(time.Second), recallWindow)
	}
	c := dimp.NewText(recallText(e.ctype))
	c.SN, c.Time = e.sn, float64(e.at.UnixMilli())/1000
	origin := map[string]any{"type": int(e.ctype), "sn": e.sn}
	if fc, ok := e.content.(*dimp.FileContent); ok {
		origin["URL"], origin["filename"] = fc.URL, fc.Filename
	}
	c.Extra = dimp.Fields{}
	for k, v := range map[string]any{"format": "markdown", "action": "recall", "origin": origin} {
		if err := c.Extra.Set(k, v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// contentJSON is the content of a message as the pane kept it: the
// content itself, or a text (Markdown when it was); nil when neither was
// kept.
func (e *entry) contentJSON() []byte {
	switch {
	case e.content != nil:
		return dimp.MarshalContent(e.content)
	case e.kind == entryText:
		t := dimp.NewText(e.text)
		if e.markdown {
			t.Extra = dimp.Fields{"format": json.RawMessage(`"markdown"`)}
		}
		return dimp.MarshalContent(t)
	}
	return nil
}

// resendCopy makes what /resend sends: my selected message that was not
// sent (dimtui quit before the station took it, or it failed), as a new
// message with a new serial number and time, so that a peer who did get
// the first never takes the second for it. The first stays, marked sent
// again.
func (p *Pane) resendCopy() (dimp.Content, error) {
	e := p.chat.current.selected()
	switch {
	case e == nil || !e.selectable():
		return nil, errors.New("/resend: no message selected (↑ selects one of mine)")
	case !e.out || !e.tracked:
		return nil, errors.New("/resend: only my own messages are sent again")
	case e.delivery != client.Failed:
		return nil, errors.New("/resend: this message was sent (" + e.delivery.String() + "); only one not sent is sent again")
	case e.recalled:
		return nil, errors.New("/resend: the message was recalled")
	case e.cut:
		return nil, errors.New("/resend: only the head of this message was kept in the history")
	}
	raw := e.contentJSON()
	if raw == nil {
		return nil, errors.New("/resend: this message is too big to have been kept")
	}
	c, err := dimp.ParseContent(raw)
	if err != nil {
		return nil, fmt.Errorf("/resend: %w", err)
	}
	fresh := dimp.NewHead(0)
	h := c.Header()
	h.SN, h.Time, h.Group = fresh.SN, fresh.Time, dimp.ID{}
	e.detail = "not sent; sent again below"
	e.version++
	return c, nil
}

// forwardCopy makes what /forward sends, as dimchat's apps forward: a copy
// of the selected message's content under a new serial number and time,
// whose `traces` names where it came from ({ID, did, time} of each
// earlier sender). The receiver takes it as the forwarder's word: only a
// forward content (0xFF) carries the original's signature.
func (p *Pane) forwardCopy() (dimp.Content, error) {
	e := p.chat.current.selected()
	if e == nil || !e.selectable() {
		return nil, errors.New("/forward: no message selected (↑ selects one)")
	}
	if e.recalled {
		return nil, errors.New("/forward: the message was recalled")
	}
	raw := e.contentJSON()
	if raw == nil {
		return nil, errors.New("/forward: this message is too big to have been kept")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("/forward: %w", err)
	}
	var traces []map[string]any
	if old, ok := m["traces"]; ok {
		_ = json.Unmarshal(old, &traces) // earlier hops, when readable
	}
	from := e.from.String()
	traces = append(traces, map[string]any{"ID": from, "did": from, "time": float64(e.at.UnixMilli()) / 1000})
	h := dimp.NewHead(0)
	for k, v := range map[string]any{"sn": h.SN, "time": h.Time, "traces": traces} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("/forward: %w", err)
		}
		m[k] = b
	}
	delete(m, "group")
	if len(e.thumb) > 0 {
		m["thumbnail"] = e.thumb // kept apart from the file's content
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("/forward: %w", err)
	}
	return dimp.ParseContent(out)
}

// maxTracesNamed bounds the earlier senders a forwarded copy's line names.
const maxTracesNamed = 4

// tracesLine says where a forwarded copy came from, by its `traces`
// (dimchat's apps list each earlier sender as {ID, did, time}); "" for a
// content that has none. The copy is the forwarder's word: the line says
// so.
func tracesLine(extra dimp.Fields) string {
	raw, ok := extra["traces"]
	if !ok {
		return ""
	}
	var traces []struct {
		ID  string `json:"ID"`
		DID string `json:"did"`
	}
	if json.Unmarshal(raw, &traces) != nil || len(traces) == 0 {
		return "» forwarded (its traces do not read)"
	}
	var names []string
	for i := 0; i < len(traces) && len(names) < maxTracesNamed; i++ {
		s := traces[i].DID
		if s == "" {
			s = traces[i].ID
		}
		if id, err := dimp.ParseID(s); err == nil {
			names = append(names, display.Name(id))
		} else {
			names = append(names, "?")
		}
	}
	line := "» forwarded from " + names[0]
	if len(names) > 1 {
		line += " (via " + strings.Join(names[1:], ", ") + ")"
	}
	return line + ": a copy, not signed by " + names[0]
}
