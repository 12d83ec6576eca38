package client

import (
	"time"

	"dimtui/dimp"
)

// State is the state of the connection to the station (the reference's
// session state machine).
type State int

// Connection states.
const (
	Default     State = iota // not connected, not trying yet
	Connecting               // dialling the station
	Connected                // WebSocket open, handshake not started
	Handshaking              // handshake sent, waiting for DIM? / DIM!
	Running                  // handshake accepted: messages flow
	Error                    // the connection failed; a reconnect follows
)

// String names the state.
func (s State) String() string {
	switch s {
	case Default:
		return "Default"
	case Connecting:
		return "Connecting"
	case Connected:
		return "Connected"
	case Handshaking:
		return "Handshaking"
	case Running:
		return "Running"
	case Error:
		return "Error"
	}
	return "State(?)"
}

// Status is a snapshot of the connection, sent as a StatusEvent whenever a
// part of it changes.
type Status struct {
	State     State
	Handshake dimp.HandshakeState // the last handshake step, valid from Handshaking on
	Session   string              // the station's session key, once learned
	Station   dimp.ID             // the station's ID, learned from its first reply
	URL       string              // where the station is
	RTT       time.Duration       // last PING → PONG round trip; 0 until measured
	Err       error               // why the state is Error
	Since     time.Time           // when State was entered
	Attempt   int                 // reconnect attempt (0 on the first connection)
	// Remote is the client's address as the station sees it (the
	// handshake replies' remote_address), empty until known.
	Remote string
}

// Delivery is how far an outgoing message got.
type Delivery int

// Delivery states, in order. Failed is final.
const (
	Sending   Delivery = iota // queued or written, no word from the station yet
	AtStation                 // the station holds it (cached, or pushed to the receiver)
	Delivered                 // the receiver's client received it
	Read                      // the receiver read it
	Failed                    // it cannot be sent (no key for the receiver, refused)
)

// String names the delivery state.
func (d Delivery) String() string {
	switch d {
	case Sending:
		return "sending"
	case AtStation:
		return "at station"
	case Delivered:
		return "delivered"
	case Read:
		return "read"
	case Failed:
		return "failed"
	}
	return "delivery(?)"
}

// Direction of a frame.
type Direction int

// Frame directions.
const (
	In  Direction = iota // station → client
	Out                  // client → station
)

// String returns "in" or "out".
func (d Direction) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// FrameKind classifies a frame for the inspector.
type FrameKind string

// Frame kinds.
const (
	KindHandshake FrameKind = "handshake"
	KindCommand   FrameKind = "command"
	KindReceipt   FrameKind = "receipt"
	KindText      FrameKind = "text"
	KindApp       FrameKind = "app"
	KindPing      FrameKind = "ping"    // PING, PONG, NOOP, OK
	KindAck       FrameKind = "ack"     // ACK:{...}, the receiver's acknowledgement
	KindMessage   FrameKind = "message" // a message whose content could not be seen
	KindOther     FrameKind = "other"
)

// Layers is what could be opened of one message frame: the reliable message
// as it travelled, the secure layer once its signature verified, the
// instant message once decrypted; and the keys that did each step, as the
// client used them when it processed the frame (see keyuse.go).
type Layers struct {
	Reliable  *dimp.ReliableMessage // nil when the frame did not parse
	ParseErr  error
	Verified  bool  // the signature verified with the sender's key
	VerifyErr error // why it did not, or why it was not checked yet
	Instant   *dimp.InstantMessage
	OpenErr   error // why the content could not be read
	// KeyAsked: the sender's meta and visa were not known when the frame
	// came, so the client asked the station for them (a documents query)
	// and kept the message until they came; Verified then says it was
	// checked with them. Normal at a first contact, not an error.
	KeyAsked bool
	// Forwarded: the message came inside another (the station's forward
	// content, which carries a user's last login with a documents answer),
	// not as a frame of its own; it is not acknowledged.
	Forwarded bool

	// Signer is the sender's key the signature verified with (in), or
	// the user's key that made it (out); nil when it was not verified.
	Signer *KeyUse
	// MessageKey is the content's key and how the client got it; nil
	// when it was not found (or not looked for yet).
	MessageKey *MessageKey
	// Group: the frame is one member's copy of a group message, and how
	// it was made; nil otherwise.
	Group *GroupSend
}

// Event is what the client reports; the UI reads them from Events.
type Event interface{ eventTime() time.Time }

// StatusEvent reports a change of connection or handshake state.
type StatusEvent struct {
	Time   time.Time
	Status Status
}

// FrameEvent reports one frame in or out, with its raw bytes. Layers is
// nil for control frames (PING, PONG, ACK). A frame longer than
// Config.FrameHead is reported by its head: Cut is then set, and Raw and
// Layers hold only what the head shows (see shrinkFrame).
type FrameEvent struct {
	Time   time.Time
	Dir    Direction
	Raw    []byte
	Kind   FrameKind
	Layers *Layers
	Cut    *FrameCut // nil: Raw is the whole frame
	// Number is the frame's number in a session of several clients
	// (workshop.Numbers), when whoever reports the frame knows it: a
	// replay gives the number its transcript recorded. A client leaves
	// it 0; the UI numbers the frame as it first shows it.
	Number int
}

// MessageEvent reports a content received from a peer (receipts and
// protocol commands are reported by other events).
type MessageEvent struct {
	Time    time.Time
	ID      MessageID // for MarkRead
	Message *dimp.InstantMessage
	// Forwarded is what the client made of the messages inside a user's
	// forward content (0xFF), in order: each verified, and opened when it
	// was for this user.
	Forwarded []ForwardedMessage
}

// SentEvent reports a message the client accepted for sending.
type SentEvent struct {
	Time    time.Time
	ID      MessageID
	Message *dimp.InstantMessage
}

// DeliveryEvent reports that an outgoing message moved to a new state.
type DeliveryEvent struct {
	Time   time.Time
	ID     MessageID
	State  Delivery
	Detail string // the receipt text, or why it failed
	// Refused: the message was sent and the station refused it (Failed);
	// Detail is its receipt's text ("Signature not verified."). Otherwise
	// it failed on this side (no key for the receiver, a group message,
	// a search that had no answer).
	Refused bool
	// Members: a group message's delivery to each member, in the group's
	// order (nil for a message to one user). State is then the least
	// advanced member's that did not fail, and Detail sums them up.
	Members []MemberDelivery
}

// ResentEvent reports that a message the station never acknowledged is
// sent again, after a new handshake (the station restarted, expired the
// session, or the connection was lost). Tries counts this one.
type ResentEvent struct {
	Time  time.Time
	ID    MessageID
	Tries int
}

// ReceiptEvent reports a receipt received, for display beside chat lines.
type ReceiptEvent struct {
	Time    time.Time
	From    dimp.ID
	Receipt *dimp.ReceiptCommand
	// For is the message it is about, when that is one the user sent (it
	// had a SentEvent); "" for the client's own protocol messages.
	For MessageID
}

// UsersEvent reports the users online at the station (the answer to
// ActiveUsers).
type UsersEvent struct {
	Time  time.Time
	Users []dimp.ID
	// Unlisted: the station refused to say (dimchat's dimples station
	// answers "Content not support."); Users is empty.
	Unlisted bool
}

// PeerEvent reports that a peer's meta and visa became known and verified.
type PeerEvent struct {
	Time    time.Time
	Profile *dimp.Profile
}

// GroupCommandEvent reports a group command (invite, expel, join, quit,
// reset, query, hire, fire, resign) a peer sent about a group, signed by
// it, and what it did to the group as the client knows it (Group.Apply):
// a group whose bulletin is not known yet refuses it ("Group empty.")
// while its bulletin is asked for.
type GroupCommandEvent struct {
	Time    time.Time
	From    dimp.ID
	Group   dimp.ID
	Command string
	Members []dimp.ID
	Change  GroupChange
	Role    string // the sender's role before the command: owner, administrator, member, or ""
	// Now is the group as the client knows it after the command (a copy);
	// nil when its bulletin is not known.
	Now *Group
	// NoticeID names the notice the history keeps of the event in the
	// group's conversation (see GroupNotice); "" when none is kept.
	NoticeID string
}

// GroupRefusedEvent reports a message to a group from someone who is not
// one of its members, as far as the client knows them: it is not shown.
type GroupRefusedEvent struct {
	Time   time.Time
	From   dimp.ID
	Group  dimp.ID
	Reason string
}

// ErrorEvent reports a problem that did not stop the client: a message that
// failed verification, a refused frame, a peer whose visa is missing.
type ErrorEvent struct {
	Time time.Time
	Err  error
}

func (e StatusEvent) eventTime() time.Time       { return e.Time }
func (e FrameEvent) eventTime() time.Time        { return e.Time }
func (e MessageEvent) eventTime() time.Time      { return e.Time }
func (e SentEvent) eventTime() time.Time         { return e.Time }
func (e DeliveryEvent) eventTime() time.Time     { return e.Time }
func (e ReceiptEvent) eventTime() time.Time      { return e.Time }
func (e ResentEvent) eventTime() time.Time       { return e.Time }
func (e UsersEvent) eventTime() time.Time        { return e.Time }
func (e PeerEvent) eventTime() time.Time         { return e.Time }
func (e ErrorEvent) eventTime() time.Time        { return e.Time }
func (e GroupCommandEvent) eventTime() time.Time { return e.Time }
func (e GroupRefusedEvent) eventTime() time.Time { return e.Time }

// MessageID names a message for the client and the UI: the sender and the
// content's serial number, which receipts carry back.
type MessageID string

func messageID(sender dimp.ID, sn int64) MessageID {
	return MessageID(sender.WithoutTerminal().String() + "#" + itoa(sn))
}

// MessageIDOf returns the ID the events about the message im use: its
// sender's and its content's serial number, as in MessageEvent and
// SentEvent. A frame's layers name their message by it.
func MessageIDOf(im *dimp.InstantMessage) MessageID {
	return messageID(im.Sender, im.Content.Header().SN)
}
