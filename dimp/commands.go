package dimp

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"dimtui/dimp/internal/jsonx"
)

// Command names.
const (
	CmdMeta      = "meta"
	CmdDocuments = "documents"
	// CmdDocument is the name dimchat's apps write for documents commands
	// (dimples turns "documents" into it on the way out), and the one
	// stations on dimp 2.2 know; NewDocumentCommand writes it.
	CmdDocument  = "document"
	CmdReceipt   = "receipt"
	CmdHandshake = "handshake"
	CmdLogin     = "login"
	CmdReport    = "report"
	CmdMute      = "mute"
	CmdBlock     = "block"
	CmdAns       = "ans"

	// Group history commands.
	CmdInvite = "invite"
	CmdExpel  = "expel"
	CmdJoin   = "join"
	CmdQuit   = "quit"
	CmdReset  = "reset"
	CmdQuery  = "query"
	// Administrators: hire and fire are reserved names (the owner re-signs
	// the bulletin's administrators instead); resign is an administrator
	// stepping down.
	CmdHire   = "hire"
	CmdFire   = "fire"
	CmdResign = "resign"
)

// groupCommandNames are the history commands that act on a group.
var groupCommandNames = map[string]bool{
	CmdInvite: true, CmdExpel: true, CmdJoin: true, CmdQuit: true, CmdReset: true, CmdQuery: true,
	"found": true, "abdicate": true, CmdHire: true, CmdFire: true, CmdResign: true,
}

// parseCommand dispatches on the command name (`command`, old `cmd`).
func parseCommand(r *fieldReader, h Head) Content {
	name := r.strOf("command", r.rawEither("command", "cmd"))
	ch := CommandHead{Head: h, Name: name}
	switch name {
	case CmdMeta:
		return &MetaCommand{CommandHead: ch, ID: r.idOf("did", r.rawEither("did", "ID")), Meta: parseMetaField(r, "meta")}
	case CmdDocuments, CmdDocument, "profile":
		return parseDocumentCommand(r, ch)
	case CmdReceipt:
		return parseReceipt(r, ch)
	case CmdHandshake:
		return &HandshakeCommand{CommandHead: ch, Title: r.strOf("title", r.rawEither("title", "message")),
			Session: r.str("session"), Force: r.bool("force")}
	case CmdLogin:
		return parseLogin(r, ch)
	case CmdReport, "online", "offline", "broadcast":
		c := &ReportCommand{CommandHead: ch, Title: r.str("title")}
		if c.Title == "" && (name == "online" || name == "offline") {
			c.Title = name
		}
		if c.Title == "" {
			switch r.str("state") {
			case "foreground":
				c.Title = ReportOnline
			case "background":
				c.Title = ReportOffline
			}
		}
		return c
	case CmdSearch, CmdOnlineUsers:
		return parseSearchCommand(r, ch)
	case CmdAns:
		return parseAnsCommand(r, ch)
	case CmdMute, CmdBlock:
		c := &ListCommand{CommandHead: ch}
		if raw := r.raw("list"); raw != nil {
			c.HasList = true
			c.List, c.Invalid = r.lenientIDs("list", raw)
		}
		return c
	}
	if groupCommandNames[name] || (h.Type == ContentHistory && !h.Group.IsZero()) {
		c := &GroupCommand{CommandHead: ch, Members: r.ids("members")}
		if c.Members == nil {
			if m := r.id("member"); !m.IsZero() {
				c.Members = []ID{m}
			}
		}
		return c
	}
	return &GenericCommand{CommandHead: ch}
}

func parseMetaField(r *fieldReader, key string) *Meta {
	obj := r.members(key)
	if obj == nil {
		return nil
	}
	m, err := metaFromMembers(obj)
	if err != nil {
		r.fail(key, err)
	}
	return m
}

func parseDocumentField(r *fieldReader, key string, raw []byte) *Document {
	obj, err := jsonx.MembersOf(raw)
	if err != nil {
		r.fail(key, err)
		return nil
	}
	d, err := documentFromMembers(obj)
	if err != nil {
		r.fail(key, err)
	}
	return d
}

// GenericCommand is a command this package does not model; its members are
// in Head.Extra.
type GenericCommand struct{ CommandHead }

func (c *GenericCommand) writeBody(w *jsonx.Writer) { c.writeName(w) }

// MetaCommand queries a meta (Meta nil) or carries one.
type MetaCommand struct {
	CommandHead
	ID   ID
	Meta *Meta
}

// NewMetaCommand makes a meta query (meta nil) or response.
func NewMetaCommand(id ID, meta *Meta) *MetaCommand {
	return &MetaCommand{CommandHead: newCommandHead(CmdMeta), ID: id, Meta: meta}
}

func (c *MetaCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	writeIDIf(w, "did", c.ID)
	writeIDIf(w, "ID", c.ID)
	writeMeta(w, "meta", c.Meta)
}

func writeMeta(w *jsonx.Writer, key string, m *Meta) {
	if m == nil {
		return
	}
	if raw, err := m.MarshalJSON(); err == nil {
		w.Raw(key, raw)
	}
}

// DocumentCommand queries documents (Documents nil) newer than LastTime, or
// carries them, optionally with the meta. Old peers send `document` (one
// map) under the command name "document"; both are read. It is written
// under the name "document", as dimchat's apps write it (every peer reads
// that name; stations on dimp 2.2 know no other), with both `documents` and
// the single `document`.
type DocumentCommand struct {
	CommandHead
	ID        ID
	Meta      *Meta
	Documents []*Document
	LastTime  float64
}

// NewDocumentCommand makes a documents query (docs nil) or response.
func NewDocumentCommand(id ID, meta *Meta, docs []*Document) *DocumentCommand {
	return &DocumentCommand{CommandHead: newCommandHead(CmdDocument), ID: id, Meta: meta, Documents: docs}
}

func parseDocumentCommand(r *fieldReader, ch CommandHead) *DocumentCommand {
	c := &DocumentCommand{CommandHead: ch, ID: r.idOf("did", r.rawEither("did", "ID")),
		Meta: parseMetaField(r, "meta"), LastTime: r.float("last_time")}
	single := r.raw("document")
	if raw := r.raw("documents"); raw != nil {
		elems, err := jsonx.Array(raw)
		if err != nil {
			r.fail("documents", err)
			return c
		}
		for i, e := range elems {
			if d := parseDocumentField(r, fmt.Sprintf("documents[%d]", i), e); d != nil {
				c.Documents = append(c.Documents, d)
			}
		}
	} else if single != nil {
		if d := parseDocumentField(r, "document", single); d != nil {
			c.Documents = []*Document{d}
		}
	} else if prof := r.raw("profile"); prof != nil {
		// DIMP v1: `profile` is a document map, or the data string with the
		// signature beside it.
		if prof[0] == '{' {
			if d := parseDocumentField(r, "profile", prof); d != nil {
				c.Documents = []*Document{d}
			}
		} else if data := r.strOf("profile", prof); r.err == nil {
			sig, text, err := readTED(r.raw("signature"))
			if err != nil {
				r.fail("signature", err)
				return c
			}
			d := &Document{ID: c.ID, Data: data, Signature: sig, sigText: text}
			if d.props, err = jsonx.ParseObject([]byte(data)); err != nil {
				r.fail("profile", err)
				return c
			}
			c.Documents = []*Document{d}
		}
	}
	return c
}

// IsQuery reports whether the command asks for documents.
func (c *DocumentCommand) IsQuery() bool { return len(c.Documents) == 0 }

func (c *DocumentCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	writeIDIf(w, "did", c.ID)
	writeIDIf(w, "ID", c.ID)
	writeMeta(w, "meta", c.Meta)
	if c.LastTime != 0 {
		w.Float("last_time", c.LastTime)
	}
	if len(c.Documents) > 0 {
		buf := []byte{'['}
		for i, d := range c.Documents {
			if i > 0 {
				buf = append(buf, ',')
			}
			raw, _ := d.MarshalJSON()
			buf = append(buf, raw...)
		}
		w.Raw("documents", append(buf, ']'))
		// Peers before dimp 2.3 read one `document`.
		raw, _ := c.Documents[len(c.Documents)-1].MarshalJSON()
		w.Raw("document", raw)
	}
}

// Origin is the envelope of an earlier message, as receipts and quotes
// carry it: never its data, keys, meta or visa.
type Origin struct {
	Sender    ID
	Receiver  ID
	Time      float64
	SN        int64  // the content's serial number, when known
	Type      string // the content type token, as sent
	Group     ID
	Signature string // the original message's signature text
	Extra     Fields
}

func parseOrigin(r *fieldReader, key string) *Origin {
	or := r.sub(key)
	if or == nil {
		return nil
	}
	o, err := originFrom(or)
	if err != nil {
		r.fail(key, err)
	}
	return o
}

func originFrom(or *fieldReader) (*Origin, error) {
	or.m.Expand(messageShortNames)
	o := &Origin{Sender: or.id("sender"), Receiver: or.id("receiver"), Time: or.float("time"),
		SN: or.int("sn"), Group: or.id("group"), Signature: or.str("signature")}
	if raw := or.raw("type"); raw != nil {
		tok, err := jsonx.Token(raw)
		if err != nil {
			or.fail("type", err)
		}
		o.Type = tok
	}
	for _, k := range originDropped {
		or.m.Take(k)
	}
	o.Extra = or.m.Rest()
	return o, or.err
}

func (o *Origin) marshal() []byte {
	w := jsonx.NewWriter(nil)
	writeIDIf(w, "sender", o.Sender)
	writeIDIf(w, "receiver", o.Receiver)
	if o.Time != 0 {
		w.Float("time", o.Time)
	}
	if o.SN != 0 {
		w.Int("sn", o.SN)
	}
	if o.Type != "" {
		if t, err := ParseContentType(o.Type); err == nil {
			w.Int("type", int64(t))
		} else {
			w.String("type", o.Type)
		}
	}
	writeIDIf(w, "group", o.Group)
	w.StringIf("signature", o.Signature)
	w.Rest(o.Extra)
	return w.End()
}

// OriginOf builds the origin of a message for a receipt: its envelope and
// signature, with the envelope's other members (as the reference keeps
// everything but data, keys, meta and visa: `traces`, a sender's own `sn`
// beside its envelope...), and the content's serial number when sn is not
// 0 or, else, the envelope's own `sn` when it has one.
func OriginOf(m *ReliableMessage, sn int64) *Origin {
	o := &Origin{Sender: m.Sender, Receiver: m.Receiver, Time: m.Time, SN: sn, Group: m.Group,
		Signature: m.SignatureText(), Extra: m.Extra.Clone()}
	if m.HasType {
		o.Type = fmt.Sprint(int(m.Type))
	}
	for _, k := range originDropped {
		delete(o.Extra, k)
	}
	if raw, ok := o.Extra["sn"]; ok {
		delete(o.Extra, "sn")
		if o.SN == 0 {
			if n, err := jsonx.Int(raw); err == nil { // null is no number: no sn
				o.SN = n
			}
		}
	}
	if len(o.Extra) == 0 {
		o.Extra = nil
	}
	return o
}

// originDropped are the members of a message a receipt's origin leaves
// out: the payload and what came to verify it ("iv" is the old name of
// the IV, kept beside the payload).
var originDropped = []string{"data", "key", "keys", "meta", "visa", "iv"}

// Receipt texts used by stations and clients.
const (
	ReceiptDelivered = "Message delivered."
	ReceiptCached    = "Message cached."
	ReceiptReceived  = "Message received."
	ReceiptRead      = "Message read."
)

// ReceiptCommand acknowledges a message. Origin is read from `origin`, the
// v1.0 `envelope`, or the flat sender/receiver/sn/signature of older peers.
type ReceiptCommand struct {
	CommandHead
	Text      string
	Origin    *Origin
	Recipient ID // stations name who the message was delivered to
}

// NewReceipt makes a receipt for origin.
func NewReceipt(text string, origin *Origin) *ReceiptCommand {
	c := &ReceiptCommand{CommandHead: newCommandHead(CmdReceipt), Text: text, Origin: origin}
	if origin != nil {
		c.Group = origin.Group
	}
	return c
}

func parseReceipt(r *fieldReader, ch CommandHead) *ReceiptCommand {
	c := &ReceiptCommand{CommandHead: ch, Text: r.str("text"), Recipient: r.id("recipient")}
	c.Origin = parseOrigin(r, "origin")
	if c.Origin == nil {
		c.Origin = parseOrigin(r, "envelope")
	}
	if c.Origin == nil {
		if r.m.Has("sender") {
			c.Origin = &Origin{Sender: r.id("sender"), Receiver: r.id("receiver"), SN: r.int("sn"),
				Signature: r.str("signature")}
		}
	}
	return c
}

func (c *ReceiptCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	w.String("text", c.Text)
	if c.Origin != nil {
		w.Raw("origin", c.Origin.marshal())
	}
	writeIDIf(w, "recipient", c.Recipient)
}

// Handshake titles.
const (
	HandshakeHello = "Hello world!" // client → station, start or restart
	HandshakeAsk   = "DIM?"         // station → client: use this session key
	HandshakeOK    = "DIM!"         // station → client: accepted
)

// HandshakeState is where a handshake command puts the exchange.
type HandshakeState int

// Handshake states, as the reference numbers them.
const (
	HandshakeStart   HandshakeState = 0 // Hello world! without a session key
	HandshakeAgain   HandshakeState = 1 // DIM?: the station asks again, with a key
	HandshakeRestart HandshakeState = 2 // Hello world! with the station's key
	HandshakeSuccess HandshakeState = 3 // DIM!: accepted
)

// String names the state.
func (s HandshakeState) String() string {
	switch s {
	case HandshakeStart:
		return "Start"
	case HandshakeAgain:
		return "Again"
	case HandshakeRestart:
		return "Restart"
	case HandshakeSuccess:
		return "Success"
	}
	return fmt.Sprintf("HandshakeState(%d)", int(s))
}

// HandshakeCommand opens a session with a station.
type HandshakeCommand struct {
	CommandHead
	Title   string // HandshakeHello, HandshakeAsk or HandshakeOK (old: `message`)
	Session string // the station's session key (hex)
	Force   bool   // a DIM? sent because a message arrived before the handshake
}

// NewHandshake makes a handshake command.
func NewHandshake(title, session string) *HandshakeCommand {
	return &HandshakeCommand{CommandHead: newCommandHead(CmdHandshake), Title: title, Session: session}
}

// State derives the handshake state from title and session.
func (c *HandshakeCommand) State() HandshakeState {
	switch c.Title {
	case HandshakeOK:
		return HandshakeSuccess
	case HandshakeAsk:
		return HandshakeAgain
	}
	if c.Session == "" {
		return HandshakeStart
	}
	return HandshakeRestart
}

func (c *HandshakeCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	w.String("title", c.Title)
	w.String("message", c.Title)
	w.StringIf("session", c.Session)
	if c.Force {
		w.Bool("force", true)
	}
}

// LoginStation is where a user logged in.
type LoginStation struct {
	ID   ID
	Host string
	Port int64
}

// LoginCommand announces where a user is online.
type LoginCommand struct {
	CommandHead
	ID       ID
	Device   string
	Agent    string
	Station  *LoginStation
	Provider json.RawMessage
}

// NewLogin makes a login command for id at a station.
func NewLogin(id ID, agent string, st *LoginStation) *LoginCommand {
	return &LoginCommand{CommandHead: newCommandHead(CmdLogin), ID: id, Agent: agent, Station: st}
}

func parseLogin(r *fieldReader, ch CommandHead) *LoginCommand {
	c := &LoginCommand{CommandHead: ch, ID: r.idOf("did", r.rawEither("did", "ID")), Device: r.str("device"),
		Agent: r.str("agent"), Provider: r.raw("provider")}
	if sr := r.sub("station"); sr != nil {
		c.Station = &LoginStation{ID: sr.idOf("did", sr.rawEither("did", "ID")), Host: sr.str("host"), Port: sr.int("port")}
		if sr.err != nil {
			r.fail("station", sr.err)
		}
	}
	return c
}

func (c *LoginCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	writeIDIf(w, "did", c.ID)
	writeIDIf(w, "ID", c.ID)
	w.StringIf("device", c.Device)
	w.StringIf("agent", c.Agent)
	if c.Station != nil {
		sw := jsonx.NewWriter(nil)
		writeIDIf(sw, "did", c.Station.ID)
		writeIDIf(sw, "ID", c.Station.ID)
		sw.StringIf("host", c.Station.Host)
		if c.Station.Port != 0 {
			sw.Int("port", c.Station.Port)
		}
		w.Raw("station", sw.End())
	}
	w.Raw("provider", c.Provider)
}

// Report titles.
const (
	ReportOnline  = "online"
	ReportOffline = "offline"
)

// ReportCommand tells the station the client went online or offline.
type ReportCommand struct {
	CommandHead
	Title string
}

// NewReport makes a report command.
func NewReport(title string) *ReportCommand {
	return &ReportCommand{CommandHead: newCommandHead(CmdReport), Title: title}
}

func (c *ReportCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	w.String("title", c.Title)
}

// ListCommand is a mute or block command: with a list it sets the list,
// without one it asks the station for the stored list. Entries of the list
// that are no IDs are kept in Invalid (and written back after List), so
// that one bad entry neither loses the list nor disappears unseen.
type ListCommand struct {
	CommandHead
	List    []ID
	Invalid []string
	HasList bool
}

// NewListCommand makes a mute or block command; a nil list is a query.
func NewListCommand(name string, list []ID) *ListCommand {
	return &ListCommand{CommandHead: newCommandHead(name), List: list, HasList: list != nil}
}

func (c *ListCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	if c.HasList {
		strs := make([]string, 0, len(c.List)+len(c.Invalid))
		for _, id := range c.List {
			strs = append(strs, id.String())
		}
		w.Strings("list", append(strs, c.Invalid...))
	}
}

// GroupCommand is a group history command (invite, expel, join, quit,
// reset, ...); the group is in Head.Group.
type GroupCommand struct {
	CommandHead
	Members []ID // old peers: one `member`
}

// NewGroupCommand makes a history command (type 0x89) for group.
func NewGroupCommand(name string, group ID, members []ID) *GroupCommand {
	c := &GroupCommand{CommandHead: CommandHead{Head: NewHead(ContentHistory), Name: name}, Members: members}
	c.Group = group
	return c
}

func (c *GroupCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	if c.Members != nil {
		writeIDs(w, "members", c.Members)
	}
}

// AnsCommand asks the station's address name service (ANS) which IDs
// short names stand for, or answers that. The question carries `names`, the
// names separated by white space; the answer repeats them and adds
// `records`, each name that stands for exactly one ID mapped to it, and
// `missed`, the names the station does not know (as dimples answers).
//
// A registered name (a nickname) may be taken by several users. dimchat's
// answer has no room for that: such a name is left out of `records`, so
// that a client that reads only `records` takes it for unknown rather than
// for one of them, and listed in `ambiguous`, name → every ID it stands
// for, which this package's peers read.
type AnsCommand struct {
	CommandHead
	Names     []string
	Records   map[string]ID
	Missed    []string
	Ambiguous map[string][]ID
}

// NewAnsQuery makes a question for names.
func NewAnsQuery(names ...string) *AnsCommand {
	return &AnsCommand{CommandHead: newCommandHead(CmdAns), Names: names}
}

// IsAnswer reports whether the command answers a question: it carries
// records, missed or ambiguous names.
func (c *AnsCommand) IsAnswer() bool {
	return c.Records != nil || c.Missed != nil || c.Ambiguous != nil
}

func parseAnsCommand(r *fieldReader, ch CommandHead) *AnsCommand {
	c := &AnsCommand{CommandHead: ch, Names: strings.Fields(r.str("names"))}
	if obj := r.object("records"); obj != nil {
		c.Records = make(map[string]ID, len(obj))
		for name, raw := range obj {
			id, err := idField(raw)
			if err != nil {
				r.fail("records."+name, err)
				continue
			}
			c.Records[name] = id
		}
	}
	if raw := r.raw("missed"); raw != nil {
		missed, err := jsonx.StringArray(raw)
		if err != nil {
			r.fail("missed", err)
		}
		c.Missed = missed
	}
	if obj := r.object("ambiguous"); obj != nil {
		c.Ambiguous = make(map[string][]ID, len(obj))
		for name, raw := range obj {
			if ids := r.idsOf("ambiguous."+name, raw); ids != nil {
				c.Ambiguous[name] = ids
			}
		}
	}
	return c
}

func (c *AnsCommand) writeBody(w *jsonx.Writer) {
	c.writeName(w)
	w.String("names", strings.Join(c.Names, " "))
	if c.Records != nil {
		rw := jsonx.NewWriter(nil)
		for _, name := range slices.Sorted(maps.Keys(c.Records)) {
			rw.String(name, c.Records[name].String())
		}
		w.Raw("records", rw.End())
	}
	if c.Missed != nil {
		w.Strings("missed", c.Missed)
	}
	if c.Ambiguous != nil {
		aw := jsonx.NewWriter(nil)
		for _, name := range slices.Sorted(maps.Keys(c.Ambiguous)) {
			writeIDs(aw, name, c.Ambiguous[name])
		}
		w.Raw("ambiguous", aw.End())
	}
}
