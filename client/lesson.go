package client

import "dimtui/dimp"

// Role is what a frame is to a lesson on the protocol. A workshop shows
// the protocol one step at a time, and most frames of a live session are
// not a step of anything the room is learning: they keep the session
// going (keep-alive, acknowledgements, visa and login broadcasts, "who is
// online"). Lesson stepping (StepLesson) lets those through and holds the
// stops; running to the next stop (the workshop's f9) goes on past the
// details and ends at the next milestone.
type Role int

// Roles, from the least to the most a lesson is about.
const (
	// Housekeeping keeps the session going and teaches nothing by itself:
	// PING, PONG, NOOP, ACK; documents and meta (a visa broadcast, a query
	// and its answer), login and report, search and "active users" (a
	// text between a user and the station itself, and its answer); the
	// station forwarding such messages; a receipt of any of these, and a
	// receipt of a receipt.
	Housekeeping Role = iota
	// Detail is part of a lesson without being a step of its own: a
	// receipt of a chat or app message ("Message delivered.", "Message
	// received.", "Message read.").
	Detail
	// Milestone is a step a lesson is about: each handshake step (Hello
	// world!, DIM?, DIM!), a chat or app message, and any frame the client
	// could not read (what is broken is the lesson).
	Milestone
)

// Stop reports whether lesson stepping holds a frame of this role.
func (r Role) Stop() bool { return r >= Detail }

// String names the role.
func (r Role) String() string {
	switch r {
	case Housekeeping:
		return "housekeeping"
	case Detail:
		return "detail"
	case Milestone:
		return "milestone"
	}
	return "Role(?)"
}

// Classify says what a frame is to a lesson, from what the client could
// open of it: its kind and layers, as a FrameEvent or HeldEvent carries
// them. It is the one place that decides which frames lesson stepping
// holds, for live clients and replays alike.
func Classify(kind FrameKind, layers *Layers) Role {
	switch kind {
	case KindPing, KindAck:
		return Housekeeping
	case KindHandshake:
		return Milestone
	case KindCommand:
		// Documents, meta, login, report, search: the handshake and
		// receipts have kinds of their own. A group command (a history
		// command, 0x89) is a step of a group lesson: found, invite,
		// expel, quit.
		if isGroupCommand(layers) {
			return Milestone
		}
		return Housekeeping
	}
	if layers == nil {
		return Milestone // not a control frame, and nothing could be read
	}
	if im := layers.Instant; im != nil {
		switch c := im.Content.(type) {
		case *dimp.HandshakeCommand:
			return Milestone
		case *dimp.ReceiptCommand:
			return receiptRole(c.Origin)
		case *dimp.ForwardContent:
			return forwardRole(c.Secrets)
		case dimp.Command:
			return Housekeeping
		}
	}
	if rm := layers.Reliable; rm != nil && (isStationID(rm.Sender) || isStationID(rm.Receiver)) {
		// A text between a user and the station itself: "active users"
		// and its answer.
		return Housekeeping
	}
	if kind == KindReceipt {
		return Detail // a receipt whose content could not be read
	}
	// A chat or app message, or a message that could not be parsed,
	// verified or decrypted.
	return Milestone
}

// isGroupCommand reports whether a command frame is a group command: by
// its content once opened, else by its type hint (DIM sends every group
// command as a history command, and nothing else as one).
func isGroupCommand(layers *Layers) bool {
	if layers == nil {
		return false
	}
	if im := layers.Instant; im != nil {
		_, ok := im.Content.(*dimp.GroupCommand)
		return ok
	}
	rm := layers.Reliable
	return rm != nil && rm.HasType && rm.Type == dimp.ContentHistory
}

// receiptRole is the role of a receipt about the message origin names:
// a detail when that was a chat or app message, housekeeping when it was
// a broadcast, a question to the station, or a command (a receipt of a
// receipt, of a visa query). A receipt that names no message is kept as
// a detail: what it is about cannot be told.
func receiptRole(origin *dimp.Origin) Role {
	if origin == nil {
		return Detail
	}
	if origin.Receiver.IsBroadcast() || isStationID(origin.Receiver) {
		return Housekeeping
	}
	if t, err := dimp.ParseContentType(origin.Type); err == nil && origin.Type != "" {
		switch t {
		case dimp.ContentCommand, dimp.ContentHistory:
			return Housekeeping
		}
	}
	return Detail
}

// forwardRole is the role of the messages a forward carries, the most a
// lesson is about among them (the station forwards a user's login with
// its visa: housekeeping). The forwarded messages are seen by their type
// hint, as they cannot be opened before the forward is processed.
func forwardRole(secrets []*dimp.ReliableMessage) Role {
	role := Housekeeping
	for _, rm := range secrets {
		if rm == nil {
			continue
		}
		role = max(role, Classify(kindOf(rm, nil), &Layers{Reliable: rm}))
	}
	return role
}

// isStationID reports whether id names a station: one with an ID of the
// station type, or any station (station@anywhere, stations@everywhere).
func isStationID(id dimp.ID) bool {
	return id.Type() == dimp.Station || id.SameAs(dimp.AnyStation) || id.SameAs(dimp.EveryStations)
}
