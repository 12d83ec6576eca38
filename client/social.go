package client

import (
	"time"

	"dimtui/dimp"
)

// social is what the client keeps of the user's life on the network
// beside the connection: the block and mute lists (privacy.go), the ANS
// questions waiting for their answers (names.go), when each peer's
// documents were last asked for and who the user talked to (profile.go).
// Only the loop touches it.
type social struct {
	block, mute idList
	// dropped counts the messages from blocked users (or to blocked
	// groups) the client acknowledged and did not show.
	dropped int

	names []*nameAsk // ANS questions in the order they were asked

	docAsked map[string]time.Time // when each peer's documents were last asked for, or learned
	contacts map[string]dimp.ID   // the users the user exchanged messages with
}

func (s *social) init() {
	if s.docAsked == nil {
		s.docAsked = map[string]time.Time{}
		s.contacts = map[string]dimp.ID{}
		s.block.name, s.mute.name = dimp.CmdBlock, dimp.CmdMute
	}
}

// social returns the loop's social state, made on first use.
func (l *loop) social() *social {
	l.soc.init()
	return &l.soc
}

// onRunningSocial follows a successful handshake: the user reports itself
// online, and the block and mute lists are asked for (or sent, when they
// changed while the connection was down).
func (l *loop) onRunningSocial() {
	l.reportOnline()
	s := l.social()
	l.syncList(&s.block)
	l.syncList(&s.mute)
}

// incomingContent runs before a content from a peer is shown: false drops
// it (a blocked sender); otherwise it notes the sender as a contact and
// checks whether its documents are stale.
func (l *loop) incomingContent(rm *dimp.ReliableMessage, im *dimp.InstantMessage) bool {
	if l.isStation(rm.Sender) || rm.Sender.Type() == dimp.Station {
		return true
	}
	if l.blockedMessage(rm, im) {
		return false
	}
	if rm.Sender.IsUser() && !rm.Sender.IsBroadcast() {
		l.social().contacts[IDKey(rm.Sender)] = rm.Sender.WithoutTerminal()
	}
	l.checkDocuments(rm)
	return true
}
