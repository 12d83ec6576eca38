package dimp

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"dimtui/dimp/internal/jsonx"
)

// ContentType is the `type` of a content: what the message carries.
type ContentType uint8

// Content types (dimp ContentType).
const (
	ContentAny            ContentType = 0x00
	ContentText           ContentType = 0x01
	ContentFile           ContentType = 0x10
	ContentImage          ContentType = 0x12
	ContentAudio          ContentType = 0x14
	ContentVideo          ContentType = 0x16
	ContentPage           ContentType = 0x20
	ContentNameCard       ContentType = 0x33
	ContentQuote          ContentType = 0x37
	ContentMoney          ContentType = 0x40
	ContentTransfer       ContentType = 0x41
	ContentLuckyMoney     ContentType = 0x42
	ContentClaimPayment   ContentType = 0x48
	ContentSplitBill      ContentType = 0x49
	ContentCommand        ContentType = 0x88
	ContentHistory        ContentType = 0x89
	ContentApplication    ContentType = 0xA0
	ContentArray          ContentType = 0xCA
	ContentCustomized     ContentType = 0xCC
	ContentCombineForward ContentType = 0xCF
	ContentForward        ContentType = 0xFF
)

var contentTypeNames = map[ContentType]string{
	ContentAny: "any", ContentText: "text", ContentFile: "file", ContentImage: "image",
	ContentAudio: "audio", ContentVideo: "video", ContentPage: "page", ContentNameCard: "card",
	ContentQuote: "quote", ContentMoney: "money", ContentTransfer: "transfer",
	ContentLuckyMoney: "lucky_money", ContentClaimPayment: "claim_payment", ContentSplitBill: "split_bill",
	ContentCommand: "command", ContentHistory: "history", ContentApplication: "application",
	ContentArray: "array", ContentCustomized: "customized", ContentCombineForward: "combine",
	ContentForward: "forward",
}

// String names the content type ("text", "command", ...).
func (t ContentType) String() string {
	if n, ok := contentTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type-%#02x", uint8(t))
}

// ParseContentType reads a type token: a decimal number ("1", "136") or an
// alias name the demo apps send ("text", "command", "application", ...).
func ParseContentType(tok string) (ContentType, error) {
	if n, err := strconv.ParseUint(tok, 10, 8); err == nil {
		return ContentType(n), nil
	}
	if strings.HasPrefix(tok, "0x") || strings.HasPrefix(tok, "0X") {
		if n, err := strconv.ParseUint(tok[2:], 16, 8); err == nil {
			return ContentType(n), nil
		}
	}
	lower := strings.ToLower(tok)
	for t, n := range contentTypeNames {
		if n == lower {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown content type %q", ErrInvalidContent, tok)
}

// Head holds the members every content has.
type Head struct {
	Type  ContentType
	SN    int64   // serial number, 1..2^31-1
	Time  float64 // seconds; 0 when absent
	Group ID      // the group of a group message (hidden inside the content)
	Extra Fields  // members this package does not model
}

// Header returns the head; every content type embeds Head.
func (h *Head) Header() *Head { return h }

// NewHead starts a content of type t with a fresh serial number and the time now.
func NewHead(t ContentType) Head {
	return Head{Type: t, SN: NewSN(), Time: Now()}
}

// NewSN returns a random serial number in [1, 2^31-1].
func NewSN() int64 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return int64(binary.BigEndian.Uint32(b[:])&0x7FFFFFFF)%0x7FFFFFFE + 1
}

// Content is the payload of a message. Every concrete type embeds Head.
type Content interface {
	Header() *Head
	writeBody(w *jsonx.Writer)
}

// Command is a content of type command (0x88) or history (0x89).
type Command interface {
	Content
	CommandName() string
}

// CommandHead holds what every command has beside the content head.
type CommandHead struct {
	Head
	Name string // `command` (old peers: `cmd`)
}

// CommandName returns the command name.
func (c *CommandHead) CommandName() string { return c.Name }

func newCommandHead(name string) CommandHead {
	return CommandHead{Head: NewHead(ContentCommand), Name: name}
}

// writeName writes `command` and, for peers of v1, the same as `cmd`.
func (c *CommandHead) writeName(w *jsonx.Writer) {
	w.String("command", c.Name)
	w.String("cmd", c.Name)
}

// contentShortNames are the content members the reference's optional
// shortener renames.
var contentShortNames = [][2]string{
	{"type", "T"}, {"sn", "N"}, {"time", "W"}, {"group", "G"}, {"command", "C"},
}

// ParseContent reads a content map of any type, short member names and old
// field names included. Unknown types are kept as *UnknownContent.
func ParseContent(raw []byte) (Content, error) {
	m, err := jsonx.ParseMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidContent, err)
	}
	return contentFrom(&fieldReader{m: m})
}

func contentFrom(r *fieldReader) (Content, error) {
	r.m.Expand(contentShortNames)
	typeRaw := r.raw("type")
	if typeRaw == nil {
		return nil, fmt.Errorf("%w: no type", ErrInvalidContent)
	}
	tok, err := jsonx.Token(typeRaw)
	if err != nil {
		return nil, fmt.Errorf("%w: type: %w", ErrInvalidContent, err)
	}
	t, err := ParseContentType(tok)
	if err != nil {
		return nil, err
	}
	h := Head{Type: t}
	h.SN = r.int("sn")
	h.Time = r.float("time")
	h.Group = r.id("group")
	c := parseBody(t, r, h)
	if r.err != nil {
		return nil, fmt.Errorf("%w (%s): %w", ErrInvalidContent, t, r.err)
	}
	c.Header().Extra = r.m.Rest()
	return c, nil
}

// parseBody is the one switch on the content type.
func parseBody(t ContentType, r *fieldReader, h Head) Content {
	switch t {
	case ContentText:
		return &TextContent{Head: h, Text: r.str("text")}
	case ContentFile, ContentImage, ContentAudio, ContentVideo:
		return parseFile(r, h)
	case ContentPage:
		return &PageContent{Head: h, Title: r.str("title"), Desc: r.str("desc"), URL: r.str("URL"),
			HTML: r.str("HTML"), Icon: r.raw("icon")}
	case ContentNameCard:
		return &NameCardContent{Head: h, ID: r.idOf("did", r.rawEither("did", "ID")), Name: r.str("name"),
			Avatar: r.raw("avatar")}
	case ContentQuote:
		return &QuoteContent{Head: h, Text: r.str("text"), Origin: parseOrigin(r, "origin")}
	case ContentMoney, ContentTransfer, ContentLuckyMoney, ContentClaimPayment, ContentSplitBill:
		return &MoneyContent{Head: h, Currency: r.str("currency"), Amount: r.float("amount"),
			Remitter: r.id("remitter"), Remittee: r.id("remittee")}
	case ContentForward:
		return parseForward(r, h)
	case ContentCombineForward:
		return parseCombine(r, h)
	case ContentArray:
		return parseArray(r, h)
	case ContentApplication, ContentCustomized:
		return &AppContent{Head: h, App: r.str("app"), Mod: r.str("mod"), Act: r.str("act")}
	case ContentCommand, ContentHistory:
		return parseCommand(r, h)
	}
	return &UnknownContent{Head: h}
}

// MarshalContent writes a content: head, body, then unknown members. Types
// are JSON numbers, which peers of every generation read.
func MarshalContent(c Content) []byte {
	return appendContent(make([]byte, 0, 256), c)
}

func appendContent(buf []byte, c Content) []byte {
	h := c.Header()
	w := jsonx.NewWriter(buf)
	w.Int("type", int64(h.Type))
	w.Int("sn", h.SN)
	if h.Time != 0 {
		w.Float("time", h.Time)
	}
	writeIDIf(w, "group", h.Group)
	c.writeBody(w)
	w.Rest(h.Extra)
	return w.End()
}

// TextContent is a text message (0x01).
type TextContent struct {
	Head
	Text string
}

// NewText makes a text content.
func NewText(text string) *TextContent {
	return &TextContent{Head: NewHead(ContentText), Text: text}
}

func (c *TextContent) writeBody(w *jsonx.Writer) { w.String("text", c.Text) }

// FileContent is a file, image, audio or video (0x10, 0x12, 0x14, 0x16).
// Data is transportable data (Base64 or a data: URI) for small files; larger
// ones are at URL, encrypted with Key (a symmetric key map).
type FileContent struct {
	Head
	Filename  string
	URL       string
	Data      string
	Key       json.RawMessage // legacy name `password`
	Thumbnail json.RawMessage // image: a PNF (usually a data: URI)
	Snapshot  json.RawMessage // video: a PNF
	Text      string          // audio: recognised speech
}

func parseFile(r *fieldReader, h Head) *FileContent {
	return &FileContent{Head: h, Filename: r.str("filename"), URL: r.str("URL"), Data: r.str("data"),
		Key: r.rawEither("key", "password"), Thumbnail: r.raw("thumbnail"), Snapshot: r.raw("snapshot"),
		Text: r.str("text")}
}

func (c *FileContent) writeBody(w *jsonx.Writer) {
	w.StringIf("filename", c.Filename)
	w.StringIf("URL", c.URL)
	w.StringIf("data", c.Data)
	w.Raw("key", c.Key)
	w.Raw("password", c.Key)
	w.Raw("thumbnail", c.Thumbnail)
	w.Raw("snapshot", c.Snapshot)
	w.StringIf("text", c.Text)
}

// PageContent is a web page (0x20).
type PageContent struct {
	Head
	Title, Desc, URL, HTML string
	Icon                   json.RawMessage
}

func (c *PageContent) writeBody(w *jsonx.Writer) {
	w.StringIf("title", c.Title)
	w.StringIf("desc", c.Desc)
	w.Raw("icon", c.Icon)
	w.StringIf("URL", c.URL)
	w.StringIf("HTML", c.HTML)
}

// NameCardContent introduces a contact (0x33).
type NameCardContent struct {
	Head
	ID     ID
	Name   string
	Avatar json.RawMessage
}

func (c *NameCardContent) writeBody(w *jsonx.Writer) {
	writeIDIf(w, "did", c.ID)
	writeIDIf(w, "ID", c.ID)
	w.StringIf("name", c.Name)
	w.Raw("avatar", c.Avatar)
}

// QuoteContent replies to an earlier message (0x37).
type QuoteContent struct {
	Head
	Text   string
	Origin *Origin
}

func (c *QuoteContent) writeBody(w *jsonx.Writer) {
	w.String("text", c.Text)
	if c.Origin != nil {
		w.Raw("origin", c.Origin.marshal())
	}
}

// MoneyContent is money (0x40), a transfer (0x41) or another payment type.
type MoneyContent struct {
	Head
	Currency string
	Amount   float64
	Remitter ID
	Remittee ID
}

func (c *MoneyContent) writeBody(w *jsonx.Writer) {
	w.String("currency", c.Currency)
	w.Float("amount", c.Amount)
	writeIDIf(w, "remitter", c.Remitter)
	writeIDIf(w, "remittee", c.Remittee)
}

// ForwardContent carries whole reliable messages (0xFF): `secrets`, or the
// single `forward` of Python ≤ 2.3.
type ForwardContent struct {
	Head
	Secrets []*ReliableMessage
}

func parseForward(r *fieldReader, h Head) *ForwardContent {
	c := &ForwardContent{Head: h}
	if raw := r.raw("secrets"); raw != nil {
		elems, err := jsonx.Array(raw)
		if err != nil {
			r.fail("secrets", err)
			return c
		}
		for i, e := range elems {
			m, err := ParseReliableMessage(e)
			if err != nil {
				r.fail(fmt.Sprintf("secrets[%d]", i), err)
				return c
			}
			c.Secrets = append(c.Secrets, m)
		}
	}
	if raw := r.raw("forward"); raw != nil && c.Secrets == nil {
		m, err := ParseReliableMessage(raw)
		if err != nil {
			r.fail("forward", err)
			return c
		}
		c.Secrets = []*ReliableMessage{m}
	}
	return c
}

func (c *ForwardContent) writeBody(w *jsonx.Writer) {
	buf := []byte{'['}
	for i, m := range c.Secrets {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = m.appendJSON(buf)
	}
	w.Raw("secrets", append(buf, ']'))
}

// CombineForwardContent carries a piece of chat history (0xCF).
type CombineForwardContent struct {
	Head
	Title    string
	Messages []*InstantMessage
}

func parseCombine(r *fieldReader, h Head) *CombineForwardContent {
	c := &CombineForwardContent{Head: h, Title: r.str("title")}
	if raw := r.raw("messages"); raw != nil {
		elems, err := jsonx.Array(raw)
		if err != nil {
			r.fail("messages", err)
			return c
		}
		for i, e := range elems {
			m, err := ParseInstantMessage(e)
			if err != nil {
				r.fail(fmt.Sprintf("messages[%d]", i), err)
				return c
			}
			c.Messages = append(c.Messages, m)
		}
	}
	return c
}

func (c *CombineForwardContent) writeBody(w *jsonx.Writer) {
	w.String("title", c.Title)
	buf := []byte{'['}
	for i, m := range c.Messages {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = m.appendJSON(buf)
	}
	w.Raw("messages", append(buf, ']'))
}

// ArrayContent carries several contents (0xCA).
type ArrayContent struct {
	Head
	Contents []Content
}

func parseArray(r *fieldReader, h Head) *ArrayContent {
	c := &ArrayContent{Head: h}
	if raw := r.raw("contents"); raw != nil {
		elems, err := jsonx.Array(raw)
		if err != nil {
			r.fail("contents", err)
			return c
		}
		for i, e := range elems {
			sub, err := ParseContent(e)
			if err != nil {
				r.fail(fmt.Sprintf("contents[%d]", i), err)
				return c
			}
			c.Contents = append(c.Contents, sub)
		}
	}
	return c
}

func (c *ArrayContent) writeBody(w *jsonx.Writer) {
	buf := []byte{'['}
	for i, sub := range c.Contents {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendContent(buf, sub)
	}
	w.Raw("contents", append(buf, ']'))
}

// AppContent is application (0xA0) or customized (0xCC) content: an app
// ID, a module and an action, with any extra fields in Head.Extra.
type AppContent struct {
	Head
	App string // application ID, e.g. "chat.dim.sechat"
	Mod string // module, e.g. "drift_bottle"
	Act string // action, e.g. "throw"
}

// NewAppContent makes application or customized content; extra holds the
// free fields (it may be nil).
func NewAppContent(t ContentType, app, mod, act string, extra Fields) *AppContent {
	c := &AppContent{Head: NewHead(t), App: app, Mod: mod, Act: act}
	c.Extra = extra
	return c
}

func (c *AppContent) writeBody(w *jsonx.Writer) {
	w.String("app", c.App)
	w.String("mod", c.Mod)
	w.String("act", c.Act)
}

// UnknownContent is a content of a type this package does not model; all
// its members are in Head.Extra and are written back unchanged.
type UnknownContent struct {
	Head
}

func (c *UnknownContent) writeBody(*jsonx.Writer) {}
