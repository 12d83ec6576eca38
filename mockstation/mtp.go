package mockstation

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// MTP ("message transfer protocol") is the framing dimchat's Python client
// speaks over TCP (dimples' MTPStreamPorter, on the `udp` package's
// udp.mtp). Layout, as read from udp.mtp's Header.parse / Header.new and
// dimples' conn/seeker.py (spec/station.md §1.1):
//
//	byte 0..2   magic "DIM"
//	byte 3      high nibble: header length in 32-bit words (1..6, so 4..24
//	            bytes); low nibble: data type
//	then, by header length (all fields big-endian):
//	   4        nothing else
//	   8        body length (32 bits)
//	  12        transaction ID (64 bits)
//	  16        transaction ID, body length
//	  20        transaction ID, fragment count, fragment index (32 bits each)
//	  24        transaction ID, count, index, body length
//	then the body: body-length bytes.
//
// The body length is only optional over UDP; over TCP every package of the
// Python client's carries one (16 bytes for commands and messages, 24 for
// message responses, which always carry count and index), and the station
// refuses a package without it. A stream may hold junk before a package:
// it is skipped up to the next "DIM", as dimples' seeker does.
const (
	mtpCommand         = 0x00
	mtpCommandResponse = 0x01
	mtpMessage         = 0x02
	mtpMessageResponse = 0x03
	mtpMessageFragment = 0x0A

	mtpMagic     = "DIM"
	mtpMaxHeader = 24
	mtpMaxPages  = 2 << 20 // udp.mtp's bound on a fragment count
	mtpReadChunk = 4096
	// sniffTimeout bounds the wait for a new connection's first bytes,
	// which tell MTP from HTTP, when the station has no handshake
	// deadline (Config.HandshakeTimeout negative).
	sniffTimeout = 10 * time.Second
)

// Bodies of MTP's own commands and responses (udp's porter).
var (
	mtpBodyOK    = []byte("OK")
	mtpBodyAgain = []byte("AGAIN")
)

var (
	// errMTPStream: the client broke MTP; the connection is closed.
	errMTPStream = errors.New("MTP stream")
	// errMTPTooBig: a package's body is longer than Config.MaxFrame.
	errMTPTooBig = errors.New("MTP package too big")
)

// mtpPackage is one MTP package.
type mtpPackage struct {
	typ      byte
	sn       [8]byte // transaction ID; zero in headers without one
	pages    uint32  // fragment count, 1 when absent
	index    uint32  // fragment index, 0 when absent
	bodyLen  int     // -1 when the header carries none
	headSize int
	body     []byte
}

// Results of parseMTPHeader.
const (
	mtpHeaderOK    = iota
	mtpHeaderShort // a header may start here: more bytes are needed
	mtpHeaderBad   // no header starts here
)

// parseMTPHeader parses the header at the start of b. When it needs more
// bytes, p.headSize says how many once known.
func parseMTPHeader(b []byte) (p mtpPackage, result int) {
	n := min(len(b), len(mtpMagic))
	if string(b[:n]) != mtpMagic[:n] {
		return p, mtpHeaderBad
	}
	if len(b) < 4 {
		return p, mtpHeaderShort
	}
	p.typ = b[3] & 0x0F
	switch p.typ {
	case mtpCommand, mtpCommandResponse, mtpMessage, mtpMessageResponse, mtpMessageFragment:
	default:
		return p, mtpHeaderBad
	}
	words := int(b[3] >> 4)
	if words < 1 || words > mtpMaxHeader/4 {
		return p, mtpHeaderBad
	}
	p.headSize = words * 4
	if len(b) < p.headSize {
		return p, mtpHeaderShort
	}
	p.pages, p.bodyLen = 1, -1
	be := binary.BigEndian
	switch p.headSize {
	case 8:
		p.bodyLen = int(be.Uint32(b[4:]))
	case 12, 16, 20, 24:
		copy(p.sn[:], b[4:12])
		switch p.headSize {
		case 16:
			p.bodyLen = int(be.Uint32(b[12:]))
		case 20, 24:
			p.pages, p.index = be.Uint32(b[12:]), be.Uint32(b[16:])
			if p.headSize == 24 {
				p.bodyLen = int(be.Uint32(b[20:]))
			}
		}
	}
	if p.pages < 1 || p.pages > mtpMaxPages || p.index >= p.pages {
		return p, mtpHeaderBad
	}
	return p, mtpHeaderOK
}

// appendMTP appends a package to dst: a 24-byte header (with count and
// index) for a message response, else a 16-byte one, always with the
// transaction ID and the body length, as the Python client writes them.
func appendMTP(dst []byte, typ byte, sn [8]byte, pages, index uint32, body []byte) []byte {
	head := 16
	if typ == mtpMessageResponse || typ == mtpMessageFragment {
		head = 24
	}
	dst = append(dst, mtpMagic...)
	dst = append(dst, byte(head/4)<<4|typ&0x0F)
	dst = append(dst, sn[:]...)
	if head == 24 {
		dst = binary.BigEndian.AppendUint32(dst, pages)
		dst = binary.BigEndian.AppendUint32(dst, index)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...)
}

// newMTPSN returns a fresh transaction ID, never zero (zero means none).
func newMTPSN() [8]byte {
	var sn [8]byte
	binary.BigEndian.PutUint64(sn[:], rand.Uint64()|1)
	return sn
}

// mtpReader takes packages out of an MTP stream. Its buffer holds at most
// one package (header and a body of at most maxBody bytes) and the last
// bytes of junk that may begin a header.
type mtpReader struct {
	r       io.Reader
	maxBody int
	buf     []byte // buf[off:] is read and not yet taken
	off     int
	skipped int // junk bytes dropped so far
}

// next returns the next package. Junk before a header is dropped (at most
// maxBody bytes of it over the stream's life); a package without body
// length, with a longer body than maxBody, or fragmented is refused. The
// package's body is its own copy.
func (m *mtpReader) next() (mtpPackage, error) {
	for {
		data := m.buf[m.off:]
		// Drop junk up to the next possible header.
		if i := bytes.Index(data, []byte(mtpMagic)); i != 0 {
			keep := 0
			if i < 0 {
				// No magic: keep a tail that may begin one.
				for k := min(len(data), len(mtpMagic)-1); k > 0; k-- {
					if bytes.HasPrefix([]byte(mtpMagic), data[len(data)-k:]) {
						keep = k
						break
					}
				}
				i = len(data) - keep
			}
			if err := m.skip(i); err != nil {
				return mtpPackage{}, err
			}
			data = m.buf[m.off:]
		}
		p, res := parseMTPHeader(data)
		switch res {
		case mtpHeaderShort:
			if err := m.fill(max(p.headSize, 4)); err != nil {
				return mtpPackage{}, err
			}
			continue
		case mtpHeaderBad:
			// "DIM" but no header: look for the next one after it.
			if err := m.skip(1); err != nil {
				return mtpPackage{}, err
			}
			continue
		}
		switch {
		case p.bodyLen < 0:
			return mtpPackage{}, fmt.Errorf("%w: %d-byte header without body length", errMTPStream, p.headSize)
		case p.bodyLen > m.maxBody:
			return mtpPackage{}, fmt.Errorf("%w: body of %d bytes, limit %d", errMTPTooBig, p.bodyLen, m.maxBody)
		case p.typ == mtpMessageFragment || p.pages != 1:
			// The Python client does not split messages over TCP.
			return mtpPackage{}, fmt.Errorf("%w: fragments are not taken over TCP (type %#x, %d pages)",
				errMTPStream, p.typ, p.pages)
		}
		size := p.headSize + p.bodyLen
		if len(data) < size {
			if err := m.fill(size); err != nil {
				return mtpPackage{}, err
			}
			data = m.buf[m.off:]
		}
		p.body = bytes.Clone(data[p.headSize:size:size])
		if p.body == nil {
			p.body = []byte{}
		}
		m.off += size
		return p, nil
	}
}

// skip drops n bytes of junk.
func (m *mtpReader) skip(n int) error {
	m.off += n
	m.skipped += n
	if m.skipped > m.maxBody {
		return fmt.Errorf("%w: more than %d bytes of junk", errMTPStream, m.maxBody)
	}
	return nil
}

// fill reads until at least need bytes wait in the buffer; it reads more
// when it can, and at least one byte in any case.
func (m *mtpReader) fill(need int) error {
	have := len(m.buf) - m.off
	if have == 0 {
		m.off = 0
		if cap(m.buf) > keepReadBuffer { // let a big package's buffer go
			m.buf = nil
		}
		m.buf = m.buf[:0]
	}
	want := max(need, have+1)
	if cap(m.buf)-m.off < want || cap(m.buf)-len(m.buf) < mtpReadChunk/8 {
		if size := max(want, mtpReadChunk); cap(m.buf) < size {
			grown := make([]byte, have, size)
			copy(grown, m.buf[m.off:])
			m.buf = grown
		} else {
			m.buf = m.buf[:copy(m.buf, m.buf[m.off:])]
		}
		m.off = 0
	}
	for len(m.buf)-m.off < want {
		n, err := m.r.Read(m.buf[len(m.buf):cap(m.buf)])
		m.buf = m.buf[:len(m.buf)+n]
		if err != nil {
			if err == io.EOF && len(m.buf) > m.off {
				return io.ErrUnexpectedEOF // in the middle of a package
			}
			return err
		}
	}
	return nil
}

// mtpTransport is the MTP stream framing of a session: a payload of the
// client's is the body of a message (or of a command other than MTP's
// own), and each payload of the station's goes out as one message package.
// MTP's own traffic is handled here as udp's porter does: a message is
// answered with a message response "OK", the command PING with PONG and
// other commands with OK; the bodies NOOP, PING and PONG go no further. A
// message response to a stored message acknowledges it, as dimchat's
// station takes it: the Python client sends no ACK: frames.
type mtpTransport struct {
	nc           net.Conn
	rd           mtpReader
	writeTimeout time.Duration
	log          *slog.Logger

	// writeMu lets one package out at a time (the reader answers MTP's
	// own traffic while the writer sends the station's) and guards wbuf.
	writeMu sync.Mutex
	wbuf    []byte

	// delivered learns the signature of a stored message the client
	// answered with a message response (see conn.ackWritten).
	delivered func(signature string)
	// pendingMu guards pending, which the writer fills and the reader
	// settles.
	pendingMu sync.Mutex
	pending   map[[8]byte]string // transaction ID → stored message's signature
}

// maxMTPPending bounds the stored messages of a session waiting for their
// message response.
const maxMTPPending = 1 << 16

func newMTPTransport(nc net.Conn, maxBody int, writeTimeout time.Duration, log *slog.Logger) *mtpTransport {
	return &mtpTransport{nc: nc, rd: mtpReader{r: nc, maxBody: maxBody}, writeTimeout: writeTimeout, log: log}
}

func (t *mtpTransport) readPayload() ([]byte, error) {
	for {
		p, err := t.rd.next()
		if err != nil {
			return nil, err
		}
		switch p.typ {
		case mtpMessage:
			if err := t.send(mtpMessageResponse, p.sn, p.pages, p.index, mtpBodyOK); err != nil {
				return nil, err
			}
		case mtpCommand:
			answer := mtpBodyOK
			if bytes.Equal(p.body, payloadPing) {
				answer = payloadPong
			}
			if err := t.send(mtpCommandResponse, p.sn, 1, 0, answer); err != nil {
				return nil, err
			}
		case mtpMessageResponse:
			// The client has the station's message: for a stored one, this
			// is its acknowledgement, as the reference station takes it.
			// AGAIN asks for nothing to be settled.
			if !bytes.Equal(p.body, mtpBodyAgain) {
				t.responded(p.sn)
			}
			continue
		default: // command responses: nothing more to do
			continue
		}
		if bytes.Equal(p.body, payloadNoop) || bytes.Equal(p.body, payloadPing) || bytes.Equal(p.body, payloadPong) {
			continue
		}
		return p.body, nil
	}
}

func (t *mtpTransport) writePayload(data []byte, stored string) error {
	sn := newMTPSN()
	if stored != "" {
		t.pendingMu.Lock()
		if t.pending == nil {
			t.pending = make(map[[8]byte]string)
		}
		// Past the bound, the message stays stored and comes again at the
		// next session (a client that answers nothing gets nothing deleted).
		if len(t.pending) < maxMTPPending {
			t.pending[sn] = stored
		}
		t.pendingMu.Unlock()
	}
	return t.send(mtpMessage, sn, 1, 0, data)
}

// responded settles the stored message written as package sn, if any.
func (t *mtpTransport) responded(sn [8]byte) {
	t.pendingMu.Lock()
	sig, ok := t.pending[sn]
	delete(t.pending, sn)
	t.pendingMu.Unlock()
	if ok && t.delivered != nil {
		t.delivered(sig)
	}
}

func (t *mtpTransport) send(typ byte, sn [8]byte, pages, index uint32, body []byte) error {
	t.writeMu.Lock()
	defer t.writeMu.Unlock()
	t.wbuf = appendMTP(t.wbuf[:0], typ, sn, pages, index, body)
	if t.writeTimeout > 0 {
		t.nc.SetWriteDeadline(time.Now().Add(t.writeTimeout))
	}
	_, err := t.nc.Write(t.wbuf)
	if cap(t.wbuf) > keepReadBuffer {
		t.wbuf = nil
	}
	return err
}

// close ends the connection; MTP has no way to say why, so the reason is
// only logged.
func (t *mtpTransport) close(code websocket.StatusCode, reason string) {
	t.log.Debug("closing MTP connection", "code", int(code), "reason", reason)
	t.nc.Close()
}

func (t *mtpTransport) closeNow() { t.nc.Close() }

// serveMTP runs an MTP session on nc, in the caller's goroutine.
func (s *Server) serveMTP(nc *limitedConn) {
	if !s.track() {
		nc.Close()
		return
	}
	addr := nc.RemoteAddr().String()
	tr := newMTPTransport(nc, int(s.cfg.MaxFrame), s.cfg.WriteTimeout, s.log.With("remote", addr))
	c := s.newConn(tr, addr)
	c.lc = nc
	tr.delivered = func(signature string) { c.ackWritten(signature) }
	c.run()
}

// sniffListener serves one port to two framings, as dimchat's station
// does: a connection whose first bytes are "DIM" is an MTP stream and gets
// a session here; any other goes to the HTTP server that Accepts from the
// listener (WebSocket and GET /status). Every connection passes the
// station's gate first (see limits.go), which also bounds the wait for
// its first bytes. They are awaited in a goroutine per connection, so a
// slow client holds up no other.
type sniffListener struct {
	net.Listener
	s      *Server
	conns  chan net.Conn
	errc   chan error
	done   chan struct{}
	closed sync.Once
}

func (s *Server) sniff(ln net.Listener) *sniffListener {
	l := &sniffListener{Listener: ln, s: s, conns: make(chan net.Conn), errc: make(chan error), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *sniffListener) acceptLoop() {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.errc <- err:
			case <-l.done:
				return
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				continue // the HTTP server waits a moment and accepts again
			}
			return
		}
		if lc := l.s.gate.admit(nc); lc != nil {
			go l.route(lc)
		}
	}
}

// route reads a new connection's first bytes and hands it on.
func (l *sniffListener) route(nc *limitedConn) {
	head, err := l.firstBytes(nc)
	switch {
	case string(head) == mtpMagic && err == nil:
		nc.prefix = head
		switch {
		case nc.refusedNow():
			nc.refuse() // MTP has no way to say why
		case nc.toStage(stageMTP):
			l.s.serveMTP(nc)
		}
	case string(head) == mtpMagic[:len(head)]:
		// Nothing, or the start of "DIM", before an error or the deadline.
		nc.Close()
	default:
		nc.prefix = head
		if !nc.toStage(stageHTTP) {
			return
		}
		select {
		case l.conns <- nc:
		case <-l.done:
			nc.Close()
		}
	}
}

// firstBytes reads until it has "DIM" or bytes that cannot begin it. The
// gate closes a connection that says nothing until its handshake
// deadline; a closing listener stops the read at once (see Close).
func (l *sniffListener) firstBytes(nc *limitedConn) ([]byte, error) {
	select {
	case <-l.done:
		return nil, net.ErrClosed
	default:
	}
	head := make([]byte, len(mtpMagic))
	n := 0
	var err error
	for n < len(head) && err == nil && string(head[:n]) == mtpMagic[:n] {
		var k int
		k, err = nc.Conn.Read(head[n:])
		n += k
	}
	return head[:n], err
}

func (l *sniffListener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.conns:
		return nc, nil
	case err := <-l.errc:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops listening and ends the wait for the first bytes of every
// connection.
func (l *sniffListener) Close() error {
	err := net.ErrClosed
	l.closed.Do(func() {
		close(l.done)
		err = l.Listener.Close()
		l.s.gate.interruptSniffing()
	})
	return err
}
