package mockstation

import (
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// The commands a client addresses to the station itself: the handshake,
// meta and document registry, login, report, and block and mute lists.

// Handshake titles of station-py's speed test.
const (
	titleNiceToMeetYou    = "Nice to meet you!"
	titleNiceToMeetYouToo = "Nice to meet you too!"
)

// activeUsersText is the text that asks the station who is online.
const activeUsersText = "active users"

// toStation handles a verified message addressed to the station: it decrypts
// it and processes its content. reached is non-nil for a message to
// everyone, already pushed to those users: content the station does not
// handle itself is then answered with "Message forwarded." instead of
// "not support".
//
// Before the handshake only the handshake itself, meta and documents are
// processed; anything else is held until DIM!.
func (c *conn) toStation(in *inbound, reached []string) error {
	im, err := c.srv.open(in.rm)
	if err != nil {
		return c.refuse(in, reasonOf(err), err)
	}
	content := im.Content
	var answers []dimp.Content
	switch cc := content.(type) {
	case *dimp.HandshakeCommand:
		return c.handshake(in, cc)
	case *dimp.MetaCommand:
		answers = c.metaCommand(in, cc)
	case *dimp.DocumentCommand:
		answers = c.documentCommand(in, cc)
	case *dimp.ForwardContent:
		if c.userID().IsZero() {
			return c.hold(in)
		}
		if !in.forwarded {
			return c.forwarded(cc)
		}
		answers = []dimp.Content{notSupported(in.rm, content)}
	default:
		if c.userID().IsZero() {
			return c.hold(in)
		}
		var handled bool
		answers, handled = c.sessionContent(in, content)
		if !handled {
			if reached != nil {
				r := newReceipt("Message forwarded.", in.rm, content.Header().SN)
				setExtra(r, "recipients", reached)
				answers = []dimp.Content{r}
			} else {
				answers = []dimp.Content{notSupported(in.rm, content)}
			}
		}
	}
	for _, a := range answers {
		if err := c.answer(in, a); err != nil {
			return err
		}
	}
	return nil
}

// forwarded handles the messages a forward content to the station
// carries as if they had come one by one: dimchat's browser client wraps
// its receipt for a forwarded login so, and its Python SDK sends an empty
// forward, which needs nothing. Each is checked like any other message
// (signed by this session's user, within the time window) and answered
// with its own receipts; a forward inside is not unwrapped again.
func (c *conn) forwarded(fc *dimp.ForwardContent) error {
	for _, secret := range fc.Secrets {
		raw, err := secret.MarshalJSON()
		if err != nil {
			continue // it parsed, so it writes
		}
		if err := c.handleMessage(&inbound{rm: secret, raw: raw, forwarded: true}); err != nil {
			return err
		}
	}
	return nil
}

// handshake runs the station's side of spec/station.md §2.3:
//
//   - Hello world! with this connection's session key: accepted, answer
//     DIM! (and, the first time, register the session and handle what was
//     held);
//   - Hello world! without it, or with another key: answer DIM? carrying
//     the key, encrypted to the client (only the holder of the visa key can
//     read it, and only the holder of the meta key could sign the next
//     Hello);
//   - DIM? or DIM! from a client: "Command not support.".
//
// Both answers carry remote_address, the client's [ip, port].
func (c *conn) handshake(in *inbound, hc *dimp.HandshakeCommand) error {
	switch hc.Title {
	case dimp.HandshakeHello:
	case titleNiceToMeetYou:
		resp := dimp.NewHandshake(titleNiceToMeetYouToo, "")
		setExtra(resp, "remote_address", c.remote)
		return c.answer(in, resp)
	case titleNiceToMeetYouToo:
		return nil
	case dimp.HandshakeAsk, dimp.HandshakeOK:
		return c.answer(in, notSupported(in.rm, hc))
	default:
		r := newReceipt("Command error.", in.rm, hc.SN)
		setTemplate(r, "Handshake command error: title=\"${title}\".", map[string]any{"title": hc.Title})
		return c.answer(in, r)
	}
	if subtle.ConstantTimeCompare([]byte(hc.Session), []byte(c.key)) != 1 {
		ask := dimp.NewHandshake(dimp.HandshakeAsk, c.key)
		setExtra(ask, "remote_address", c.remote)
		return c.answer(in, ask)
	}
	ok := dimp.NewHandshake(dimp.HandshakeOK, c.key)
	setExtra(ok, "remote_address", c.remote)
	if !c.userID().IsZero() {
		return c.answer(in, ok) // handshaken again by the same user: nothing changes
	}
	if in.rm.Sender.Type() == dimp.Station {
		return c.acceptLink(in, ok, saysLinkAck(hc))
	}
	// The session is registered before DIM! goes out, so that the user is
	// online when the client learns it is; DIM! is queued before the writer
	// is told to send what waits in the store, so that it comes first.
	c.register(in.rm.Sender, in.from)
	if err := c.answer(in, ok); err != nil {
		return err
	}
	c.kick()
	return c.releaseHeld()
}

// acceptLink makes the connection a link to the station that handshook:
// its meta and visa verified its Hello (a station identity, type station).
// DIM! goes out first, as on any session; from then on the connection
// carries messages between the stations (link.go).
func (c *conn) acceptLink(in *inbound, ok *dimp.HandshakeCommand, acks bool) error {
	peer := in.rm.Sender.WithoutTerminal()
	if peer.SameAs(c.srv.me.ID) {
		return closeWith(websocket.StatusPolicyViolation, "a station cannot link to itself")
	}
	if cut, _ := c.srv.net.cut(); cut {
		return closeWith(websocket.StatusTryAgainLater, "%v", errPartitioned)
	}
	setExtra(ok, linkAckField, true)
	if err := c.answer(in, ok); err != nil {
		return err
	}
	c.held = nil // a station sends nothing before its handshake
	if err := c.startLink(peer, in.from, "", acks); err != nil {
		return closeWith(websocket.StatusTryAgainLater, "%v", err)
	}
	c.kick()
	return nil
}

// releaseHeld handles, in order, the messages held until the handshake
// (see hold).
func (c *conn) releaseHeld() error {
	held := c.held
	c.held = nil
	for _, h := range held {
		if err := c.handleMessage(&inbound{rm: h.rm, raw: h.raw}); err != nil {
			return err
		}
	}
	return nil
}

// register makes the connection a session of user: from now on it
// receives the user's messages, first whatever waits in the store.
func (c *conn) register(user dimp.ID, p *dimp.Profile) {
	c.handshaken()
	p = c.srv.sharedProfile(p)
	c.sessionMu.Lock()
	c.user, c.profile = user, p
	c.sessionMu.Unlock()
	c.srv.hub.add(user.WithoutTerminal().String(), c)
	c.logger().Info("handshake accepted", "user", user)
}

// sessionContent processes content that needs a handshaken session; handled
// is false for what the station does not handle.
func (c *conn) sessionContent(in *inbound, content dimp.Content) (answers []dimp.Content, handled bool) {
	switch cc := content.(type) {
	case *dimp.LoginCommand:
		return c.loginCommand(in, cc), true
	case *dimp.ReportCommand:
		return c.reportCommand(in, cc), true
	case *dimp.ListCommand:
		return c.listCommand(in, cc), true
	case *dimp.AnsCommand:
		if a := c.ansCommand(in, cc); a != nil {
			return []dimp.Content{a}, true
		}
		return nil, true
	case *dimp.SearchCommand:
		if a := c.search(in, cc); a != nil {
			return []dimp.Content{a}, true
		}
		return nil, true
	case *dimp.ReceiptCommand:
		// A receipt to the station acknowledges a message it delivered.
		if o := cc.Origin; o != nil && o.Signature != "" && (o.Receiver.IsZero() || o.Receiver.SameAs(in.rm.Sender)) {
			c.ack(o.Signature)
		}
		return nil, true
	case *dimp.TextContent:
		if strings.EqualFold(strings.TrimSpace(cc.Text), activeUsersText) {
			users, _ := c.srv.hub.online()
			if users == nil {
				users = []string{}
			}
			t := dimp.NewText(strings.Join(users, "\n"))
			setExtra(t, "users", users)
			return []dimp.Content{t}, true
		}
	}
	return nil, false
}

// metaCommand answers a meta query with the meta, or stores an uploaded
// meta that matches its ID.
func (c *conn) metaCommand(in *inbound, cmd *dimp.MetaCommand) []dimp.Content {
	sn := cmd.SN
	if cmd.ID.IsZero() {
		return []dimp.Content{newReceipt("Meta not found.", in.rm, sn)}
	}
	if cmd.Meta == nil {
		meta, err := c.srv.meta(c.ctx, cmd.ID)
		if err != nil {
			c.logger().Error("meta query", "id", cmd.ID, "err", err)
		}
		if meta == nil {
			r := newReceipt("Meta not found.", in.rm, sn)
			setTemplate(r, "Meta not found: ${did}.", map[string]any{"did": cmd.ID.String()})
			return []dimp.Content{r}
		}
		return []dimp.Content{dimp.NewMetaCommand(cmd.ID, meta)}
	}
	p, err := dimp.NewProfile(cmd.ID.WithoutTerminal(), cmd.Meta)
	if err != nil {
		r := newReceipt("Meta not accepted.", in.rm, sn)
		setExtra(r, "error", err.Error())
		return []dimp.Content{r}
	}
	if _, err := c.srv.learn(c.ctx, p, cmd.Meta, nil); err != nil {
		c.logger().Error("store meta", "id", cmd.ID, "err", err)
		return []dimp.Content{newReceipt("Station error: meta not stored.", in.rm, sn)}
	}
	return []dimp.Content{newReceipt("Meta received.", in.rm, sn)}
}

// documentCommand answers a documents query with the stored documents (and
// the user's stored login, as dimples does), or checks and stores uploaded
// ones.
func (c *conn) documentCommand(in *inbound, cmd *dimp.DocumentCommand) []dimp.Content {
	sn := cmd.SN
	if cmd.IsQuery() {
		return c.documentQuery(in, cmd)
	}
	var answers []dimp.Content
	if cmd.Meta != nil && !cmd.ID.IsZero() {
		if p, err := dimp.NewProfile(cmd.ID.WithoutTerminal(), cmd.Meta); err == nil {
			if _, err := c.srv.learn(c.ctx, p, cmd.Meta, nil); err != nil {
				c.logger().Error("store meta", "id", cmd.ID, "err", err)
			}
		}
	}
	for _, doc := range cmd.Documents {
		text, err := c.storeDocument(cmd, doc)
		r := newReceipt(text, in.rm, sn)
		if err != nil {
			setExtra(r, "error", err.Error())
		}
		answers = append(answers, r)
	}
	return answers
}

// storeDocument checks one uploaded document against the meta that must
// have signed it (the entity's own, or a bulletin's founder's) and stores
// it if it is newer than what the station has. One over maxDocumentJSON is
// refused first, and nothing of it is kept: answering a query for it would
// not fit in a frame.
func (c *conn) storeDocument(cmd *dimp.DocumentCommand, doc *dimp.Document) (string, error) {
	if n, err := checkDocumentSize(doc); err != nil {
		return tooLargeText("Document", n), err
	}
	if !cmd.ID.IsZero() && !doc.ID.SameAs(cmd.ID) {
		return "Document ID not match.", fmt.Errorf("%w: %s in a command for %s", dimp.ErrDocumentID, doc.ID, cmd.ID)
	}
	signer := doc.ID
	var meta *dimp.Meta
	if doc.DocType() == dimp.DocBulletin {
		if cmd.Meta != nil && cmd.Meta.MatchID(doc.ID) == nil {
			// The group's own meta came with its bulletin: its key is the
			// founder's, which signs the bulletin. Keep it, so that a
			// member asking for the group gets meta and bulletin.
			if err := doc.VerifyFor(doc.ID, cmd.Meta); err != nil {
				return "Document not accepted.", err
			}
			p, err := dimp.NewProfile(doc.ID.WithoutTerminal(), cmd.Meta)
			if err == nil {
				_, err = c.srv.learn(c.ctx, p, cmd.Meta, nil)
			}
			if err != nil {
				return "Station error: document not stored.", err
			}
			meta = cmd.Meta
		} else {
			founder, err := doc.Founder()
			if err != nil {
				return "Document not accepted.", err
			}
			signer = founder
		}
	}
	if meta == nil {
		var err error
		if meta, err = c.srv.meta(c.ctx, signer); err != nil {
			return "Station error: document not stored.", err
		}
	}
	if meta == nil && cmd.Meta != nil && cmd.Meta.MatchID(signer) == nil {
		meta = cmd.Meta
	}
	if meta == nil {
		return "Document not accepted.", fmt.Errorf("%w: no meta of %s", dimp.ErrNoVerifyKey, signer)
	}
	if err := doc.VerifyFor(doc.ID, meta); err != nil {
		return "Document not accepted.", err
	}
	var saved bool
	if doc.DocType() == dimp.DocVisa {
		p, err := dimp.NewProfile(doc.ID.WithoutTerminal(), meta)
		if err == nil {
			saved, err = c.srv.learn(c.ctx, p, nil, doc)
		}
		if err != nil {
			return "Station error: document not stored.", err
		}
	} else {
		raw, err := doc.MarshalJSON()
		if err == nil {
			saved, err = c.srv.store.SaveDocument(c.ctx, store.Document{ID: doc.ID.WithoutTerminal().String(),
				Type: doc.DocType(), Terminal: doc.Terminal(), Time: doc.Time(), Data: raw})
		}
		if err != nil {
			return "Station error: document not stored.", err
		}
	}
	if !saved {
		return "Document not changed.", nil
	}
	return "Document received.", nil
}

// documentQuery answers a documents query with a document command: the
// ID's meta and its stored documents, as many as fit in one frame, none
// over maxDocumentJSON (stored before the bound); "Document not found."
// when there is none to send, "Document not updated." when none is newer
// than the asker's last_time.
func (c *conn) documentQuery(in *inbound, cmd *dimp.DocumentCommand) []dimp.Content {
	sn := cmd.SN
	notFound := func() []dimp.Content {
		r := newReceipt("Document not found.", in.rm, sn)
		setTemplate(r, "Document not found: ${did}.", map[string]any{"did": cmd.ID.String()})
		return []dimp.Content{r}
	}
	if cmd.ID.IsZero() {
		return notFound()
	}
	key := cmd.ID.WithoutTerminal().String()
	stored, err := c.srv.store.Documents(c.ctx, key)
	if err != nil {
		c.logger().Error("documents query", "id", cmd.ID, "err", err)
		return notFound()
	}
	var docs []sizedDocument
	newest := 0.0
	for _, d := range stored {
		doc, err := dimp.ParseDocument(d.Data)
		if err != nil {
			c.logger().Warn("stored document skipped", "id", key, "err", err)
			continue
		}
		n, err := checkDocumentSize(doc)
		if err != nil {
			// Stored before the bound: sent, it would not fit in a frame.
			c.logger().Warn("stored document over the bound not sent", "id", key, "type", d.Type,
				"terminal", d.Terminal, "bytes", n, "bound", maxDocumentJSON)
			continue
		}
		docs = append(docs, sizedDocument{doc: doc, size: n})
		newest = max(newest, doc.Time())
	}
	if len(docs) == 0 {
		return notFound()
	}
	if cmd.LastTime > 0 && newest <= cmd.LastTime {
		r := newReceipt("Document not updated.", in.rm, sn)
		setTemplate(r, "Document not updated: ${did}, last time: ${time}.",
			map[string]any{"did": cmd.ID.String(), "time": cmd.LastTime})
		return []dimp.Content{r}
	}
	meta, err := c.srv.meta(c.ctx, cmd.ID)
	if err != nil {
		c.logger().Error("documents query", "id", cmd.ID, "err", err)
	}
	resp := dimp.NewDocumentCommand(cmd.ID.WithoutTerminal(), meta, nil)
	// Answer in the asker's dialect: dimchat's apps (dimples) and its 2024
	// browser client ask and read "document"; dimp 2.4 asks "documents".
	// Both forms carry `documents` and the single `document`.
	if cmd.Name == dimp.CmdDocuments {
		resp.Name = cmd.Name
	}
	// The answer is one frame: as many documents as fit, newest first.
	taken, left := fitDocuments(docs, len(dimp.MarshalContent(resp)))
	for _, d := range left {
		c.logger().Warn("stored document left out of a documents answer", "id", key, "type", d.doc.DocType(),
			"terminal", d.doc.Terminal(), "bytes", d.size, "budget", maxAnswerContent)
	}
	if len(taken) == 0 {
		return notFound()
	}
	resp.Documents = taken
	answers := []dimp.Content{resp}
	// dimples appends where the user last logged in, as the login message
	// itself (a forward content), for users other than the asker; one
	// stored before attached visas were bounded may not fit in a frame.
	if cmd.ID.Type() == dimp.User && !cmd.ID.SameAs(in.rm.Sender) {
		if l, err := c.srv.store.Login(c.ctx, key); err == nil && len(l.Message) > maxAnswerContent {
			c.logger().Warn("stored login too large to forward", "id", key, "bytes", len(l.Message),
				"budget", maxAnswerContent)
		} else if err == nil {
			if lm, err := dimp.ParseReliableMessage(l.Message); err == nil {
				answers = append(answers, &dimp.ForwardContent{Head: dimp.NewHead(dimp.ContentForward),
					Secrets: []*dimp.ReliableMessage{lm}})
			}
		}
	}
	return answers
}

// loginCommand stores the newest login of the sender; a login to this
// station also marks the session active and is answered "Login received.".
func (c *conn) loginCommand(in *inbound, cmd *dimp.LoginCommand) []dimp.Content {
	sn := cmd.SN
	if cmd.ID.IsZero() || !cmd.ID.SameAs(in.rm.Sender) {
		r := newReceipt("Login not accepted.", in.rm, sn)
		setExtra(r, "error", fmt.Sprintf("login of %s sent by %s", cmd.ID, in.rm.Sender))
		return []dimp.Content{r}
	}
	var station dimp.ID
	if cmd.Station != nil {
		station = cmd.Station.ID.WithoutTerminal()
	}
	if in.origin != "" && station.String() != in.origin {
		return nil // over a link, from another station than it names: refused before (checkRelayedLogin)
	}
	if station.IsZero() || station.SameAs(dimp.AnyStation) {
		station = c.srv.me.ID
	}
	when := cmd.Time
	if when == 0 {
		when = in.rm.Time
	}
	user := cmd.ID.WithoutTerminal().String()
	if c.srv.net.locate(user, station.String(), when) {
		c.srv.net.kickFor(user) // what waits for the user follows it
	}
	_, err := c.srv.store.SaveLogin(c.ctx, store.Login{User: cmd.ID.WithoutTerminal().String(), Time: when,
		Station: station.String(), Command: dimp.MarshalContent(cmd), Message: outgoing(in)})
	if err != nil {
		c.logger().Error("store login", "user", cmd.ID, "err", err)
		return []dimp.Content{newReceipt("Station error: login not stored.", in.rm, sn)}
	}
	if !station.SameAs(c.srv.me.ID) || c.isLink() {
		return nil // logged in elsewhere: recorded, nothing to answer
	}
	c.srv.hub.setActive(c, true)
	r := newReceipt("Login received.", in.rm, sn)
	setTemplate(r, "Login command received: ${did}.", map[string]any{"did": cmd.ID.String()})
	return []dimp.Content{r}
}

// reportCommand switches the session on (online) or off (offline): an
// offline session gets no pushes, its messages wait in the store.
func (c *conn) reportCommand(in *inbound, cmd *dimp.ReportCommand) []dimp.Content {
	c.logger().Debug("report", "user", in.rm.Sender, "title", cmd.Title)
	switch cmd.Title {
	case dimp.ReportOnline:
		c.srv.hub.setActive(c, true)
		return []dimp.Content{newReceipt("Online received.", in.rm, cmd.SN)}
	case dimp.ReportOffline:
		c.srv.hub.setActive(c, false)
		return nil
	}
	return []dimp.Content{notSupported(in.rm, cmd)}
}

// listCommand stores the sender's block or mute list, or returns it when
// the command carries none. Block lists are enforced by route.
func (c *conn) listCommand(in *inbound, cmd *dimp.ListCommand) []dimp.Content {
	owner := in.rm.Sender.WithoutTerminal().String()
	name := cmd.CommandName()
	label := strings.ToUpper(name[:1]) + name[1:]
	if cmd.HasList {
		stored, err := c.srv.setList(c.ctx, owner, name, cmd.List, cmd.Time)
		switch {
		case err != nil:
			c.logger().Error("store list", "owner", owner, "list", name, "err", err)
			return []dimp.Content{newReceipt("Station error: list not stored.", in.rm, cmd.SN)}
		case !stored:
			// Sent before the list kept (a command delayed or replayed):
			// the newer list stays, as station-py means its time check to.
			return []dimp.Content{newReceipt(label+" not changed.", in.rm, cmd.SN)}
		}
		return []dimp.Content{newReceipt(label+" received.", in.rm, cmd.SN)}
	}
	set, err := c.srv.list(c.ctx, owner, name)
	if err != nil {
		c.logger().Error("read list", "owner", owner, "list", name, "err", err)
	}
	ids := []dimp.ID{}
	for m := range set {
		if id, err := dimp.ParseID(m); err == nil {
			ids = append(ids, id)
		}
	}
	return []dimp.Content{dimp.NewListCommand(name, ids)}
}

// notSupported is the receipt for content the station does not handle.
func notSupported(rm *dimp.ReliableMessage, content dimp.Content) *dimp.ReceiptCommand {
	h := content.Header()
	if cmd, ok := content.(dimp.Command); ok {
		r := newReceipt("Command not support.", rm, h.SN)
		setTemplate(r, "Command (name: ${command}) not support yet!", map[string]any{"command": cmd.CommandName()})
		return r
	}
	r := newReceipt("Content not support.", rm, h.SN)
	setTemplate(r, "Content (type: ${type}) not support yet!", map[string]any{"type": int(h.Type)})
	return r
}
