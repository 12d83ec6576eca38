package ui

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

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
