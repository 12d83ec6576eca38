package workshop

import (
	"fmt"
	"strings"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
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

// Knowledge is what a pane learned of the keys of the entities it met,
// from its own identity and the metas and visas that went by in frames:
// the explanations name the keys that sign and encrypt. It is not safe for
// concurrent use.
type Knowledge struct {
	meta map[string]crypto.PublicKey  // by client.IDKey: the meta key (signs)
	visa map[string]crypto.EncryptKey // by client.IDKey: the visa key (message keys are encrypted to it)
}

// NewKnowledge returns a Knowledge of no key.
func NewKnowledge() *Knowledge {
	return &Knowledge{meta: map[string]crypto.PublicKey{}, visa: map[string]crypto.EncryptKey{}}
}

// LearnProfile records the keys of a meta and visa.
func (k *Knowledge) LearnProfile(id dimp.ID, meta *dimp.Meta, visa *dimp.Document) {
	if id.IsZero() {
		return
	}
	if meta != nil && meta.Key != nil {
		k.meta[client.IDKey(id)] = meta.Key
	}
	if visa != nil {
		if vk, err := visa.VisaKey(); err == nil && vk != nil {
			k.visa[client.IDKey(id)] = vk
		}
	}
}

// LearnFrame records what a frame shows: attached metas and visas, and the
// metas and visas a documents or meta command carries.
func (k *Knowledge) LearnFrame(l *client.Layers) {
	if l == nil || l.Reliable == nil {
		return
	}
	rm := l.Reliable
	if rm.Meta != nil || rm.Visa != nil {
		k.LearnProfile(rm.Sender, rm.Meta, rm.Visa)
	}
	if l.Instant == nil {
		return
	}
	switch c := l.Instant.Content.(type) {
	case *dimp.DocumentCommand:
		var visa *dimp.Document
		for _, d := range c.Documents {
			if d.DocType() == dimp.DocVisa {
				visa = d
			}
		}
		k.LearnProfile(c.ID, c.Meta, visa)
	case *dimp.MetaCommand:
		k.LearnProfile(c.ID, c.Meta, nil)
	case *dimp.ForwardContent:
		for _, inner := range c.Secrets {
			if inner.Meta != nil || inner.Visa != nil {
				k.LearnProfile(inner.Sender, inner.Meta, inner.Visa)
			}
		}
	}
}

// signKey names who signs for id and with what: "alice's meta key (secp256k1, ECDSA over SHA-256)".
func (k *Knowledge) signKey(id dimp.ID, who string) string {
	s := who + "'s meta key"
	if key := k.meta[client.IDKey(id)]; key != nil {
		s += " (" + keyLabel(key, true) + ")"
	}
	return s
}

// encryptKey names the key a message key is encrypted to: "bob's visa key (RSA-1024, PKCS#1 v1.5)".
func (k *Knowledge) encryptKey(id dimp.ID, who string) string {
	s := who + "'s visa key"
	if key := k.visa[client.IDKey(id)]; key != nil {
		s += " (" + keyLabel(key, false) + ")"
	}
	return s
}

// keyLabel names a public key's algorithm and, for signing, its scheme.
func keyLabel(k crypto.PublicKey, signing bool) string {
	switch k := k.(type) {
	case *crypto.RSAPublicKey:
		if signing {
			return fmt.Sprintf("RSA-%d, PKCS#1 v1.5/SHA-256", k.Size()*8)
		}
		return fmt.Sprintf("RSA-%d, PKCS#1 v1.5", k.Size()*8)
	case *crypto.ECCPublicKey:
		return "secp256k1, ECDSA/SHA-256"
	}
	return k.Algorithm()
}

// Frame is a frame to explain, as a client reports it (client.FrameEvent,
// client.HeldEvent).
type Frame struct {
	Dir    client.Direction
	Raw    []byte
	Kind   client.FrameKind
	Layers *client.Layers
	Held   bool // not written (out) or not processed (in) yet
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
		e.Station = "Routes it like any message, unread: checks sender and signature, stores it until " + to +
			" acknowledges it, pushes it, answers “Message delivered.” (or “Message cached.”)."
		next := "✓✓"
		if c.Text == dimp.ReceiptRead {
			next = "◉ (read)"
		}
		e.Next = "It names " + about + " by its signature: the sender's tick becomes " + next + "."
	case *dimp.DocumentCommand:
		if c.IsQuery() {
			e.Step = "visa query"
			e.Station = "Verifies the signature, looks " + display.Name(c.ID) + " up and answers with the meta and visa (and the last login), " +
				"encrypted to " + me + "; or “Document not found.”."
			e.Next = me + " checks that the meta generates " + display.Name(c.ID) + "'s ID and signed the visa; " +
				"then the messages waiting for that visa are encrypted and sent."
		} else {
			e.Step = "visa broadcast"
			e.Station = "Verifies the signature, pushes it to everyone online, checks that " + display.Name(c.ID) +
				"'s meta key signed the visa and stores it: “Document received.”."
			e.Next = "Others can now encrypt message keys to " + me + "'s visa key."
		}
	case *dimp.LoginCommand:
		e.Step = "login broadcast"
		e.Station = "Verifies the signature, pushes it to everyone online, stores the login, marks the session active: “Login received.”."
		e.Next = "Who asks for " + me + "'s visa gets this login too: where " + me + " was last seen."
	case *dimp.TextContent:
		if rm.Receiver.Type() == dimp.Station {
			e.Step = "question to the station"
			e.Station = "Decrypts it (it is the receiver); “active users” is answered with the users online."
			e.Next = "The answer comes encrypted to " + me + "."
			break
		}
		e.Step = "chat message"
		e.Station = routedChecks(me, to, checks)
		e.Next = deliveryNext(to)
		e.Encrypted += attached
	case *dimp.AppContent:
		e.Step = "application content (" + display.AppType(c.Type) + ")"
		e.Station = routedChecks(me, to, checks)
		e.Next = deliveryNext(to)
		e.Encrypted += attached
	case *dimp.SearchCommand:
		e.Step = "search"
		e.Station = "Reads the question, looks for the users whose visa name or ID contains every word" +
			" (or lists the users online) and answers with their IDs, metas and visas, encrypted to " + me +
			"; dimchat's station hands it to its search bot."
		e.Next = me + " checks and learns the profiles in the answer: a chat with a user found needs no visa query."
	case dimp.Command:
		e.Step = "command"
		if rm.Receiver.IsBroadcast() || rm.Receiver.Type() == dimp.Station {
			e.Station = "Verifies the signature and processes the command; it answers with a receipt (or “Command not support.”)."
		} else {
			e.Station = routedChecks(me, to, checks)
		}
	default:
		e.Step = "message"
		e.Station = routedChecks(me, to, checks)
		e.Next = deliveryNext(to)
	}
	return e
}

func routedChecks(me, to, checks string) string {
	return checks + ", and the time; it cannot decrypt it. Stores it until " + to + " acknowledges it, pushes it to " +
		to + " and answers " + me + " “Message delivered.” (online) or “Message cached.” (offline)."
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
	e := Explanation{Signed: "Yes: by " + f.Know.signKey(rm.Sender, from) + "."}
	switch {
	case l.VerifyErr != nil:
		e.Signed += " ✗ It does not verify: " + display.Sanitize(l.VerifyErr.Error(), false) + ". " + me + " drops the message."
	case l.Verified && rm.Meta != nil:
		e.Signed += " Checked with the meta and visa attached (the meta must generate the sender's ID)."
	case l.Verified:
		e.Signed += " ✓ Verified."
	}
	if rm.SecureMessage.IsBroadcast() {
		e.Encrypted = fmt.Sprintf("No: a broadcast to %s, readable by anyone.", rm.Receiver)
	} else {
		e.Encrypted = "Yes: the message key to " + f.Know.encryptKey(f.Me, me) + "; " + me + " opens it, then the content (AES-256-CBC)."
		if len(rm.SecureMessage.Keys) == 0 {
			e.Encrypted = "Yes, with the AES-256-CBC message key " + from + " sent " + me + " before (this message carries none)."
		}
		if l.OpenErr != nil {
			e.Encrypted += " ✗ Not opened: " + display.Sanitize(l.OpenErr.Error(), false) + "."
		}
	}
	var content dimp.Content
	if l.Instant != nil {
		content = l.Instant.Content
	}
	if content == nil {
		e.Title = f.title(rm.Sender) + " → " + me
		e.Step = "message"
		if f.Held {
			e.Next = "Released, " + me + " processes it: verify, decrypt, act."
		}
		return e
	}
	e.Title = f.title(rm.Sender) + " → " + me + ": " + display.ContentTitle(content)
	ack := " " + me + " ACKs the frame."
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
		e.Station = "Found " + display.Name(c.ID) + " in its registry (or forwards " + display.Name(c.ID) + "'s broadcast)."
		e.Next = me + " checks that the meta generates " + display.Name(c.ID) + "'s ID and signed the visa; " +
			"messages to " + display.Name(c.ID) + " can now be encrypted." + ack
	case *dimp.ForwardContent:
		e.Step = "forwarded login"
		e.Station = "Appended the user's last login to a documents answer, as dimchat's station does; the login inside is signed by that user."
		e.Next = me + " verifies the message inside with its sender's key." + ack
	case *dimp.TextContent:
		if fromStation {
			e.Step = "answer from the station"
			e.Station = "Answered " + me + "'s question (the users online)."
			e.Next = "The contacts are updated." + ack
			break
		}
		e.Step = "chat message"
		e.Station = forwardedNote(from, me)
		e.Next = me + " shows it and answers " + from + " with a receipt “Message received.”." + ack
	case *dimp.AppContent:
		e.Step = "application content (" + display.AppType(c.Type) + ")"
		e.Station = forwardedNote(from, me)
		e.Next = me + " shows it as a card and answers " + from + " with “Message received.”." + ack
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
	return e
}

func forwardedNote(from, me string) string {
	return "Forwarded unchanged (not re-signed, not readable by it); it keeps a copy until " + me +
		" acknowledges it, and told " + from + " “Message delivered.”."
}

// explainReceipt says what a receipt means: the station's word on a
// message, or a peer's.
func explainReceipt(f frameInfo, rm *dimp.ReliableMessage, r *dimp.ReceiptCommand, fromStation bool) (station, next string) {
	me := display.Name(f.Me)
	about := "the message"
	if r.Origin != nil && !r.Origin.Receiver.IsZero() {
		about = me + "'s message to " + f.name(r.Origin.Receiver)
	}
	if !fromStation {
		from := f.name(rm.Sender)
		station = "Routed " + from + "'s receipt like any message."
		if r.Text == dimp.ReceiptRead {
			return station, from + " read " + about + ": ◉."
		}
		return station, from + "'s client received " + about + ": ✓✓."
	}
	var errText string
	if r.Extra != nil {
		var s string
		if err := r.Extra.Get("error", &s); err == nil && s != "" {
			errText = " (" + display.Sanitize(s, false) + ")"
		}
	}
	switch r.Text {
	case dimp.ReceiptDelivered:
		return "Stored " + about + " and pushed it to the receiver's session.", "✓ at the station; ✓✓ when the receiver's client answers."
	case dimp.ReceiptCached:
		return "The receiver is offline: " + about + " waits in the station's store until the receiver comes back and acknowledges it.",
			"✓ at the station; the message is delivered at the receiver's next handshake."
	case "Document received.", "Document not changed.":
		return "Checked the visa's signature against the meta and stored it.", "Nothing: others can fetch the visa."
	case "Login received.":
		return "Stored the login and marked the session active.", "Nothing."
	case "Message forwarded.":
		return "Pushed the broadcast to the users online.", "Nothing."
	}
	if strings.HasSuffix(r.Text, " received.") || strings.HasSuffix(r.Text, " not found.") {
		return "Processed the command: " + display.Sanitize(r.Text, false), "Nothing."
	}
	return "Refused " + about + ": “" + display.Sanitize(r.Text, false) + "”" + errText + ".",
		"✗ the message failed; " + me + " does not send it again by itself."
}
