package mockstation

import "time"

// Notice tells what the station did in the network of stations, for a
// demo to show each hop (Config.OnNotice).
type Notice struct {
	Time     time.Time
	Kind     NoticeKind
	Station  string // the neighbour station concerned
	Sender   string // the message's sender, for messages
	Receiver string // its receiver
	Detail   string // more: a link's direction, a refusal's reason
}

// NoticeKind names what a Notice is about.
type NoticeKind int

const (
	// NoticeLinkUp: a link to Station is up (Detail: dialed or accepted).
	NoticeLinkUp NoticeKind = iota + 1
	// NoticeLinkDown: the link to Station ended.
	NoticeLinkDown
	// NoticePassed: Station acknowledged having stored a message this
	// station passed it, from Sender to Receiver.
	NoticePassed
	// NoticeReceived: a message from Sender to Receiver came over the link
	// from Station and is stored here.
	NoticeReceived
	// NoticeRefused: a message that came over the link from Station was
	// refused; Detail says why.
	NoticeRefused
)

// notice hands n to Config.OnNotice, if any.
func (s *Server) notice(n Notice) {
	if s.cfg.OnNotice == nil {
		return
	}
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	s.cfg.OnNotice(n)
}
