package display

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"

	"dimtui/dimp"
)

// Cards: what a person reads of a content that is not plain text, in a
// few lines — a file's name and where it is, a page's title and address,
// a name card's name and ID, a quote's origin — instead of its JSON.

// Card bounds: lines after the title, and cells a value may take.
const (
	maxCardLines = 6
	maxCardValue = 120
	maxCardItems = 4 // inner messages or contents listed
)

// ContentCard describes c for the conversation: a title line and up to
// maxCardLines more, made safe for the terminal. ok is false for content
// shown otherwise (text, application content) or not known as a card.
func ContentCard(c dimp.Content) (title string, lines []string, ok bool) {
	v := func(s string) string { return Truncate(Sanitize(s, false), maxCardValue) }
	switch c := c.(type) {
	case *dimp.FileContent:
		title, lines = fileCard(c, v)
	case *dimp.PageContent:
		name := c.Title
		if name == "" {
			name = c.URL
		}
		title = "[page] " + v(name)
		if c.URL != "" {
			lines = append(lines, v(c.URL))
		}
		if c.Desc != "" {
			lines = append(lines, v(c.Desc))
		}
	case *dimp.NameCardContent:
		name := c.Name
		if name == "" {
			name = Name(c.ID)
		}
		title = "[name card] " + v(name)
		if !c.ID.IsZero() {
			lines = append(lines, v(c.ID.String()))
		} else {
			lines = append(lines, "✗ no ID")
		}
		if avatar := pnfURL(c.Avatar); avatar != "" {
			lines = append(lines, "avatar "+v(avatar))
		}
	case *dimp.QuoteContent:
		title = "[quote] " + v(c.Text)
		lines = append(lines, QuoteLine(c.Origin))
	case *dimp.MoneyContent:
		title = fmt.Sprintf("[%s] %s %s", c.Header().Type.String(), strconv.FormatFloat(c.Amount, 'f', -1, 64), v(c.Currency))
		if !c.Remitter.IsZero() || !c.Remittee.IsZero() {
			lines = append(lines, "from "+nameOr(c.Remitter)+" to "+nameOr(c.Remittee))
		}
	case *dimp.ForwardContent:
		title = "[forward] " + Plural(len(c.Secrets), "message")
		lines = listed(len(c.Secrets), func(i int) string {
			return "from " + Name(c.Secrets[i].Sender) + " to " + Name(c.Secrets[i].Receiver) + ", signed by its sender"
		})
	case *dimp.CombineForwardContent:
		title = "[chat history] " + v(c.Title) + ", " + Plural(len(c.Messages), "message")
		lines = listed(len(c.Messages), func(i int) string {
			return Name(c.Messages[i].Sender) + ": " + v(ContentTitle(c.Messages[i].Content))
		})
	case *dimp.ArrayContent:
		title = "[array] " + Plural(len(c.Contents), "content")
		lines = listed(len(c.Contents), func(i int) string { return v(ContentTitle(c.Contents[i])) })
	case *dimp.TextContent, *dimp.AppContent:
		return "", nil, false
	default:
		t := c.Header().Type
		name := t.String()
		if strings.HasPrefix(name, "type-") {
			name = "content"
		}
		title = fmt.Sprintf("[%s 0x%02X] a content this client does not show", name, uint8(t))
	}
	if len(lines) > maxCardLines {
		lines = lines[:maxCardLines]
	}
	return title, lines, true
}

// fileCard describes a file, image, audio or video: its name, its size
// and media type when known, where it is, and whether it can be fetched
// and decrypted.
func fileCard(c *dimp.FileContent, v func(string) string) (title string, lines []string) {
	name := c.Filename
	if name == "" {
		name = "(no name)"
	}
	title = "[" + c.Header().Type.String() + "] " + v(name)
	// dimtui writes the plaintext's size beside the file; other apps
	// write none.
	var size int64
	if c.Extra.Get("size", &size) == nil && size > 0 {
		title += " · " + Size(int(size))
	}
	if mt := mime.TypeByExtension(path.Ext(c.Filename)); mt != "" {
		mt, _, _ = strings.Cut(mt, ";")
		title += " · " + mt
	}
	switch {
	case c.URL != "":
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			lines = append(lines, "✗ not an http(s) address, not fetched: "+v(c.URL))
			break
		}
		lines = append(lines, "at "+v(shortURL(u)))
		if len(c.Key) > 0 {
			lines = append(lines, "encrypted, its key in the message: /save fetches and decrypts it")
		} else {
			lines = append(lines, "no key: /save fetches it as it is (not encrypted)")
		}
	case c.Data != "":
		lines = append(lines, "in the message itself, "+Size(len(c.Data)*3/4)+": /save writes it")
	default:
		lines = append(lines, "✗ neither an address nor the data: nothing to fetch")
	}
	if c.Text != "" {
		lines = append(lines, "“"+v(c.Text)+"”")
	}
	return title, lines
}

// shortURL is an address as a card shows it: the scheme and host, and the
// last part of the path (an upload service names a file by its digest,
// which says nothing to a person); the whole is in the JSON.
func shortURL(u *url.URL) string {
	dir, file := path.Split(u.EscapedPath())
	if len(file) > 20 {
		file = file[:8] + "…" + file[len(file)-9:]
	}
	head := u.Scheme + "://" + u.Host
	if dir != "/" && dir != "" {
		head += "/…"
	}
	return head + "/" + file
}

// QuoteLine says which message a quote answers: its sender and, when the
// quote carries it, its text ("▎alice: “hello”").
func QuoteLine(o *dimp.Origin) string {
	if o == nil || o.Sender.IsZero() {
		return "✗ quotes no message"
	}
	var text string
	if o.Extra != nil && o.Extra.Get("text", &text) == nil && text != "" {
		return "▎" + Name(o.Sender) + ": “" + Truncate(Sanitize(text, false), maxCardValue) + "”"
	}
	what := o.Type
	if t, err := dimp.ParseContentType(o.Type); err == nil {
		what = t.String()
	}
	if what == "" {
		what = "message"
	}
	return fmt.Sprintf("▎%s's %s #%d", Name(o.Sender), Sanitize(what, false), o.SN)
}

// listed lists the first maxCardItems of n items, and how many more.
func listed(n int, item func(i int) string) []string {
	var lines []string
	for i := range min(n, maxCardItems) {
		lines = append(lines, item(i))
	}
	if n > maxCardItems {
		lines = append(lines, fmt.Sprintf("… %d more", n-maxCardItems))
	}
	return lines
}

// nameOr names id, or says it is missing.
func nameOr(id dimp.ID) string {
	if id.IsZero() {
		return "(nobody)"
	}
	return Name(id)
}

// pnfURL reads a portable network file's address: a plain string URL, or
// an object with "URL"; "" for inline data or anything else.
func pnfURL(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		u, err := strconv.Unquote(s)
		if err != nil || strings.HasPrefix(u, "data:") {
			return ""
		}
		return u
	}
	var o struct {
		URL string `json:"URL"`
	}
	if json.Unmarshal(raw, &o) == nil && !strings.HasPrefix(o.URL, "data:") {
		return o.URL
	}
	return ""
}
