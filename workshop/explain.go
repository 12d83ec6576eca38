package workshop

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// Explanation says in plain words what one frame does in the protocol:
// what is signed and with which key, what is encrypted and to whom, what
// the station checks (for a frame going to it) or did (for a frame coming
// from it), and what comes next. The step-through panel shows it for the
// frame held next; the Markdown transcript gives it for every message.
type Explanation struct {
	Title     string // the frame in a line: "alice → station@anywhere: Hello world!"
	Step      string // where it is in the protocol: "handshake Start", "chat message", "keep-alive"
	Signed    string
	Encrypted string
	Station   string
	Next      string

	// For a message sent: the end of Station that tells the answers the
	// station may give, and how the receiver is called. Answered puts
	// what really came back in their place.
	expect   string
	receiver string
}

// Sections lists the explanation's labelled parts that are set, in the
// order they are told: {"Signed", …}, {"Encrypted", …}, {"Station", …},
// {"Next", …}.
func (e Explanation) Sections() [][2]string {
	var out [][2]string
	for _, s := range [][2]string{{"Signed", e.Signed}, {"Encrypted", e.Encrypted}, {"Station", e.Station}, {"Next", e.Next}} {
		if s[1] != "" {
			out = append(out, s)
		}
	}
	return out
}

// Frame is a frame to explain, as a client reports it (client.FrameEvent,
// client.HeldEvent).
type Frame struct {
	Dir    client.Direction
	Raw    []byte
	Kind   client.FrameKind
	Layers *client.Layers
	// Held: not written (out) or not processed (in) yet. The layers of a
	// held incoming frame are a look ahead, not what the client did: the
	// explanation says what will be checked, not that it was.
	Held bool
}

// Viewpoint is whose eyes a frame is explained through: a pane's user,
// its connection when the frame went by, and the keys it has seen.
type Viewpoint struct {
	Me     dimp.ID
	Status client.Status
	// Know is what the pane learned of keys; Explain adds what the frame
	// shows. Nil: nothing is known.
	Know *Knowledge
}

// frameInfo is a frame to explain, with what the pane knew when it went by.
type frameInfo struct {
	Frame
	Viewpoint
}

// Explain explains one frame from the point of view of v's user. A frame
// that brings keys along (a first contact's meta and visa) teaches them to
// v.Know first.
//
// What it says of a frame the client processed comes from what the client
// did (its layers: verified, opened, asked for the sender's key, a
// duplicate) and, for a receipt, from the station's own words. Of a frame
// not processed yet (held) and of a message sent it says what will be
// checked and which answers may come; Answered replaces those with the
// answer that came.
func (v Viewpoint) Explain(fr Frame) Explanation {
	f := frameInfo{Frame: fr, Viewpoint: v}
	if f.Know == nil {
		f.Know = NewKnowledge()
	}
	if f.Layers == nil {
		return explainControl(f)
	}
	f.Know.LearnFrame(f.Layers) // a first contact brings the keys along
	l := f.Layers
	if l.Reliable == nil {
		e := Explanation{Title: dirArrow(f.Dir) + " not a DIM message", Step: "refused"}
		if l.ParseErr != nil {
			e.Station = "The frame does not parse as a reliable message (" + l.ParseErr.Error() + "): it is dropped."
		}
		return e
	}
	if f.Dir == client.Out {
		return explainOut(f)
	}
	return explainIn(f)
}

func dirArrow(d client.Direction) string {
	if d == client.In {
		return "←"
	}
	return "→"
}

// name is how an ID is called in an explanation.
func (f frameInfo) name(id dimp.ID) string {
	switch {
	case id.IsZero():
		return "?"
	case id.IsBroadcast():
		return display.Sanitize(id.String(), false) // the name before @anywhere is anyone's
	case id.Type() == dimp.Station:
		return "the station"
	}
	return display.Name(id)
}

// title is how an ID is called in a title line.
func (f frameInfo) title(id dimp.ID) string {
	if !id.IsZero() && !id.IsBroadcast() && id.Type() == dimp.Station {
		return "station " + display.Name(id)
	}
	return f.name(id)
}

// explainControl explains PING, PONG, NOOP and ACK.
func explainControl(f frameInfo) Explanation {
	me := display.Name(f.Me)
	s := string(f.Raw)
	e := Explanation{Step: "control frame",
		Signed: "Nothing: a control frame is a few bytes of text, not a DIM message."}
	switch {
	case s == "PING" && f.Dir == client.Out:
		e.Title = me + " → station: PING"
		e.Step = "keep-alive"
		e.Station = "Answers PONG at once."
		e.Next = "PONG comes back; the time it took is the round trip in the status bar."
	case s == "PING":
		e.Title = "station → " + me + ": PING"
		e.Step = "keep-alive"
		e.Next = me + " answers PONG."
	case s == "PONG" && f.Dir == client.In:
		e.Title = "station → " + me + ": PONG"
		e.Step = "keep-alive"
		e.Station = "Answered " + me + "'s PING."
		e.Next = "The round trip is measured; the next PING in a few seconds."
	case s == "PONG":
		e.Title = me + " → station: PONG"
		e.Step = "keep-alive"
		e.Next = "Nothing: it answers the station's PING."
	case strings.HasPrefix(s, "ACK:"):
		e.Step = "acknowledgement"
		if f.Dir == client.Out {
			e.Title = me + " → station: ACK"
			e.Station = "The ACK names a message by its signature: the station deletes its stored copy, " +
				"or would deliver it again at " + me + "'s next session."
			e.Next = "Nothing comes back."
		} else {
			e.Title = "station → " + me + ": ACK"
		}
	default:
		e.Title = dirArrow(f.Dir) + " " + display.Truncate(display.Sanitize(s, false), 30)
	}
	return e
}

// encryption explains the secure layer of a message: plain for a
// broadcast, else the content encrypted with a message key that is itself
// encrypted to each receiver's visa key.
func (f frameInfo) encryption(rm *dimp.ReliableMessage, receiverName string) string {
	sm := &rm.SecureMessage
	if sm.IsBroadcast() {
		return fmt.Sprintf("No: %s is a broadcast ID, so data is the content's JSON in the clear, readable by anyone.",
			rm.Receiver)
	}
	to := f.Know.encryptKey(rm.Receiver, receiverName)
	if len(sm.Keys) == 0 {
		return "Yes: with the AES-256-CBC message key sent before to " + receiverName +
			" (this message carries no key: the receiver reuses the one it has)."
	}
	return "Yes: the content with an AES-256-CBC message key, and that key to " + to + ": only " +
		receiverName + " can read it."
}

// signing explains the reliable layer's signature.
func (f frameInfo) signing(rm *dimp.ReliableMessage, who string) string {
	what := "the ciphertext (data)"
	if rm.SecureMessage.IsBroadcast() {
		what = "data (the content's JSON)"
	}
	return "Yes: " + what + " is signed with " + f.Know.signKey(rm.Sender, who) + ". The envelope is not signed."
}

// expectAnswer sets the station's part of a message sent: what it checks and
// does, then (expect) the answers it may give, which Answered replaces.
func (e *Explanation) expectAnswer(does, expect, receiver string) {
	e.Station = does
	if expect != "" {
		e.Station += " " + expect
	}
	e.expect, e.receiver = expect, receiver
}

// explainOut explains a frame the pane's user sends.
func explainOut(f frameInfo) Explanation {
	l := f.Layers
	rm := l.Reliable
	me := display.Name(f.Me)
	to := f.name(rm.Receiver)
	var content dimp.Content
	if l.Instant != nil {
		content = l.Instant.Content
	}
	e := Explanation{Signed: f.signing(rm, me), Encrypted: f.encryption(rm, to)}
	if content == nil {
		e.Title = me + " → " + f.title(rm.Receiver)
		e.Step = "message"
		return e
	}
	e.Title = me + " → " + f.title(rm.Receiver) + ": " + display.ContentTitle(content)
	attached := ""
	if rm.Meta != nil {
		attached = " Meta and visa attached (first contact): the receiver can check the signature and answer."
	}
	checks := "Checks that the sender is the user handshaken on this connection and the signature (" + me + "'s stored meta key)"
	routed := "“Message delivered.” when " + to + " is online, “Message cached.” when not."
	switch c := content.(type) {
	case *dimp.HandshakeCommand:
		if c.Session == "" {
			e.Step = "handshake Start"
			e.Encrypted = "No: station@anywhere is a broadcast ID and " + me + " does not know the station's keys yet." +
				" Meta and visa attached so the station can check who " + me + " is."
			e.Station = "Checks that the meta generates " + me + "'s ID, that the visa is signed by the meta key and that the " +
				"signature verifies; answers DIM? with a session key for this connection, encrypted to " + me +
				"'s visa key, its own meta and visa attached."
			e.Next = "Again: the station's DIM? with the session key."
		} else {
			e.Step = "handshake Restart"
			e.Station = "Decrypts it with its private visa key, verifies the signature with the meta " + me +
				" sent at Start, and compares the session key " + display.ShortHex(c.Session) + " with this connection's. " +
				"Equal: DIM!, " + me + " is online here and stored messages follow. Different: DIM? again."
			e.Next = "Success: DIM!, and the client is Running."
		}
	case *dimp.ReceiptCommand:
		e.Step = "receipt"
		about := "a message"
		if c.Origin != nil && !c.Origin.Sender.IsZero() {
			about = display.Name(c.Origin.Sender) + "'s message"
		}
		e.Title = me + " → " + f.title(rm.Receiver) + ": receipt “" + display.Sanitize(c.Text, false) + "”"
		e.expectAnswer("Routes it like any message, unread: checks sender and signature, stores it until "+to+
			" acknowledges it and pushes it.", "It answers "+routed, to)
		next := "✓✓"
		if c.Text == dimp.ReceiptRead {
			next = "◉ (read)"
		}
		e.Next = "It names " + about + " by its signature: the sender's tick becomes " + next + "."
	case *dimp.DocumentCommand:
		if c.ID.IsGroup() && !c.ID.IsBroadcast() && !c.IsQuery() {
			e.Step = "group bulletin"
			e.expectAnswer("Checks that the meta generates "+display.Name(c.ID)+"'s ID and that the bulletin is signed by the "+
				"meta's key (the founder's), then keeps both; it knows nothing of the members.",
				"It answers “Document received.” (or “Document not changed.”).", to)
			e.Next = "Whoever asks the station for " + display.Name(c.ID) + " gets the bulletin: its name, its owner (the founder) " +
				"and administrators, with the meta that proves the founder signed it."
			break
		}
		if c.IsQuery() {
			e.Step = "visa query"
			e.expectAnswer("Verifies the signature and looks "+display.Name(c.ID)+" up.",
				"It answers with the meta and visa (and the last login), encrypted to "+me+"; or “Document not found.”.", to)
			e.Next = me + " checks that the meta generates " + display.Name(c.ID) + "'s ID and signed the visa; " +
				"then the messages waiting for that visa are encrypted and sent, or verified."
		} else {
			e.Step = "visa broadcast"
			e.expectAnswer("Verifies the signature, pushes it to everyone online and checks that "+display.Name(c.ID)+
				"'s meta key signed the visa.", "It answers “Document received.” when the visa is new to it (and stores it), "+
				"“Document not changed.” when it has this one already.", to)
			e.Next = "Others can now encrypt message keys to " + me + "'s visa key."
		}
	case *dimp.LoginCommand:
		e.Step = "login broadcast"
		e.expectAnswer("Verifies the signature, pushes it to everyone online, stores the login and marks the session active.",
			"It answers “Login received.”.", to)
		e.Next = "Who asks for " + me + "'s visa gets this login too: where " + me + " was last seen."
	case *dimp.TextContent:
		if rm.Receiver.Type() == dimp.Station {
			e.Step = "question to the station"
			e.Station = "Decrypts it (it is the receiver); “active users” is answered with the users online."
			e.Next = "The answer comes encrypted to " + me + "."
			break
		}
		e.Step = "chat message"
		e.expectAnswer(routedChecks(me, to, checks), "It answers "+routed, to)
		e.Next = deliveryNext(to)
		e.Encrypted += attached
	case *dimp.AppContent:
		e.Step = "application content (" + display.AppType(c.Type) + ")"
		e.expectAnswer(routedChecks(me, to, checks), "It answers "+routed, to)
		e.Next = deliveryNext(to)
		e.Encrypted += attached
	case *dimp.GroupCommand:
		e.Step = "group command “" + c.Name + "”"
		e.expectAnswer(routedChecks(me, to, checks), "It answers "+routed, to)
		e.Next = to + " checks it against what it knows of " + display.Name(c.Group) + ": " + groupRule(c.Name)
	case *dimp.ForwardContent:
		e.Step, e.Next = forwardStep(c, me, to)
		e.expectAnswer(routedChecks(me, to, checks), "It answers "+routed, to)
	case *dimp.SearchCommand:
		e.Step = "search"
		e.Station = "Reads the question, looks for the users whose visa name or ID contains every word" +
			" (or lists the users online) and answers with their IDs, metas and visas, encrypted to " + me +
			"; dimchat's station hands it to its search bot."
		e.Next = me + " checks and learns the profiles in the answer: a chat with a user found needs no visa query."
	case dimp.Command:
		e.Step = "command"
		if rm.Receiver.IsBroadcast() || rm.Receiver.Type() == dimp.Station {
			e.expectAnswer("Verifies the signature and processes the command.",
				"It answers with a receipt (or “Command not support.”).", to)
		} else {
			e.expectAnswer(routedChecks(me, to, checks), "It answers "+routed, to)
		}
	default:
		e.Step = "message"
		e.expectAnswer(routedChecks(me, to, checks), "It answers "+routed, to)
		e.Next = deliveryNext(to)
	}
	if g := l.Group; g != nil && !g.Via.IsZero() {
		e.Step = "group message, through the group's bot"
		e.Encrypted = groupCopyNote(g) + " " + e.Encrypted
		e.Next = display.Name(g.Via) + " checks that " + me + " is a member and sends each member a copy, still signed by " +
			me + "; each member's receipt comes back to " + me + " and is counted (✓✓ 2/3)."
	} else if g != nil {
		e.Step = "group message, " + display.Name(g.Member) + "'s copy"
		e.Encrypted = groupCopyNote(g) + " " + e.Encrypted
		e.Next = "Each member's copy is ticked on its own; the message's line of ticks counts them (✓✓ 2/3)."
	}
	return e
}

// forwardStep names what a forward from one user to another carries, and
// what its receiver does with it: a group's history (the signed
// broadcasts of its documents and commands), copies of a group message
// from or to the group's bot, the writer's own answers, or a forward.
func forwardStep(c *dimp.ForwardContent, from, to string) (step, next string) {
	if len(c.Secrets) == 0 {
		return "empty forward", "An empty forward: dimchat's clients answer a forward with one, with nothing to say. " +
			to + " drops it."
	}
	history, exposed := true, true
	for _, rm := range c.Secrets {
		if rm == nil {
			return "forward", to + " shows it as a forward."
		}
		if !rm.IsBroadcast() {
			history = false
		}
		if rm.Group.IsZero() || rm.IsBroadcast() {
			exposed = false
		}
	}
	switch {
	case history:
		return "group history", "Each message inside is a broadcast signed by whoever gave it: the group's documents, " +
			"its reset, the commands since. " + to + " checks each with its writer's key as if it came alone, so anyone " +
			"can pass a command on and it stays its writer's word; the station sees only a message to " + to + "."
	case exposed:
		return "group message through its bot", "The message inside is still signed by its writer and names the group; " +
			"the group's bot passes a copy to each member, and a member takes it because the group's bulletin names the bot."
	}
	return "forward", to + " checks each message inside with its writer's key; only the writer's own receipts, a group's " +
		"history or its bot's copies are taken as such, anything else is shown as a forward."
}

// groupCopyNote says why a message to a group goes out as one copy per
// member, and how this copy was made.
func groupCopyNote(g *client.GroupSend) string {
	why := "A station delivers nothing addressed to a group ID, so the sender makes a copy for each member. "
	if !g.Via.IsZero() {
		return "A station delivers nothing addressed to a group ID, and this group's bulletin names a bot to pass messages on: " +
			fmt.Sprintf("the message was encrypted once, its key encrypted to each of the %d members (`keys`), signed once, "+
				"and sent to %s inside a forward, the group and serial number on its envelope, as dimples does.", g.Members, display.Name(g.Via))
	}
	if g.Once {
		return why + fmt.Sprintf("With %d members, the message was encrypted once, its key encrypted to every member "+
			"(`keys`), and signed once; each copy is addressed to one member, keeps the group in its envelope, that "+
			"member's key and the same signature, as dimples does from 16 members.", g.Members)
	}
	return why + fmt.Sprintf("With %d (fewer than 16), each copy is a message of its own to the member, encrypted "+
		"to it and signed, the group named only inside the content, as dimples does.", g.Members)
}

func routedChecks(me, to, checks string) string {
	return checks + ", and the time; it cannot decrypt it. Stores it until " + to + " acknowledges it and pushes it to " +
		to + "."
}

func deliveryNext(to string) string {
	return "✓ at the station's receipt, ✓✓ when " + to + "'s client answers “Message received.”, ◉ when " + to + " reads it."
}

// explainIn explains a frame the pane's user receives.
func explainIn(f frameInfo) Explanation {
	l := f.Layers
	rm := l.Reliable
	me := display.Name(f.Me)
	from := f.name(rm.Sender)
	fromStation := rm.Sender.Type() == dimp.Station
	broadcast := rm.SecureMessage.IsBroadcast()
	e := Explanation{Signed: f.signedIn(), Encrypted: f.encryptedIn()}
	var content dimp.Content
	if l.Instant != nil {
		content = l.Instant.Content
	} else if broadcast {
		content = peekBroadcast(rm) // in the clear, whether verified or not
	}
	// A broadcast is labelled as one: the station pushed it to this user
	// as to everyone online. A message forwarded inside another did not
	// come by itself.
	to := me
	switch {
	case l.Forwarded:
		to = f.name(rm.Receiver) + ", inside the station's forward content to " + me
	case broadcast:
		to = f.name(rm.Receiver) + ", pushed to " + me
	}
	e.Title = f.title(rm.Sender) + " → " + to
	ack := " " + me + " ACKs the frame."
	if l.Forwarded {
		ack = " Not ACKed: it came inside the station's frame."
	}
	if errors.Is(l.OpenErr, client.ErrDuplicate) {
		if content != nil {
			e.Title += ": " + display.ContentTitle(content)
		}
		e.Step = "duplicate"
		if f.Held {
			e.Next = "Released, " + me + " finds that a copy with the same signature came before, and drops this one." + ack
			return e
		}
		e.Signed += " Not checked: a duplicate is known by its signature and dropped first."
		e.Next = "A copy with the same signature came before: " + me + " drops this one." + ack
		return e
	}
	if l.Instant == nil && !f.Held {
		// Processed and not opened: Signed or Encrypted says why.
		e.Step = "message"
		if l.VerifyErr != nil || l.OpenErr != nil {
			e.Next = "Not acknowledged: the station keeps its copy and offers it again after " + me + "'s next handshake."
		}
		return e
	}
	if content == nil {
		// Held, and not readable before it is processed.
		e.Step = "message"
		switch {
		case f.keyAsked():
			e.Next = "Released, " + me + " asks the station for " + from + "'s meta and visa (a documents query); the message waits for them."
		default:
			e.Next = "Released, " + me + " processes it: verify, decrypt, act."
		}
		return e
	}
	e.Title += ": " + display.ContentTitle(content)
	switch c := content.(type) {
	case *dimp.HandshakeCommand:
		switch c.Title {
		case dimp.HandshakeAsk:
			e.Step = "handshake Again"
			e.Encrypted = "Yes: to " + f.Know.encryptKey(f.Me, me) + ", so only " + me + " can read the session key " + display.ShortHex(c.Session) + "."
			switch {
			case f.Status.State == client.Running:
				e.Station = "Asked while " + me + " was Running: the station forgot the session (restarted or expired it); " +
					"it holds " + me + "'s messages until the new handshake."
			case c.Force:
				e.Station = "Sent with force: a message came before the handshake; the station holds it until DIM!."
			default:
				e.Station = "Checked the Hello's meta, visa and signature, and made this key for this connection."
			}
			if rm.Meta != nil {
				e.Station += " Its meta and visa are attached: " + me + " learns the station's ID and keys."
			}
			e.Next = "Restart: " + me + " sends Hello world! with this key, encrypted to the station and signed: proof that " +
				me + " holds both private keys."
			if f.Status.State == client.Running {
				e.Next += " After DIM!, " + me + " resends what the station never acknowledged."
			}
		case dimp.HandshakeOK:
			e.Step = "handshake Success"
			e.Station = "The session key matched: " + me + " is online on this connection; stored messages follow."
			e.Next = "Running: " + me + " broadcasts visa and login, sends what waited (resends what was never acknowledged), starts the keep-alive."
		default:
			e.Step = "handshake"
		}
	case *dimp.ReceiptCommand:
		e.Step = "receipt"
		e.Station, e.Next = explainReceipt(f, rm, c, fromStation)
		e.Next += ack
	case *dimp.DocumentCommand:
		e.Step = "visa"
		if c.IsQuery() {
			e.Step = "visa query"
			break
		}
		who := display.Name(c.ID)
		if broadcast {
			e.Step = "visa broadcast"
			e.Station = "Pushed " + who + "'s visa broadcast to " + me + ", as to everyone online."
		} else {
			e.Station = "Found " + who + " in its registry: its answer to " + me + "'s visa query."
		}
		e.Next = me + " checks that the meta generates " + who + "'s ID and signed the visa: " + who +
			"'s messages can be verified, and messages to " + who + " encrypted." + ack
	case *dimp.LoginCommand:
		e.Step = "login broadcast"
		e.Station = "Pushed " + display.Name(c.ID) + "'s login broadcast to " + me + ", as to everyone online."
		e.Next = me + " notes where " + display.Name(c.ID) + " was last seen; a command gets no receipt." + ack
	case *dimp.ForwardContent:
		if !fromStation {
			e.Step, e.Next = forwardStep(c, from, me)
			e.Station = forwardedNote(from, me)
			e.Next += ack
			break
		}
		e.Step = "forwarded login"
		e.Station = "Appended the user's last login to a documents answer, as dimchat's station does; the login inside is signed by that user."
		e.Next = me + " verifies the message inside with its sender's key." + ack + " The messages inside are not ACKed: the station sent only this one."
	case *dimp.TextContent:
		if fromStation {
			e.Step = "answer from the station"
			e.Station = "Answered " + me + "'s question (the users online)."
			e.Next = "The contacts are updated." + ack
			break
		}
		e.Step = "chat message"
		e.Station = cmp.Or(f.relayNote(rm, from, me), forwardedNote(from, me))
		e.Next = me + " shows it and answers " + from + " with a receipt “Message received.”." + ack
		if g := c.Group; g.IsGroup() && !g.IsBroadcast() {
			e.Step = "group message"
			e.Next = me + "'s copy of " + from + "'s message to the group " + display.Name(g) + ": " + me +
				" checks that " + from + " is a member (a group not known yet is asked of the station first, its members of its owner), " +
				"shows it in the group's conversation and answers " + from + " with “Message received.”." + ack
		}
	case *dimp.AppContent:
		e.Step = "application content (" + display.AppType(c.Type) + ")"
		e.Station = forwardedNote(from, me)
		e.Next = me + " shows it as a card and answers " + from + " with “Message received.”." + ack
	case *dimp.GroupCommand:
		e.Step = "group command “" + c.Name + "”"
		e.Station = forwardedNote(from, me)
		e.Next = me + " checks it against what it knows of " + display.Name(c.Group) + ": " + groupRule(c.Name) +
			" A command gets no receipt." + ack
	case *dimp.SearchCommand:
		e.Step = "search answer"
		e.Station = "Answered " + me + "'s search: " + display.Plural(len(c.Users), "user") + " found."
		e.Next = me + " checks that each meta generates its ID and signed the visas, learns them and lists the users." + ack
	case dimp.Command:
		e.Step = "command"
		e.Next = "A command gets no receipt." + ack
	default:
		e.Step = "message"
		e.Station = forwardedNote(from, me)
	}
	if f.Held {
		// Not processed yet: what the client will do, in its order.
		first := "Released, " + me + " verifies and opens it"
		if f.keyAsked() {
			first = "Released, " + me + " asks the station for " + from + "'s meta and visa, then verifies and opens it"
		}
		e.Next = strings.TrimSpace(first + ". " + e.Next)
	}
	return e
}

// keyAsked reports whether the sender's key was (or, held, will be) asked
// for: the client did not know it when the frame came.
func (f frameInfo) keyAsked() bool {
	l := f.Layers
	return l.KeyAsked || errors.Is(l.VerifyErr, client.ErrUnknownPeer)
}

// signedIn explains the signature of a frame received: what the client
// did with it, or for a held frame what it will do.
func (f frameInfo) signedIn() string {
	l := f.Layers
	rm := l.Reliable
	me := display.Name(f.Me)
	from := f.name(rm.Sender)
	s := "Yes: by " + f.Know.signKey(rm.Sender, from) + "."
	switch {
	case f.Held && f.keyAsked():
		return s + " Not checked yet: " + me + " does not know " + from + "'s key yet. Released, " + me +
			" asks the station for " + from + "'s meta and visa and verifies the signature once it has them."
	case f.Held && l.VerifyErr != nil:
		return s + " Not checked yet, and a look ahead says it will not verify: " +
			display.Sanitize(l.VerifyErr.Error(), false) + ". Released, " + me + " drops it."
	case f.Held && rm.Meta != nil:
		return s + " Not checked yet: released, " + me + " checks it with the meta and visa attached (the meta must generate the sender's ID)."
	case f.Held:
		return s + " Not checked yet: released, " + me + " verifies it with that key."
	case l.VerifyErr != nil:
		return s + " ✗ It does not verify: " + display.Sanitize(l.VerifyErr.Error(), false) + ". " + me + " drops the message."
	case l.Verified && l.KeyAsked:
		return s + " " + me + " did not know " + from + "'s key when it came: " + me + " asked the station for " + from +
			"'s meta and visa, and verified the signature with them once they came. ✓ Verified."
	case l.Verified && rm.Meta != nil:
		return s + " Checked with the meta and visa attached (the meta must generate the sender's ID)."
	case l.Verified:
		return s + " ✓ Verified."
	}
	return s
}

// encryptedIn explains the secure layer of a frame received.
func (f frameInfo) encryptedIn() string {
	l := f.Layers
	rm := l.Reliable
	me := display.Name(f.Me)
	if rm.SecureMessage.IsBroadcast() {
		return fmt.Sprintf("No: a broadcast to %s, readable by anyone.", rm.Receiver)
	}
	s := "Yes: the message key to " + f.Know.encryptKey(f.Me, me) + "; " + me + " opens it, then the content (AES-256-CBC)."
	if len(rm.SecureMessage.Keys) == 0 {
		s = "Yes, with the AES-256-CBC message key " + f.name(rm.Sender) + " sent " + me + " before (this message carries none)."
	}
	switch {
	case l.OpenErr == nil, errors.Is(l.OpenErr, client.ErrDuplicate):
	case f.Held:
		s += " (A look ahead could not open it yet: " + display.Sanitize(l.OpenErr.Error(), false) + ".)"
	default:
		s += " ✗ Not opened: " + display.Sanitize(l.OpenErr.Error(), false) + "."
	}
	return s
}

// peekBroadcast reads the content of a broadcast, which is in the clear,
// before its signature is checked; nil when it does not read.
func peekBroadcast(rm *dimp.ReliableMessage) dimp.Content {
	im, _, err := dimp.Decrypt(&rm.SecureMessage, rm.Receiver, nil, nil)
	if err != nil {
		return nil
	}
	return im.Content
}

func forwardedNote(from, me string) string {
	return "Forwarded unchanged (not re-signed, not readable by it); it keeps a copy until " + me +
		" acknowledges it, and told " + from + " “Message delivered.”."
}

// relayNote says how a message that crossed stations came: its traces
// name the stations that passed it on. "" for a message that did not.
func (f frameInfo) relayNote(rm *dimp.ReliableMessage, from, me string) string {
	var traces []json.RawMessage
	if rm.Extra == nil || rm.Extra.Get("traces", &traces) != nil || len(traces) == 0 {
		return ""
	}
	var names []string
	for _, t := range traces {
		var s string
		var o struct {
			DID string `json:"did"`
			ID  string `json:"ID"`
		}
		switch {
		case json.Unmarshal(t, &s) == nil:
		case json.Unmarshal(t, &o) == nil:
			s = cmp.Or(o.DID, o.ID)
		}
		if id, err := dimp.ParseID(s); err == nil {
			names = append(names, display.ShortID(id))
		}
	}
	return "Passed on by " + display.Plural(len(names), "station") + " before " + me + "'s (its “traces”: " +
		strings.Join(names, " → ") + "): " + from + "'s station passed it over a link to the next, each verified it " +
		"and stored it before the one before deleted its copy, and " + me + "'s station pushed it here unchanged, " +
		"still signed by " + from + "."
}

// explainReceipt says what a receipt means: the station's word on a
// message, or a peer's.
func explainReceipt(f frameInfo, rm *dimp.ReliableMessage, r *dimp.ReceiptCommand, fromStation bool) (station, next string) {
	me := display.Name(f.Me)
	about, receiver := "the message", "the receiver"
	if r.Origin != nil && !r.Origin.Receiver.IsZero() {
		receiver = f.name(r.Origin.Receiver)
		about = me + "'s message to " + receiver
	}
	if !fromStation {
		from := f.name(rm.Sender)
		station = "Routed " + from + "'s receipt like any message."
		if r.Text == dimp.ReceiptRead {
			return station, from + " read " + about + ": ◉."
		}
		return station, from + "'s client received " + about + ": ✓✓."
	}
	said := "“" + display.Sanitize(r.Text, false) + "”"
	if !stationRefused(r.Text) {
		station = "Says " + said + ": " + stationVerdict(r.Text, about, receiver) + "."
	}
	if mine := f.Status.Station; !mine.IsZero() && !rm.Sender.SameAs(mine) && r.Text == dimp.ReceiptDelivered {
		// Another station of the network: the receiver's.
		station = "Says " + said + ": " + f.name(rm.Sender) + " is the station " + receiver + " logged in at; it took " +
			about + " from the station before it and pushed it to " + receiver + "'s session. It signed this receipt " +
			"itself and sent it back the same way, its meta and visa attached."
		return station, "✓ stays until " + receiver + "'s client answers: ✓✓."
	}
	switch r.Text {
	case "Message redirected.":
		return station, "✓ stays; the receiver's station says “Message delivered.” when it pushes the message, " +
			"and " + receiver + "'s client answers “Message received.”: ✓✓."
	case dimp.ReceiptDelivered:
		if r.Origin != nil && originCommand(r.Origin) {
			// A receipt (or another command) gets no receipt back.
			return station, "Nothing more: a client sends no receipt for a receipt or a command."
		}
		return station, "✓ at the station; ✓✓ when " + receiver + "'s client answers."
	case dimp.ReceiptCached:
		return station, "✓ at the station; the message is delivered at " + receiver + "'s next handshake."
	case "Document received.", "Document not changed.":
		return station, "Nothing: others can fetch the visa."
	case "Document not found.":
		return station, "What waits for that visa fails: nothing can be encrypted to, or verified from, an unknown user."
	}
	if !stationRefused(r.Text) {
		return station, "Nothing."
	}
	var errText string
	if r.Extra != nil {
		var s string
		if err := r.Extra.Get("error", &s); err == nil && s != "" {
			errText = " (" + display.Sanitize(s, false) + ")"
		}
	}
	return "Refused " + about + ": " + said + errText + ".",
		"✗ the message failed; " + me + " does not send it again by itself."
}

// groupRule says, in a sentence or two, how a member's client treats a
// group command, as dimchat's clients do (client.Group.Apply).
func groupRule(name string) string {
	const bulletin = "the group's bulletin, signed by its founder (its owner) and asked of the station when unknown, names the owner and administrators."
	switch name {
	case dimp.CmdReset:
		return bulletin + " Only they set the members, the owner listed first and no administrator left out; the new list replaces the old."
	case dimp.CmdInvite:
		return bulletin + " From them the members are added; from an ordinary member it is a request, waiting for them to reset the members."
	case dimp.CmdQuit:
		return "an ordinary member leaves the list; the owner and administrators cannot quit."
	case dimp.CmdExpel:
		return "ignored: dimchat's clients replaced expel with a reset from the owner or an administrator."
	case dimp.CmdJoin:
		return "a request to join, waiting for the owner or an administrator."
	case dimp.CmdResign:
		return "an administrator steps down; the owner cannot."
	case dimp.CmdQuery:
		return "a member asking for the group's history: a member who has it answers with the group's documents and its last reset, forwarded (dimtui does not answer it yet)."
	}
	return "a command no client acts on (“Command not support.”)."
}
