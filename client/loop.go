package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"dimtui/dimp"
)

// outgoing is a message the user sent, from queued to read.
type outgoing struct {
	id  MessageID
	im  *dimp.InstantMessage
	rm  *dimp.ReliableMessage // nil until sealed
	raw []byte
	// layers are what its FrameEvents carry, with the keys it was sealed
	// with: it may be written again after a reconnect, sealed once.
	layers *Layers
	sig    string
	state  Delivery
	seq    int  // order of sending, for resends oldest first
	user   bool // the UI sent it (and had a SentEvent)
	tries  int  // how many times it was written (or held to be)

	// A group message (groupsend.go) is sent as copies, one per member;
	// each copy knows its parent and member, and its own delivery.
	copies  []*outgoing
	carries *outgoing // a forward to a group's bot: the group message it carries
	parent  *outgoing
	member  dimp.ID
	viaBot  bool   // a copy the group's bot sends
	detail  string // a copy's receipt text, or why it failed
	refused bool
}

// incoming is a message received, kept for MarkRead: who sent it and what
// the read receipt names, not the message itself (which may be a megabyte).
type incoming struct {
	sender dimp.ID
	origin *dimp.Origin
}

// held is a message waiting for its sender's visa before it can be verified.
type held struct {
	raw    []byte
	rm     *dimp.ReliableMessage
	layers *Layers
	since  time.Time
	outer  bool // sent by the station itself, not forwarded inside another
}

// loop owns all of a client's state; only its goroutine touches it.
type loop struct {
	c      *Client
	ctx    context.Context
	packer *dimp.Packer

	conn           *conn
	state          State
	since          time.Time
	hs             dimp.HandshakeState
	session        string
	station        dimp.ID
	stationProfile *dimp.Profile
	err            error
	attempt        int
	retryAt        time.Time // when to reconnect, in Error/Default
	pingAt         time.Time // when the last PING went out (zero: none pending)
	nextPing       time.Time
	rtt            time.Duration
	remote         string

	peers         map[string]*dimp.Profile
	queries       map[string]time.Time        // visa queries in flight, by peer
	groups        map[string]*Group           // groups whose bulletin verified, by ID
	groupWaiting  map[string][]groupCommandIn // commands for groups whose bulletin is asked for
	groupHeld     map[string][]MessageEvent   // messages to groups whose bulletin is asked for
	groupLogs     map[string]*groupLog        // the history a member passes on, by group
	groupAsked    map[string]time.Time        // when a group's members were last asked for
	noticeSeq     int                         // numbers the notices (group, profile) of this run
	loadingGroups bool                        // the groups of an earlier run are being read back
	waitOut       map[string][]*outgoing      // messages waiting for a peer's visa
	waitIn        map[string][]*held          // messages waiting for their sender's visa
	heldBytes     int                         // the bytes of the messages in waitIn
	outbox        map[MessageID]*outgoing     // messages sent and not settled yet, by ID
	bySig         map[string]*outgoing        // the same, by signature
	inbox         map[MessageID]*incoming     // messages received, for MarkRead
	inOrder       []MessageID                 // inbox in arrival order, to bound it
	attached      map[string]bool             // peers that were sent our meta and visa
	usersAsk      MessageID                   // the "active users" question waiting for its answer
	usersUnlisted bool                        // the station refused that question this session
	searches      searches                    // searches waiting for their answers (search.go)
	seen          *sigSet                     // signatures already processed
	seq           int
	soc           social // block and mute lists, names, documents' ages, contacts (social.go)

	// Step-through (step.go): frames held until the presenter releases them.
	step      StepMode
	gate      []gated
	gateBytes int // the bytes of the frames in gate
	gateSeq   uint64
}

func newLoop(c *Client) *loop {
	l := &loop{
		c:            c,
		packer:       dimp.NewPacker(c.me),
		state:        Default,
		since:        time.Now(),
		peers:        map[string]*dimp.Profile{},
		queries:      map[string]time.Time{},
		groups:       map[string]*Group{},
		groupWaiting: map[string][]groupCommandIn{},
		groupHeld:    map[string][]MessageEvent{},
		groupLogs:    map[string]*groupLog{},
		groupAsked:   map[string]time.Time{},
		waitOut:      map[string][]*outgoing{},
		waitIn:       map[string][]*held{},
		outbox:       map[MessageID]*outgoing{},
		bySig:        map[string]*outgoing{},
		inbox:        map[MessageID]*incoming{},
		attached:     map[string]bool{},
		seen:         newSigSet(seenInMemory),
		step:         c.cfg.Step,
	}
	l.peers[IDKey(c.me.ID)] = c.me.Profile()
	return l
}

// dialResult is a finished dial.
type dialResult struct {
	conn *conn
	err  error
}

func (l *loop) run(ctx context.Context) error {
	l.ctx = ctx
	l.loadGroups()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var dialed chan dialResult
	l.retryAt = time.Now()
	for {
		// Start a connection when it is time.
		if l.conn == nil && dialed == nil && (l.state == Default || l.state == Error) && !time.Now().Before(l.retryAt) {
			dialed = make(chan dialResult, 1)
			l.setState(Connecting, nil)
			go func(ch chan dialResult, answerPings bool) {
				dctx, cancel := context.WithTimeout(ctx, l.c.cfg.StateTimeout)
				defer cancel()
				cn, err := dial(dctx, l.c.cfg.URL, l.c.cfg.MaxFrame, answerPings)
				ch <- dialResult{cn, err}
			}(dialed, l.controlPasses())
		}
		var in chan inFrame
		var done chan error
		if l.conn != nil {
			in, done = l.conn.in, l.conn.done
		}
		select {
		case <-ctx.Done():
			l.reportOffline()
			if l.conn != nil {
				l.conn.close("client stopped")
			}
			if dialed != nil {
				if r := <-dialed; r.conn != nil {
					r.conn.close("client stopped")
				}
			}
			return ctx.Err()
		case r := <-dialed:
			dialed = nil
			if r.err != nil {
				l.fail(r.err)
				continue
			}
			l.conn = r.conn
			l.conn.answerPings.Store(l.controlPasses()) // the step mode may have changed meanwhile
			l.setState(Connected, nil)
			l.handshake("")
		case f := <-in:
			l.arrive(f)
		case err := <-done:
			if ce := (*ClosedError)(nil); !errors.As(err, &ce) {
				err = fmt.Errorf("connection lost: %w", err)
			}
			l.fail(err)
		case fn := <-l.c.reqs:
			fn(l)
		case now := <-tick.C:
			l.tick(now)
		}
	}
}

// setState moves the state machine and reports it.
func (l *loop) setState(s State, err error) {
	if s != l.state {
		l.state, l.since = s, time.Now()
		l.c.log.Info("state", "state", s, "err", err)
	}
	l.err = err
	l.publish()
}

// publish sends the current status to the UI.
func (l *loop) publish() {
	st := Status{State: l.state, Handshake: l.hs, Session: l.session, Station: l.station, URL: l.c.cfg.URL,
		RTT: l.rtt, Err: l.err, Since: l.since, Attempt: l.attempt, Remote: l.remote}
	l.c.mu.Lock()
	l.c.status = st
	l.c.mu.Unlock()
	l.c.emit(l.ctx, StatusEvent{Time: time.Now(), Status: st})
}

// reconnect drops the connection and connects again at once, as asked:
// the state goes through Error (with ErrReconnectAsked) as after a failure,
// so that what follows is the same, but without the backoff's wait.
func (l *loop) reconnect() {
	l.fail(ErrReconnectAsked)
	l.retryAt = time.Now()
}

// fail drops the connection and schedules a reconnect with backoff.
func (l *loop) fail(err error) {
	l.dropHeld()
	if l.conn != nil {
		l.conn.close("reconnecting")
		l.conn = nil
	}
	l.attempt++
	l.retryAt = time.Now().Add(backoff(l.c.cfg.MinBackoff, l.c.cfg.MaxBackoff, l.attempt))
	l.session, l.pingAt = "", time.Time{}
	l.setState(Error, err)
}

// tick enforces the state timeouts and keeps the connection alive. While
// step-through is on the timeouts wait: a held frame is the presenter's
// doing, not a silent station. With every frame held, so is the keep-alive.
//
// A connection is given up when a PING has had no PONG for PongTimeout
// and nothing else came meanwhile either: a station busy sending (a flood
// of messages, a backlog after a reconnect) answers behind what it sent
// first, and is there all the same.
func (l *loop) tick(now time.Time) {
	if l.step != StepOff {
		if l.controlPasses() && l.state == Running && l.pingAt.IsZero() && now.After(l.nextPing) {
			l.pingAt = now
			l.nextPing = now.Add(l.c.cfg.PingInterval)
			l.writeControl([]byte("PING"), KindPing)
		}
		return
	}
	expired := now.Sub(l.since) > l.c.cfg.StateTimeout
	switch l.state {
	case Handshaking:
		if expired {
			// The reference goes back to Connected and tries again; a
			// station that stays silent that long is as good as gone.
			l.fail(fmt.Errorf("handshake: no answer from the station in %s", l.c.cfg.StateTimeout))
		}
	case Running:
		if !l.pingAt.IsZero() && now.Sub(l.pingAt) > l.c.cfg.PongTimeout && !l.conn.delivering(now, l.c.cfg.PongTimeout) {
			l.fail(fmt.Errorf("no PONG and no frame from the station in %s", l.c.cfg.PongTimeout))
			return
		}
		if now.After(l.nextPing) && l.pingAt.IsZero() {
			l.pingAt = now
			l.nextPing = now.Add(l.c.cfg.PingInterval)
			l.writeControl([]byte("PING"), KindPing)
		}
	}
	l.expireSearches(now)
	// Visa queries that were never answered fail their messages.
	for peer, at := range l.queries {
		if now.Sub(at) > l.c.cfg.QueryTimeout {
			delete(l.queries, peer)
			l.peerUnknown(peer, fmt.Errorf("%w: the station did not answer for %s", ErrUnknownPeer, peer))
		}
	}
}

// writeControl writes a control payload (PING, PONG, ACK) and reports it;
// while stepping it may be held instead.
func (l *loop) writeControl(b []byte, kind FrameKind) {
	if l.conn == nil {
		return
	}
	if !l.holdIf(Out, b, kind, nil) {
		l.transmit(b, kind, nil)
	}
}

// writeMessage writes a sealed message and reports it with its layers
// (see sealedLayers); while stepping it is held instead. False: there is
// no connection.
func (l *loop) writeMessage(raw []byte, layers *Layers) bool {
	if l.conn == nil {
		return false
	}
	kind := kindOf(layers.Reliable, layers.Instant)
	if l.holdIf(Out, raw, kind, layers) {
		return true
	}
	return l.transmit(raw, kind, layers)
}

// transmit queues a frame on the connection and reports it.
func (l *loop) transmit(raw []byte, kind FrameKind, layers *Layers) bool {
	if l.conn == nil {
		return false
	}
	if !l.conn.send(raw, kind == KindPing || kind == KindAck) {
		l.fail(errSlowStation)
		return false
	}
	l.c.emit(l.ctx, FrameEvent{Time: time.Now(), Dir: Out, Raw: raw, Kind: kind, Layers: layers})
	return true
}

// handshake sends "Hello world!": to station@anywhere as a broadcast with
// our meta and visa the first time (Start), to the station itself, encrypted
// to its visa key, with the session key it gave us (Restart).
func (l *loop) handshake(session string) {
	hc := dimp.NewHandshake(dimp.HandshakeHello, session)
	var im *dimp.InstantMessage
	var to []*dimp.Profile
	if session == "" || l.stationProfile == nil {
		hc.Group = dimp.EveryStations
		im = dimp.NewInstantMessage(l.c.me.ID, dimp.AnyStation, hc)
		l.hs = dimp.HandshakeStart
	} else {
		im = dimp.NewInstantMessage(l.c.me.ID, l.station, hc)
		to = []*dimp.Profile{l.stationProfile}
		l.hs = dimp.HandshakeRestart
	}
	rm, trace, err := l.packer.SealTraced(im, to, dimp.SealOptions{Attach: session == ""})
	if err != nil {
		l.fail(fmt.Errorf("handshake: %w", err))
		return
	}
	raw, _ := rm.MarshalJSON()
	l.setState(Handshaking, nil)
	l.writeMessage(raw, sealedLayers(rm, im, l.c.me, to, trace))
}

// onHandshake follows the station's side of the handshake.
func (l *loop) onHandshake(rm *dimp.ReliableMessage, hc *dimp.HandshakeCommand) {
	if addr := remoteAddress(hc.Extra["remote_address"]); addr != "" {
		l.remote = addr
	}
	switch hc.State() {
	case dimp.HandshakeAgain: // DIM?: use this session key
		l.hs = dimp.HandshakeAgain
		l.session = hc.Session
		if l.state == Running {
			// The station lost our session (it restarted, or expired it):
			// messages wait until the new handshake succeeds.
			l.setState(Handshaking, nil)
		}
		l.publish()
		l.handshake(hc.Session)
	case dimp.HandshakeSuccess: // DIM!: accepted
		if hc.Session != "" {
			l.session = hc.Session
		}
		l.hs = dimp.HandshakeSuccess
		l.attempt = 0
		l.nextPing = time.Now() // the first PING at once: the UI shows the round trip
		l.setState(Running, nil)
		l.onRunning()
	default:
		l.c.emit(l.ctx, errorf("station sent a handshake %q, which only clients send", hc.Title))
	}
}

// onRunning resends what the station has not acknowledged, oldest first,
// and announces the user: its visa and a login, to everyone.
func (l *loop) onRunning() {
	l.usersAsk, l.usersUnlisted = "", false // a new session may answer
	// What waits is gathered first: the announcements and queries below
	// go out once, not a second time as if they were waiting too.
	var pending []*outgoing
	for _, o := range l.outbox {
		if o.state == Sending && o.raw != nil {
			pending = append(pending, o)
		}
	}
	if !l.c.cfg.NoAnnounce {
		l.announce()
	}
	l.onRunningSocial()
	// Visa queries made while disconnected go out now.
	for k := range l.queries {
		if id, err := dimp.ParseID(k); err == nil {
			l.queries[k] = time.Now()
			l.sendQuery(id)
		}
	}
	sortBySeq(pending)
	for _, o := range pending {
		if o.tries > 0 && o.user {
			l.c.emit(l.ctx, ResentEvent{Time: time.Now(), ID: o.id, Tries: o.tries + 1})
		}
		o.tries++
		l.writeMessage(o.raw, o.layers)
	}
}

func (l *loop) announce() {
	me := l.packer.Me // SetProfile may have re-signed its visa
	docs := dimp.NewDocumentCommand(me.ID, me.Meta, nil)
	if me.Visa != nil {
		docs.Documents = []*dimp.Document{me.Visa}
	}
	host, port := hostPort(l.c.cfg.URL)
	login := dimp.NewLogin(me.ID, l.c.cfg.Agent, &dimp.LoginStation{ID: l.station, Host: host, Port: port})
	for _, c := range []dimp.Content{docs, login} {
		if _, err := l.send(dimp.Everyone, c, false); err != nil {
			l.c.emit(l.ctx, errorf("announce: %w", err))
		}
	}
}

// send queues a content for a peer. user says whether the UI sent it (and
// so wants Sent and Delivery events).
func (l *loop) send(to dimp.ID, content dimp.Content, user bool) (MessageID, error) {
	return l.sendWith(to, content, user, nil)
}

// sendWith is send, with setup run on the outgoing message before it is
// sealed.
func (l *loop) sendWith(to dimp.ID, content dimp.Content, user bool, setup func(*outgoing)) (MessageID, error) {
	if to.IsZero() {
		return "", errors.New("send: no receiver")
	}
	h := content.Header()
	if h.SN == 0 {
		h.SN = dimp.NewSN()
	}
	im := dimp.NewInstantMessage(l.c.me.ID, to, content)
	if to.IsGroup() && !to.IsBroadcast() && h.Group.IsZero() {
		h.Group = to
	}
	l.seq++
	o := &outgoing{id: messageID(l.c.me.ID, h.SN), im: im, state: Sending, seq: l.seq, user: user}
	if setup != nil {
		setup(o)
	}
	l.outbox[o.id] = o
	if user && to.IsUser() && !to.IsBroadcast() {
		l.social().contacts[IDKey(to)] = to.WithoutTerminal()
	}
	if user {
		l.c.emit(l.ctx, SentEvent{Time: time.Now(), ID: o.id, Message: im})
		l.c.emit(l.ctx, DeliveryEvent{Time: time.Now(), ID: o.id, State: Sending})
	}
	if to.IsBroadcast() {
		l.seal(o, nil)
		return o.id, nil
	}
	if to.IsGroup() {
		l.sendGroup(o)
		return o.id, nil
	}
	if p := l.peers[IDKey(to)]; p != nil {
		l.seal(o, p)
		return o.id, nil
	}
	l.waitOut[IDKey(to)] = append(l.waitOut[IDKey(to)], o)
	l.query(to)
	return o.id, nil
}

// seal encrypts and signs an outgoing message, and writes it if the
// connection is running.
func (l *loop) seal(o *outgoing, to *dimp.Profile) {
	var profiles []*dimp.Profile
	attach := false
	if to != nil {
		profiles = []*dimp.Profile{to}
		attach = !l.attached[IDKey(to.ID)]
	}
	rm, trace, err := l.packer.SealTraced(o.im, profiles, dimp.SealOptions{Attach: attach})
	if err != nil {
		l.setDelivery(o, Failed, err.Error())
		return
	}
	if to != nil {
		l.attached[IDKey(to.ID)] = true
	}
	o.rm, o.sig = rm, rm.SignatureText()
	o.raw, _ = rm.MarshalJSON()
	o.layers = sealedLayers(rm, o.im, l.c.me, profiles, trace)
	if o.parent != nil {
		o.layers.Group = o.parent.groupSend(o)
	}
	if g := o.carries; g != nil {
		o.layers.Group = &GroupSend{Group: g.im.Receiver, Once: true, Via: o.im.Receiver, Members: len(g.copies)}
	}
	l.bySig[o.sig] = o
	if l.state == Running {
		o.tries++
		l.writeMessage(o.raw, o.layers)
	}
}

// setDelivery moves a message forward (or to Failed) and reports it.
func (l *loop) setDelivery(o *outgoing, d Delivery, detail string) {
	l.moveDelivery(o, DeliveryEvent{State: d, Detail: detail})
}

// refused fails a message the station received and refused; text is its
// receipt's, which says why.
func (l *loop) refused(o *outgoing, text string) {
	l.moveDelivery(o, DeliveryEvent{State: Failed, Detail: text, Refused: true})
}

// moveDelivery moves a message to ev.State, unless it is there or beyond
// already, and reports ev.
func (l *loop) moveDelivery(o *outgoing, ev DeliveryEvent) {
	d := ev.State
	if d == AtStation && o.state == AtStation && o.parent == nil && ev.Detail != "" {
		// Further along the network of stations ("Message redirected.",
		// then "Message delivered." by the receiver's station): the same
		// state, told again with where the message is now.
		ev.Time, ev.ID = time.Now(), o.id
		l.c.emit(l.ctx, ev)
		return
	}
	if o.state == Failed || (d != Failed && d <= o.state) {
		return
	}
	o.state = d
	if g := o.carries; g != nil && (d == AtStation || d == Failed) {
		// The group's bot has the message (or will never get it): so much
		// for each member's copy it carries that is not sent alone.
		detail := "passed to the group's bot, which sends each member a copy"
		if d == Failed {
			detail = "the group's bot did not get it: " + ev.Detail
		}
		for _, c := range g.copies {
			if c.rm == nil && c.viaBot {
				l.moveDelivery(c, DeliveryEvent{State: d, Detail: detail})
			}
		}
	}
	if o.parent != nil {
		o.detail, o.refused = ev.Detail, ev.Refused
		l.groupDelivery(o.parent)
		return
	}
	ev.Time, ev.ID = time.Now(), o.id
	l.c.emit(l.ctx, ev)
	// A message is settled when nothing more can come of it: read or
	// failed; for the client's own protocol messages (receipts, queries,
	// announcements), once the station has it.
	if d == Read || d == Failed || (!o.user && d >= AtStation) {
		l.forget(o)
	}
	l.boundOutbox()
}

// maxOutbox bounds the messages the client remembers for receipts; the
// oldest that are no longer waiting to be sent go first.
const maxOutbox = 4096

func (l *loop) forget(o *outgoing) {
	delete(l.outbox, o.id)
	if o.sig != "" {
		delete(l.bySig, o.sig)
	}
}

// boundOutbox forgets the oldest messages no longer waiting to be sent,
// down to three quarters of maxOutbox, so that the work is done rarely.
func (l *loop) boundOutbox() {
	if len(l.outbox) <= maxOutbox {
		return
	}
	var settled []*outgoing
	for _, o := range l.outbox {
		if o.state != Sending {
			settled = append(settled, o)
		}
	}
	sortBySeq(settled)
	for _, o := range settled[:min(len(settled), len(l.outbox)-maxOutbox*3/4)] {
		l.forget(o)
	}
}

// query asks the station for a peer's meta and visa.
func (l *loop) query(id dimp.ID) {
	k := IDKey(id)
	if _, asked := l.queries[k]; asked || id.IsBroadcast() {
		return
	}
	l.queries[k] = time.Now()
	if l.state == Running {
		l.sendQuery(id)
	}
}

// sendQuery sends a documents query for id to the station; the answer
// carries the meta too.
func (l *loop) sendQuery(id dimp.ID) {
	q := dimp.NewDocumentCommand(id.WithoutTerminal(), nil, nil)
	if _, err := l.send(dimp.AnyStation, q, false); err != nil {
		l.c.emit(l.ctx, errorf("query %s: %w", id, err))
	}
}

// learn stores a verified profile and releases what waited for it.
func (l *loop) learn(p *dimp.Profile) {
	k := IDKey(p.ID)
	if old := l.peers[k]; old != nil && old.Visa() != nil && p.Visa() != nil && old.Visa().Time() > p.Visa().Time() {
		return
	}
	prev := l.peers[k]
	known := ""
	if prev == nil {
		known = l.keptName(p.ID) // read before the PeerEvent records the new one
	}
	l.peers[k] = p
	delete(l.queries, k)
	l.c.emit(l.ctx, PeerEvent{Time: time.Now(), Profile: p})
	l.profileLearned(prev, p, known)
	if p.ID.IsGroup() {
		// After the PeerEvent: what waited for the group comes after it.
		l.learnGroup(p)
		l.storeGroup(p.ID)
	}
	outs := l.waitOut[k]
	delete(l.waitOut, k)
	for _, o := range outs {
		l.seal(o, p)
	}
	for _, h := range l.takeHeld(k) {
		l.open(h.raw, h.rm, h.layers, p, h.outer)
	}
}

// peerUnknown fails what waited for a peer the station does not know.
func (l *loop) peerUnknown(peer string, err error) {
	l.groupUnknown(peer)
	for _, o := range l.waitOut[peer] {
		l.setDelivery(o, Failed, err.Error())
	}
	delete(l.waitOut, peer)
	if n := len(l.takeHeld(peer)); n > 0 {
		// Not acknowledged: the station offers them again after the next
		// handshake, when the sender's visa may be known.
		l.c.emit(l.ctx, ErrorEvent{Time: time.Now(), Err: fmt.Errorf("%d message(s) from %s left at the station: %w", n, peer, err)})
	}
}

// maxInbox bounds the received messages kept for MarkRead.
const maxInbox = 4096

// remember keeps a received message for MarkRead, forgetting the oldest
// beyond maxInbox.
func (l *loop) remember(id MessageID, in *incoming) {
	if _, known := l.inbox[id]; !known {
		l.inOrder = append(l.inOrder, id)
	}
	l.inbox[id] = in
	for len(l.inOrder) > maxInbox {
		delete(l.inbox, l.inOrder[0])
		l.inOrder = l.inOrder[1:]
	}
}

func (l *loop) markRead(id MessageID) error {
	in := l.inbox[id]
	if in == nil {
		var err error
		if in, err = l.receivedBefore(id); in == nil || err != nil {
			return err
		}
	}
	delete(l.inbox, id)
	_, err := l.send(in.sender, dimp.NewReceipt(dimp.ReceiptRead, in.origin), false)
	return err
}

// ErrNotReceived: MarkRead was given the ID of no message received, in
// this run or, with a history, an earlier one.
var ErrNotReceived = errors.New("no received message")

// receivedBefore finds a message an earlier run received and the user
// had not read, in the history: the read receipt's origin is made from
// what the history kept (sender, serial number, time and group from the
// content, its type), without the signature, which is not kept; dimchat's
// apps and dimtui match a receipt by sender and serial number. Nil and no
// error: it was read already, nothing to send.
func (l *loop) receivedBefore(id MessageID) (*incoming, error) {
	h := l.c.cfg.History
	if h == nil {
		return nil, fmt.Errorf("%w %s", ErrNotReceived, id)
	}
	m, ok, err := h.Received(l.ctx, string(id))
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, fmt.Errorf("%w %s", ErrNotReceived, id)
	case m.Read:
		return nil, nil
	case m.Err != nil:
		return nil, m.Err
	}
	content, err := dimp.ParseContent(m.Content)
	if err != nil {
		return nil, fmt.Errorf("%w %s: its content: %v", ErrNotReceived, id, err)
	}
	hd := content.Header()
	o := &dimp.Origin{Sender: m.Sender, Receiver: l.c.me.ID, Time: hd.Time, SN: hd.SN, Group: hd.Group,
		Type: strconv.Itoa(int(m.Type))}
	if o.Group.IsZero() && m.Conversation.SameAs(dimp.Everyone) {
		o.Receiver = dimp.Everyone
	}
	return &incoming{sender: m.Sender, origin: o}, nil
}

func sortBySeq(list []*outgoing) {
	slices.SortFunc(list, func(a, b *outgoing) int { return cmp.Compare(a.seq, b.seq) })
}
