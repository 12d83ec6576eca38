package workshop

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/display"
)

// TranscriptVersion is the version of the transcript format written.
const TranscriptVersion = 1

// Record is one line of a transcript file (JSON Lines): an event of one
// pane's client, or the header. Event says which fields are set:
//
//   - "transcript": the header, first line: Version, Panes;
//   - "frame": a frame in or out: Number (its number in the session, the
//     one every pane and the replay show; see Numbers), Dir, Kind, Raw (the
//     frame as it travelled: a JSON object for a message, a JSON string for
//     PING, PONG and ACK), and what the client could open of it: Verified,
//     KeyAsked, Forwarded, Instant (the content in the clear), Errors, and
//     the keys that did each step (Signer, MessageKey). A frame longer
//     than 16 KB is kept by its head: Raw is the frame with its long
//     strings cut (or its first bytes, as a string), Size and SHA256 the
//     whole frame's;
//   - "status": the connection and handshake state (Status);
//   - "sent", "message": a message the user sent or received (ID, Message);
//   - "delivery": how far a sent message got (ID, State, Detail);
//   - "receipt": a receipt shown beside a message (From, For, Receipt);
//   - "resent": a message sent again after a new handshake (ID, Tries);
//   - "users": who is online (Users);
//   - "group": a group command a peer sent (From, ID: the group, Text: the
//     command, Users: the members it names);
//   - "error": a problem the client reported (Text);
//   - "notice": what the station did on purpose, in workshop mode, or in
//     the demo's network of stations (Text; From: which station, when
//     there are several).
type Record struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"`
	Pane  int       `json:"pane"`
	User  string    `json:"user,omitempty"` // the pane's user ID

	// Header.
	Version int              `json:"version,omitempty"`
	Panes   []TranscriptPane `json:"panes,omitempty"`

	// Frames.
	Number      int             `json:"number,omitempty"`
	Dir         string          `json:"dir,omitempty"`
	Kind        string          `json:"kind,omitempty"`
	Raw         json.RawMessage `json:"raw,omitempty"`
	Verified    bool            `json:"verified,omitempty"`
	KeyAsked    bool            `json:"key_asked,omitempty"`
	Forwarded   bool            `json:"forwarded,omitempty"`
	Instant     json.RawMessage `json:"instant,omitempty"`
	ParseError  string          `json:"parse_error,omitempty"`
	VerifyError string          `json:"verify_error,omitempty"`
	OpenError   string          `json:"open_error,omitempty"`
	Size        int             `json:"size,omitempty"`   // of the whole frame, when Raw is its head
	SHA256      string          `json:"sha256,omitempty"` // of the whole frame, hex, when Raw is its head

	// Signer and MessageKey are the keys the frame was signed or verified,
	// and sealed or opened, with (see keys.go).
	Signer     *KeyRecord        `json:"signer,omitempty"`
	MessageKey *MessageKeyRecord `json:"message_key,omitempty"`
	// GroupCopy: the frame is one member's copy of a group message.
	GroupCopy *GroupCopyRecord `json:"group_copy,omitempty"`

	Status *StatusRecord `json:"status,omitempty"`

	// A group command: the sender's role and what it did (keys.go).
	Role   string             `json:"role,omitempty"`
	Change *GroupChangeRecord `json:"change,omitempty"`

	ID      string          `json:"id,omitempty"`
	Message json.RawMessage `json:"message,omitempty"`
	State   string          `json:"state,omitempty"`
	Detail  string          `json:"detail,omitempty"`
	// Members: a group message's delivery to each member.
	Members []MemberRecord  `json:"members,omitempty"`
	From    string          `json:"from,omitempty"`
	For     string          `json:"for,omitempty"`
	Receipt json.RawMessage `json:"receipt,omitempty"`
	Tries   int             `json:"tries,omitempty"`
	Users   []string        `json:"users,omitempty"`
	// Unlisted: the station refused to say who is online.
	Unlisted bool   `json:"unlisted,omitempty"`
	Text     string `json:"text,omitempty"`
}

// TranscriptPane names a pane of the transcript: its number and user.
type TranscriptPane struct {
	Pane int    `json:"pane"`
	User string `json:"user"`
}

// StatusRecord is a client.Status in a transcript.
type StatusRecord struct {
	State     string  `json:"state"`
	Handshake string  `json:"handshake"`
	Session   string  `json:"session,omitempty"`
	Station   string  `json:"station,omitempty"`
	URL       string  `json:"url,omitempty"`
	Remote    string  `json:"remote,omitempty"`
	RTTMillis float64 `json:"rtt_ms,omitempty"`
	Error     string  `json:"error,omitempty"`
	Attempt   int     `json:"attempt,omitempty"`
}

// What a transcript keeps is bounded by bytes, as what the UI keeps: a
// peer can send messages of a megabyte as fast as the connection carries
// them. The oldest records go first; a frame, a text or a value too long
// for anyone to read is kept by its head, with a mark of what was left out.
const (
	// maxRecords bounds a transcript in memory, with transcriptBytes; past
	// either the oldest tenth goes.
	maxRecords = 200_000

	// transcriptBytes bounds the transcript kept for /export: some 10,000
	// frames with their explanations, hours of a workshop.
	transcriptBytes = 32 << 20

	// maxKeptFrame: a longer frame is kept by its head, its size and its
	// SHA-256 (client.FrameEvent.Shrunk), as the client reports it.
	maxKeptFrame = client.DefaultFrameHead

	// maxKeptText is the most of one message's text a record keeps, as
	// much as a conversation of the UI keeps.
	maxKeptText = 16 << 10

	// maxKeptValue bounds one JSON string of the receipts and errors
	// recorded (a signature or a key is shorter).
	maxKeptValue = 4 << 10
)

// Recorder keeps the transcript of a workshop session: every event of
// every pane, in the order the UI handled them (the order frames are
// numbered in), and for each frame its explanation as it went by (for the
// Markdown account), within a budget of bytes. It also notes which frame
// answered which message sent (a receipt names the message by its
// signature), so that the account says what the station really answered.
// It is not safe for concurrent use: the UI records from its own
// goroutine, and Snapshot copies what to write out of it.
type Recorder struct {
	entries  []recEntry
	panes    []TranscriptPane
	cut      int // records dropped to stay under maxRecords and maxBytes
	bytes    int // the cost of entries
	maxBytes int

	sent    map[sentKey]int  // the number of each message sent, by pane and signature
	answers map[int][]Answer // the receipts for a message sent, by its number
}

type recEntry struct {
	rec  Record
	expl *Explanation // frames only
	cost int          // the bytes it holds, and some
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{maxBytes: transcriptBytes, sent: map[sentKey]int{}, answers: map[int][]Answer{}}
}

// measure is about what an entry holds: its texts and raw JSON, and the
// structures around them.
func (e *recEntry) measure() int {
	r := &e.rec
	n := 256 + len(r.Raw) + len(r.Instant) + len(r.Message) + len(r.Receipt) + len(r.Text) + len(r.Detail) +
		len(r.ParseError) + len(r.VerifyError) + len(r.OpenError) + len(r.ID) + len(r.From) + len(r.For)
	for _, u := range r.Users {
		n += len(u) + 16
	}
	if x := e.expl; x != nil {
		n += len(x.Title) + len(x.Step) + len(x.Signed) + len(x.Encrypted) + len(x.Station) + len(x.Next)
	}
	return n
}

// register names a pane in the transcript's header, the first time it is
// seen.
func (r *Recorder) register(pane int, me dimp.ID) {
	for _, tp := range r.panes {
		if tp.Pane == pane {
			return
		}
	}
	// In the order of the panes, whichever spoke first.
	i, _ := slices.BinarySearchFunc(r.panes, pane, func(tp TranscriptPane, p int) int { return cmp.Compare(tp.Pane, p) })
	r.panes = slices.Insert(r.panes, i, TranscriptPane{Pane: pane, User: me.String()})
}

func (r *Recorder) add(e recEntry) {
	e.cost = e.measure()
	r.entries = append(r.entries, e)
	r.bytes += e.cost
	if len(r.entries) > maxRecords || r.bytes > r.maxBytes {
		// Down to nine tenths of both bounds at once, so that a full
		// transcript is not copied on every event.
		n := 0
		for n < len(r.entries)-1 && (len(r.entries)-n > maxRecords-maxRecords/10 || r.bytes > r.maxBytes-r.maxBytes/10) {
			r.bytes -= r.entries[n].cost
			n++
		}
		r.entries = append(r.entries[:0:0], r.entries[n:]...)
		r.cut += n
		r.forgetAnswers()
	}
}

// Notice records what the station did on purpose, as a pane showed it:
// pane is the pane's number, me its user (a notice for every user is
// recorded once for each pane).
func (r *Recorder) Notice(pane int, me dimp.ID, n StationNotice) {
	r.register(pane, me)
	r.add(recEntry{rec: Record{Time: n.Time, Event: "notice", Pane: pane, User: me.String(), Text: n.Text, From: n.Station}})
}

// Observe records one client event of a pane (its number and whose eyes
// it sees through); a frame is explained with what the pane knows before
// it handles the frame. Held and released frames and peers are not
// recorded: the frame itself is, when it goes by.
func (r *Recorder) Observe(pane int, v Viewpoint, ev client.Event) {
	r.register(pane, v.Me)
	rec := Record{Pane: pane, User: v.Me.String()}
	var expl *Explanation
	switch ev := ev.(type) {
	case client.FrameEvent:
		ev = ev.Shrunk(maxKeptFrame)
		rec.Time, rec.Event = ev.Time, "frame"
		fillFrame(&rec, ev.Dir, ev.Raw, ev.Kind, ev.Layers)
		if ev.Cut != nil {
			rec.Size, rec.SHA256 = ev.Cut.Size, hex.EncodeToString(ev.Cut.SHA256[:])
		}
		rec.Number = ev.Number
		e := v.Explain(Frame{Dir: ev.Dir, Raw: ev.Raw, Kind: ev.Kind, Layers: ev.Layers})
		expl = &e
		r.noteAnswers(pane, ev)
	case client.StatusEvent:
		rec.Time, rec.Event = ev.Time, "status"
		rec.Status = statusRecord(ev.Status)
	case client.SentEvent:
		rec.Time, rec.Event, rec.ID = ev.Time, "sent", string(ev.ID)
		rec.Message = keptJSON(marshalInstant(ev.Message), maxKeptText)
	case client.MessageEvent:
		rec.Time, rec.Event, rec.ID = ev.Time, "message", string(ev.ID)
		rec.Message = keptJSON(marshalInstant(ev.Message), maxKeptText)
	case client.DeliveryEvent:
		rec.Time, rec.Event, rec.ID, rec.State, rec.Detail = ev.Time, "delivery", string(ev.ID), ev.State.String(), ev.Detail
		for _, m := range ev.Members[:min(len(ev.Members), maxRecipients)] {
			rec.Members = append(rec.Members, MemberRecord{Member: m.Member.String(), State: m.State.String(),
				Detail: client.KeptText(m.Detail, maxKeptValue)})
		}
	case client.ReceiptEvent:
		rec.Time, rec.Event, rec.From, rec.For = ev.Time, "receipt", ev.From.String(), string(ev.For)
		if ev.Receipt != nil {
			rec.Receipt = keptJSON(dimp.MarshalContent(ev.Receipt), maxKeptValue)
		}
	case client.ResentEvent:
		rec.Time, rec.Event, rec.ID, rec.Tries = ev.Time, "resent", string(ev.ID), ev.Tries
	case client.UsersEvent:
		rec.Time, rec.Event, rec.Unlisted = ev.Time, "users", ev.Unlisted
		rec.Users = []string{}
		for _, u := range ev.Users {
			rec.Users = append(rec.Users, u.String())
		}
	case client.GroupCommandEvent:
		rec.Time, rec.Event, rec.From, rec.ID = ev.Time, "group", ev.From.String(), ev.Group.String()
		rec.Text = client.KeptText(ev.Command, maxKeptValue)
		rec.Role, rec.Change = ev.Role, groupChangeRecord(ev.Change)
		for _, m := range ev.Members {
			rec.Users = append(rec.Users, m.String())
		}
	case client.ErrorEvent:
		rec.Time, rec.Event = ev.Time, "error"
		if ev.Err != nil {
			rec.Text = client.KeptText(ev.Err.Error(), maxKeptValue)
		}
	default:
		return // held and released frames, peers: not part of the story
	}
	r.add(recEntry{rec: rec, expl: expl})
}

// fillFrame puts a frame and its layers in a record.
func fillFrame(rec *Record, dir client.Direction, raw []byte, kind client.FrameKind, l *client.Layers) {
	rec.Dir, rec.Kind = dir.String(), string(kind)
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed) && !bytes.ContainsAny(trimmed, "\r\n") {
		rec.Raw = json.RawMessage(trimmed)
	} else {
		rec.Raw, _ = json.Marshal(string(raw)) // a string always marshals
	}
	if l == nil {
		return
	}
	rec.Verified, rec.KeyAsked, rec.Forwarded = l.Verified, l.KeyAsked, l.Forwarded
	rec.Signer, rec.MessageKey = keyRecord(l.Signer), messageKeyRecord(l.MessageKey)
	if g := l.Group; g != nil {
		rec.GroupCopy = &GroupCopyRecord{Group: g.Group.String(), Member: g.Member.String(), Members: g.Members, Once: g.Once}
	}
	if l.Instant != nil {
		rec.Instant = marshalInstant(l.Instant)
	}
	if l.ParseErr != nil {
		rec.ParseError = l.ParseErr.Error()
	}
	if l.VerifyErr != nil {
		rec.VerifyError = l.VerifyErr.Error()
	}
	if l.OpenErr != nil {
		rec.OpenError = l.OpenErr.Error()
	}
}

// keptJSON is raw with its strings longer than limit cut (see
// client.ShrinkJSON); raw itself when it has none.
func keptJSON(raw json.RawMessage, limit int) json.RawMessage {
	if len(raw) <= limit {
		return raw
	}
	if small, ok := client.ShrinkJSON(raw, limit); ok {
		return small
	}
	return raw
}

func marshalInstant(im *dimp.InstantMessage) json.RawMessage {
	if im == nil {
		return nil
	}
	b, err := im.MarshalJSON()
	if err != nil {
		return nil
	}
	return b
}

func statusRecord(s client.Status) *StatusRecord {
	r := &StatusRecord{State: s.State.String(), Handshake: s.Handshake.String(), Session: s.Session, URL: s.URL,
		Remote: s.Remote, RTTMillis: float64(s.RTT.Microseconds()) / 1000, Attempt: s.Attempt}
	if !s.Station.IsZero() {
		r.Station = s.Station.String()
	}
	if s.Err != nil {
		r.Error = s.Err.Error()
	}
	return r
}

// Recording is a copy of what a Recorder kept, to write out of the UI's
// goroutine.
type Recording struct {
	entries []recEntry
	panes   []TranscriptPane
	cut     int
	answers map[int][]Answer
}

// Snapshot copies the entries in the order the UI handled them, which is
// the order their frames were numbered in: two panes' events may come a
// little out of time with each other, but frame 12 comes after frame 11
// (a held frame, numbered when it was held, comes when it was processed).
func (r *Recorder) Snapshot() *Recording {
	answers := make(map[int][]Answer, len(r.answers))
	for n, as := range r.answers {
		answers[n] = append([]Answer(nil), as...)
	}
	return &Recording{entries: append([]recEntry(nil), r.entries...), panes: append([]TranscriptPane(nil), r.panes...),
		cut: r.cut, answers: answers}
}

// Frames counts the frames recorded.
func (t *Recording) Frames() int {
	n := 0
	for _, e := range t.entries {
		if e.rec.Event == "frame" {
			n++
		}
	}
	return n
}

// WriteFiles writes the transcript as base.jsonl (every record, for
// `dimtui replay`) and base.md (a readable account).
func (t *Recording) WriteFiles(base string) error {
	var jl, md bytes.Buffer
	if err := t.writeJSONL(&jl); err != nil {
		return err
	}
	t.writeMarkdown(&md, base+".jsonl")
	if err := os.WriteFile(base+".jsonl", jl.Bytes(), 0o600); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.WriteFile(base+".md", md.Bytes(), 0o600); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// writeJSONL writes the header and one record a line.
func (t *Recording) writeJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	start := time.Now()
	if len(t.entries) > 0 {
		start = t.entries[0].rec.Time
	}
	if err := enc.Encode(Record{Time: start, Event: "transcript", Version: TranscriptVersion, Panes: t.panes}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, e := range t.entries {
		if err := enc.Encode(e.rec); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// writeMarkdown writes a readable account: each message frame as a
// section that explains it, the rest as one line each.
func (t *Recording) writeMarkdown(w *bytes.Buffer, jsonl string) {
	names := map[int]string{}
	var who []string
	for _, p := range t.panes {
		id, err := dimp.ParseID(p.User)
		name := p.User
		if err == nil {
			name = display.Name(id)
		}
		names[p.Pane] = name
		who = append(who, fmt.Sprintf("%s (`%s`)", mdText(name), p.User))
	}
	fmt.Fprintf(w, "# dimtui transcript\n\n")
	if len(t.entries) > 0 {
		first, last := t.entries[0].rec.Time, t.entries[0].rec.Time
		for _, e := range t.entries {
			first, last = minTime(first, e.rec.Time), maxTime(last, e.rec.Time)
		}
		fmt.Fprintf(w, "Recorded %s to %s UTC", first.UTC().Format("2006-01-02 15:04:05"), last.UTC().Format("15:04:05"))
	} else {
		fmt.Fprintf(w, "Nothing recorded")
	}
	fmt.Fprintf(w, " · %s: %s · %s.\n\n", display.Plural(len(t.panes), "client"), strings.Join(who, ", "), display.Plural(t.Frames(), "frame"))
	if t.cut > 0 {
		fmt.Fprintf(w, "The oldest %d events were left out to keep the transcript in memory bounded.\n\n", t.cut)
	}
	fmt.Fprintf(w, "Every DIM message is explained as it went by: what is signed, what is encrypted and to whom, "+
		"what the station checks and answered, what comes next. Frames are numbered in the order the program showed "+
		"them, across all clients, as its inspectors and step-through panel numbered them. "+
		"`%s` has every frame in full; `dimtui replay %s` plays it back with the same numbers.\n\n",
		jsonl, jsonl)
	n := 0
	lastStatus := map[int]string{}
	sent := map[string]string{} // the user's messages, by ID: what they said
	for _, e := range t.entries {
		if e.rec.Event == "sent" {
			if im, err := dimp.ParseInstantMessage(e.rec.Message); err == nil && im.Content != nil {
				sent[e.rec.ID] = display.ContentTitle(im.Content)
			}
		}
	}
	for _, e := range t.entries {
		r := e.rec
		name := names[r.Pane]
		at := r.Time.UTC().Format("15:04:05.000")
		switch r.Event {
		case "frame":
			if e.expl == nil {
				continue
			}
			n++
			if r.Number > 0 {
				n = r.Number
			}
			x := e.expl.Answered(t.answers[r.Number])
			if len(r.Raw) > 0 && r.Raw[0] == '"' {
				fmt.Fprintf(w, "- %s · #%d %s (%s)\n", at, n, mdText(x.Title), mdText(x.Step))
				continue
			}
			fmt.Fprintf(w, "\n### %d. %s · %s\n\n", n, at, mdText(x.Title))
			size := display.Size(len(r.Raw))
			if r.Size > 0 {
				size = display.Size(r.Size)
			}
			if x.Step != "" {
				fmt.Fprintf(w, "*%s* · %s, %s %s\n\n", mdText(x.Step), r.Kind, size, r.Dir)
			}
			if r.Size > 0 {
				fmt.Fprintf(w, "Only the head of this frame was kept (%s of %s, SHA-256 `%s`); long values are cut.\n\n",
					display.Size(len(r.Raw)), size, mdText(r.SHA256))
			}
			for _, s := range x.Sections() {
				fmt.Fprintf(w, "- **%s:** %s\n", s[0], mdText(s[1]))
			}
			fmt.Fprintf(w, "\n<details><summary>the frame</summary>\n\n```json\n%s\n```\n</details>\n\n", indentJSON(r.Raw))
		case "status":
			s := r.Status
			if s == nil {
				continue
			}
			line := s.State
			if s.State == "Handshaking" || s.State == "Running" {
				line += ", handshake " + s.Handshake
			}
			if s.Error != "" {
				line += " (" + s.Error + ")"
			}
			if lastStatus[r.Pane] == line {
				continue
			}
			lastStatus[r.Pane] = line
			fmt.Fprintf(w, "- %s · **%s** is %s\n", at, mdText(name), mdText(line))
		case "sent", "message":
			im, err := dimp.ParseInstantMessage(r.Message)
			if err != nil || im.Content == nil {
				continue
			}
			verb := "sent"
			if r.Event == "message" {
				verb = "received from " + display.Name(im.Sender)
			} else {
				verb += " to " + display.Name(im.Receiver)
			}
			fmt.Fprintf(w, "- %s · **%s** %s: %s\n", at, mdText(name), mdText(verb), mdText(display.ContentTitle(im.Content)))
		case "delivery":
			what, ok := sent[r.ID]
			if r.State == "sending" || !ok {
				continue // the client's own protocol messages are in the frames
			}
			detail := ""
			if r.Detail != "" {
				detail = " (" + r.Detail + ")"
			}
			fmt.Fprintf(w, "- %s · %s's %s: **%s**%s\n", at, mdText(name), mdText(what), mdText(r.State), mdText(detail))
		case "resent":
			fmt.Fprintf(w, "- %s · %s resent %s (try %d): the station never acknowledged it\n", at, mdText(name),
				mdText(sent[r.ID]), r.Tries)
		case "error":
			fmt.Fprintf(w, "- %s · %s: ✗ %s\n", at, mdText(name), mdText(r.Text))
		case "notice":
			if r.From != "" {
				fmt.Fprintf(w, "- %s · %s: ▲ station %s: %s\n", at, mdText(name), mdText(r.From), mdText(r.Text))
			} else {
				fmt.Fprintf(w, "- %s · %s: ▲ the station %s\n", at, mdText(name), mdText(r.Text))
			}
		case "group":
			fmt.Fprintf(w, "- %s · %s received from %s the group command “%s” for %s%s\n", at, mdText(name),
				mdText(shortName(r.From)), mdText(r.Text), mdText(shortName(r.ID)), mdText(membersText(r.Users)))
		}
	}
}

// shortName is an ID's name as the UI shows it; the text itself when it
// is not an ID.
func shortName(s string) string {
	if id, err := dimp.ParseID(s); err == nil {
		return display.Name(id)
	}
	return s
}

// membersText lists the members a group command names, after a colon.
func membersText(users []string) string {
	if len(users) == 0 {
		return ""
	}
	names := make([]string, 0, min(len(users), 8))
	for _, u := range users[:min(len(users), 8)] {
		names = append(names, shortName(u))
	}
	text := ": " + strings.Join(names, ", ")
	if n := len(users) - 8; n > 0 {
		text += fmt.Sprintf(" and %d more", n)
	}
	return text
}

// mdText makes text from the network safe in Markdown prose: no control
// characters, no HTML.
func mdText(s string) string {
	s = display.Sanitize(s, false)
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "`", "'").Replace(s)
}

// indentJSON indents a frame for a code block (a control frame stays a
// string).
func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return display.Sanitize(string(raw), true)
	}
	return strings.ReplaceAll(display.Sanitize(b.String(), true), "```", "'''")
}

// Transcript is a transcript read back: its panes and records in order.
type Transcript struct {
	Panes   []TranscriptPane
	Records []Record
}

// maxTranscriptLine bounds one line of a transcript read back; /export
// writes lines of a few kilobytes (frames over 16 KB are cut).
const maxTranscriptLine = 16 << 20

// TranscriptError is a line of a transcript file that cannot be read:
// not JSON, or a record whose fields do not make the event it names.
type TranscriptError struct {
	Line int // from 1
	Err  error
}

func (e *TranscriptError) Error() string { return fmt.Sprintf("transcript line %d: %v", e.Line, e.Err) }

func (e *TranscriptError) Unwrap() error { return e.Err }

// errUnknownRecord marks a record of an event this version does not know
// (a later dimtui's): it is kept, and the replay passes over it.
var errUnknownRecord = errors.New("unknown record")

// ReadTranscript reads a JSON Lines transcript written by /export. Each
// record is checked as the replay will read it: a line that is not JSON,
// or whose record does not make the event it names, is a *TranscriptError
// that gives its line.
func ReadTranscript(r io.Reader) (*Transcript, error) {
	t := &Transcript{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxTranscriptLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, &TranscriptError{Line: line, Err: err}
		}
		switch rec.Event {
		case "transcript":
			if rec.Version > TranscriptVersion {
				return nil, &TranscriptError{Line: line, Err: fmt.Errorf("version %d: this dimtui reads up to %d",
					rec.Version, TranscriptVersion)}
			}
			t.Panes = append(t.Panes, rec.Panes...)
			continue
		case "notice":
		default:
			if _, err := rec.ClientEvent(); err != nil && !errors.Is(err, errUnknownRecord) {
				return nil, &TranscriptError{Line: line, Err: err}
			}
		}
		t.Records = append(t.Records, rec)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("longer than %d MB", maxTranscriptLine>>20)
		}
		return nil, &TranscriptError{Line: line + 1, Err: err}
	}
	// Panes named only by their records (a header lost in an edit).
	known := map[int]bool{}
	for _, p := range t.Panes {
		known[p.Pane] = true
	}
	for _, rec := range t.Records {
		if !known[rec.Pane] {
			known[rec.Pane] = true
			t.Panes = append(t.Panes, TranscriptPane{Pane: rec.Pane, User: rec.User})
		}
	}
	if len(t.Panes) == 0 {
		return nil, errors.New("transcript: no events")
	}
	return t, nil
}

// ClientEvent turns a record back into the client event it was made from.
// A station notice is not a client event (the replay shows it otherwise);
// a record of an event this version does not know (ReadTranscript keeps
// it: a later version may write it) is an error too.
func (rec Record) ClientEvent() (client.Event, error) {
	switch rec.Event {
	case "frame":
		ev := client.FrameEvent{Time: rec.Time, Kind: client.FrameKind(rec.Kind), Number: rec.Number}
		if rec.Dir == "in" {
			ev.Dir = client.In
		} else {
			ev.Dir = client.Out
		}
		if rec.Size != 0 || rec.SHA256 != "" {
			sum, err := hex.DecodeString(rec.SHA256)
			if err != nil || len(sum) != sha256.Size || rec.Size <= 0 {
				return nil, fmt.Errorf("frame record: size %d, sha256 %q: want a size and 64 hex digits", rec.Size, rec.SHA256)
			}
			ev.Cut = &client.FrameCut{Size: rec.Size}
			copy(ev.Cut.SHA256[:], sum)
		}
		var s string
		if len(rec.Raw) > 0 && rec.Raw[0] == '"' && json.Unmarshal(rec.Raw, &s) == nil {
			ev.Raw = []byte(s)
		} else {
			ev.Raw = append([]byte(nil), rec.Raw...)
		}
		if ev.Kind == client.KindPing || ev.Kind == client.KindAck {
			return ev, nil
		}
		l := &client.Layers{Verified: rec.Verified, KeyAsked: rec.KeyAsked, Forwarded: rec.Forwarded,
			Signer: rec.Signer.keyUse(), MessageKey: rec.MessageKey.messageKey(), Group: rec.GroupCopy.groupSend()}
		if rm, err := dimp.ParseReliableMessage(ev.Raw); err == nil {
			l.Reliable = rm
		} else {
			l.ParseErr = err
		}
		if len(rec.Instant) > 0 {
			if im, err := dimp.ParseInstantMessage(rec.Instant); err == nil {
				l.Instant = im
			}
		}
		for _, e := range []struct {
			text string
			dst  *error
		}{{rec.ParseError, &l.ParseErr}, {rec.VerifyError, &l.VerifyErr}, {rec.OpenError, &l.OpenErr}} {
			if e.text != "" {
				*e.dst = errors.New(e.text)
			}
		}
		if rec.OpenError == client.ErrDuplicate.Error() {
			l.OpenErr = client.ErrDuplicate // not a failure: the explanations tell it apart
		}
		ev.Layers = l
		return ev, nil
	case "status":
		if rec.Status == nil {
			return nil, errors.New("status record without a status")
		}
		return client.StatusEvent{Time: rec.Time, Status: rec.Status.status()}, nil
	case "sent", "message":
		im, err := dimp.ParseInstantMessage(rec.Message)
		if err != nil {
			return nil, fmt.Errorf("%s record: %w", rec.Event, err)
		}
		if rec.Event == "sent" {
			return client.SentEvent{Time: rec.Time, ID: client.MessageID(rec.ID), Message: im}, nil
		}
		return client.MessageEvent{Time: rec.Time, ID: client.MessageID(rec.ID), Message: im}, nil
	case "delivery":
		d, ok := parseDelivery(rec.State)
		if !ok {
			return nil, fmt.Errorf("delivery state %q", rec.State)
		}
		ev := client.DeliveryEvent{Time: rec.Time, ID: client.MessageID(rec.ID), State: d, Detail: rec.Detail}
		for _, m := range rec.Members[:min(len(rec.Members), maxRecipients)] {
			id, err := dimp.ParseID(m.Member)
			state, ok := parseDelivery(m.State)
			if err == nil && ok {
				ev.Members = append(ev.Members, client.MemberDelivery{Member: id, State: state, Detail: m.Detail})
			}
		}
		return ev, nil
	case "receipt":
		ev := client.ReceiptEvent{Time: rec.Time, For: client.MessageID(rec.For)}
		if id, err := dimp.ParseID(rec.From); err == nil {
			ev.From = id
		}
		if len(rec.Receipt) > 0 {
			c, err := dimp.ParseContent(rec.Receipt)
			if err != nil {
				return nil, fmt.Errorf("receipt record: %w", err)
			}
			if r, ok := c.(*dimp.ReceiptCommand); ok {
				ev.Receipt = r
			}
		}
		return ev, nil
	case "resent":
		return client.ResentEvent{Time: rec.Time, ID: client.MessageID(rec.ID), Tries: rec.Tries}, nil
	case "users":
		ev := client.UsersEvent{Time: rec.Time, Unlisted: rec.Unlisted}
		for _, u := range rec.Users {
			if id, err := dimp.ParseID(u); err == nil {
				ev.Users = append(ev.Users, id)
			}
		}
		return ev, nil
	case "error":
		return client.ErrorEvent{Time: rec.Time, Err: errors.New(rec.Text)}, nil
	case "group":
		from, err1 := dimp.ParseID(rec.From)
		group, err2 := dimp.ParseID(rec.ID)
		if err := errors.Join(err1, err2); err != nil || !group.IsGroup() || rec.Text == "" {
			return nil, fmt.Errorf("group record: from %q, group %q, command %q: %w", rec.From, rec.ID, rec.Text, err)
		}
		ev := client.GroupCommandEvent{Time: rec.Time, From: from, Group: group, Command: rec.Text, Role: rec.Role,
			Change: rec.Change.change()}
		for _, u := range rec.Users {
			if id, err := dimp.ParseID(u); err == nil {
				ev.Members = append(ev.Members, id)
			}
		}
		return ev, nil
	}
	return nil, fmt.Errorf("%w %q", errUnknownRecord, rec.Event)
}

// status turns a status record back into a client.Status.
func (r *StatusRecord) status() client.Status {
	s := client.Status{State: parseState(r.State), Handshake: parseHandshake(r.Handshake), Session: r.Session, URL: r.URL,
		Remote: r.Remote, RTT: time.Duration(r.RTTMillis * float64(time.Millisecond)), Attempt: r.Attempt}
	if id, err := dimp.ParseID(r.Station); err == nil {
		s.Station = id
	}
	if r.Error != "" {
		s.Err = errors.New(r.Error)
	}
	return s
}

func parseState(s string) client.State {
	for st := client.Default; st <= client.Error; st++ {
		if st.String() == s {
			return st
		}
	}
	return client.Default
}

func parseHandshake(s string) dimp.HandshakeState {
	for h := dimp.HandshakeStart; h <= dimp.HandshakeSuccess; h++ {
		if h.String() == s {
			return h
		}
	}
	return dimp.HandshakeStart
}

func parseDelivery(s string) (client.Delivery, bool) {
	for d := client.Sending; d <= client.Failed; d++ {
		if d.String() == s {
			return d, true
		}
	}
	return 0, false
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
