package ui

import (
	"errors"
	"net/url"
	"strings"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// Sharing from the composer: /page sends a web page, /card a contact's
// name card, as dimchat's apps send them.

// maxPageTitle bounds a page's title typed in the composer.
const maxPageTitle = 256

// shareContent makes the content of /page URL [TITLE] or /card NAME|ID.
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
	}
	return nil, errors.New("unknown command /" + name)
}

// labelOf names a contact as the list shows it (a group by its name), or
// by its ID when it is not one.
func (l *contactList) labelOf(id dimp.ID) string {
	if c := l.byKey[client.IDKey(id)]; c != nil {
		return c.label()
	}
	return display.Name(id)
}
