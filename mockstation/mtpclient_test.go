package mockstation_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// A test-only MTP client, written from the `udp` package's header layout
// (udp/mtp/header.py: "DIM", a byte whose high nibble is the header length
// in 32-bit words and whose low nibble is the data type, then big-endian
// transaction ID, fragment count and index when present, body length) and
// from what dimples' MTPStreamPorter (conn/mtp.py) does: every package
// carries its body length, a message is answered with a message response
// "OK" carrying its ID, count 1 and index 0. It shares no code with the
// station's parser.

const (
	tCommand         = 0x00
	tCommandResponse = 0x01
	tMessage         = 0x02
	tMessageResponse = 0x03
)

type mtpPack struct {
	typ          byte
	sn           uint64
	pages, index uint32
	body         []byte
}

func encodeMTP(p mtpPack) []byte {
	words := byte(4) // magic+type, ID (2 words), body length
	if p.typ == tMessageResponse {
		words = 6 // with count and index
	}
	b := []byte{'D', 'I', 'M', words<<4 | p.typ}
	b = binary.BigEndian.AppendUint64(b, p.sn)
	if words == 6 {
		b = binary.BigEndian.AppendUint32(b, p.pages)
		b = binary.BigEndian.AppendUint32(b, p.index)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.body)))
	return append(b, p.body...)
}

// decodeMTP reads one package of the kinds the station sends.
func decodeMTP(r io.Reader) (mtpPack, error) {
	var head [24]byte
	if _, err := io.ReadFull(r, head[:4]); err != nil {
		return mtpPack{}, err
	}
	if string(head[:3]) != "DIM" {
		return mtpPack{}, fmt.Errorf("no magic: %x", head[:4])
	}
	n := int(head[3]>>4) * 4
	p := mtpPack{typ: head[3] & 0x0F, pages: 1}
	if n != 16 && n != 24 {
		return p, fmt.Errorf("unexpected header length %d", n)
	}
	if _, err := io.ReadFull(r, head[4:n]); err != nil {
		return p, err
	}
	p.sn = binary.BigEndian.Uint64(head[4:])
	if n == 24 {
		p.pages, p.index = binary.BigEndian.Uint32(head[12:]), binary.BigEndian.Uint32(head[16:])
	}
	p.body = make([]byte, binary.BigEndian.Uint32(head[n-4:]))
	_, err := io.ReadFull(r, p.body)
	return p, err
}

// mtpConn is the MTP side of a client (see client.mtp).
type mtpConn struct {
	nc        net.Conn
	mu        sync.Mutex
	nextSN    uint64
	sent      []uint64     // IDs of the messages sent
	responses chan mtpPack // what the station sent besides messages
}

func (m *mtpConn) write(t testing.TB, p mtpPack) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nc.SetWriteDeadline(time.Now().Add(waitFor))
	if _, err := m.nc.Write(encodeMTP(p)); err != nil {
		t.Fatalf("mtp write: %v", err)
	}
}

func (m *mtpConn) newSN(message bool) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextSN++
	if message {
		m.sent = append(m.sent, m.nextSN)
	}
	return m.nextSN
}

func (m *mtpConn) sendMessage(t testing.TB, body []byte) {
	t.Helper()
	m.write(t, mtpPack{typ: tMessage, sn: m.newSN(true), body: body})
}

func (m *mtpConn) sendCommand(t testing.TB, body string) uint64 {
	t.Helper()
	sn := m.newSN(false)
	m.write(t, mtpPack{typ: tCommand, sn: sn, body: []byte(body)})
	return sn
}

func (m *mtpConn) response(t testing.TB) mtpPack {
	t.Helper()
	select {
	case p := <-m.responses:
		return p
	case <-time.After(waitFor):
		t.Fatal("no MTP response from the station")
	}
	return mtpPack{}
}

// dialMTP connects me to the station over MTP, without handshaking. Like
// the Python client, it answers each message of the station's with a
// message response "OK".
func dialMTP(t testing.TB, addr string, me *dimp.Identity) *client {
	t.Helper()
	return dialMTPWith(t, addr, me, true)
}

// dialMTPWith is dialMTP; respond false makes a client that does not
// answer the station's messages.
func dialMTPWith(t testing.TB, addr string, me *dimp.Identity, respond bool) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	m := &mtpConn{nc: nc, nextSN: 1000, responses: make(chan mtpPack, 1024)}
	c := &client{t: t, me: me, packer: dimp.NewPacker(me), mtp: m, frames: make(chan []byte, 1024),
		readErr: make(chan error, 1), peers: map[string]*dimp.Profile{}}
	go func() {
		for {
			p, err := decodeMTP(nc)
			if err != nil {
				c.readErr <- err
				close(c.frames)
				return
			}
			if p.typ != tMessage {
				m.responses <- p
				continue
			}
			if !respond {
				c.frames <- p.body
				continue
			}
			m.mu.Lock()
			_, err = nc.Write(encodeMTP(mtpPack{typ: tMessageResponse, sn: p.sn, pages: 1, body: []byte("OK")}))
			m.mu.Unlock()
			if err != nil {
				c.readErr <- err
				close(c.frames)
				return
			}
			c.frames <- p.body
		}
	}()
	t.Cleanup(func() { nc.Close() })
	return c
}

// TestMTPSession: a client speaking MTP over TCP, as dimchat's Python
// client does, handshakes on the station's one port and chats with a
// WebSocket user; WebSocket and /status keep working on that port.
func TestMTPSession(t *testing.T) {
	st := startServed(t, mockstation.Config{TimeWindow: 10 * time.Minute})
	alice, bob := user(t, "alice"), user(t, "bob")
	b := connect(t, st.url, bob)
	a := dialMTP(t, st.addr, alice)
	states := a.handshake()
	if last := states[len(states)-1]; last != dimp.HandshakeSuccess {
		t.Fatalf("handshake ended in %v", last)
	}
	a.know(bob)
	b.know(alice)

	sent := a.send(bob.ID, dimp.NewText("hello over MTP"))
	got := b.fromPeer(alice)
	if text, ok := got.im.Content.(*dimp.TextContent); !ok || text.Text != "hello over MTP" ||
		got.rm.SignatureText() != sent.SignatureText() {
		t.Fatalf("bob got %s", dimp.MarshalContent(got.im.Content))
	}
	if r := a.receipt(dimp.ReceiptDelivered); !r.Recipient.Equal(bob.ID) {
		t.Errorf("receipt for %s", r.Recipient)
	}
	b.ack(got.rm)

	b.send(alice.ID, dimp.NewText("hi back over WebSocket"))
	back := a.fromPeer(bob)
	if text, ok := back.im.Content.(*dimp.TextContent); !ok || text.Text != "hi back over WebSocket" {
		t.Fatalf("alice got %s", dimp.MarshalContent(back.im.Content))
	}
	b.receipt(dimp.ReceiptDelivered)

	// Every message alice sent was answered at the MTP level, in order.
	a.mtp.mu.Lock()
	sentIDs := append([]uint64(nil), a.mtp.sent...)
	a.mtp.mu.Unlock()
	if len(sentIDs) != 3 { // Hello world!, Hello world! with the key, the text
		t.Fatalf("%d messages sent", len(sentIDs))
	}
	for _, id := range sentIDs {
		p := a.mtp.response(t)
		if p.typ != tMessageResponse || p.sn != id || p.pages != 1 || p.index != 0 || string(p.body) != "OK" {
			t.Fatalf("response %+v, want message response OK to %d", p, id)
		}
	}
	// MTP's keep-alive: command PING, answered PONG.
	id := a.mtp.sendCommand(t, "PING")
	if p := a.mtp.response(t); p.typ != tCommandResponse || p.sn != id || string(p.body) != "PONG" {
		t.Fatalf("response %+v to PING", p)
	}
	a.quiet(100 * time.Millisecond)

	s := st.status(t)
	if s.Connections != 2 || s.UsersOnline != 2 {
		t.Errorf("status: %+v", s)
	}
	st.disconnect(t, a)
}

// TestMTPRefused: a package bigger than MaxFrame closes the MTP
// connection; bytes that are neither MTP nor HTTP get an HTTP error; the
// station serves on.
func TestMTPRefused(t *testing.T) {
	st := startServed(t, mockstation.Config{MaxFrame: 8 << 10})
	nc, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	big := encodeMTP(mtpPack{typ: tMessage, sn: 7, body: bytes.Repeat([]byte{'{'}, 8<<10+1)})
	nc.Write(big[:16]) // the header says 8193 bytes: refused before the body comes
	nc.SetReadDeadline(time.Now().Add(waitFor))
	if n, err := nc.Read(make([]byte, 64)); !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("read %d bytes, %v: want the connection closed", n, err)
	}

	junk, err := net.DialTimeout("tcp", st.addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	junk.Write([]byte("\x00\x01\x02 junk\r\n\r\n"))
	junk.SetReadDeadline(time.Now().Add(waitFor))
	resp, _ := io.ReadAll(junk)
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 400")) {
		t.Errorf("junk answered %.80q", resp)
	}

	c := connect(t, st.url, user(t, "alice"))
	a := dialMTP(t, st.addr, user(t, "bob"))
	a.handshake()
	if s := st.status(t); s.Connections != 2 {
		t.Errorf("status: %+v", s)
	}
	c.close()
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "read"
}

// TestMTPShutdown: a station shutting down closes its MTP sessions too.
func TestMTPShutdown(t *testing.T) {
	st := startServed(t, mockstation.Config{})
	a := dialMTP(t, st.addr, user(t, "alice"))
	a.handshake()
	st.stop()
	if err := a.closeErr(); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Errorf("closed with %v, want EOF", err)
	}
}

// TestMTPResponseAcknowledges: the Python client sends no ACK: frames and
// no receipts to the station; its MTP message response to a stored
// message is the acknowledgement, and the message is not delivered again.
// Without one, it is.
func TestMTPResponseAcknowledges(t *testing.T) {
	st := startServed(t, mockstation.Config{TimeWindow: 10 * time.Minute})
	alice, bob := user(t, "alice"), user(t, "bob")
	a := connect(t, st.url, alice)
	a.know(bob)
	sent := a.send(bob.ID, dimp.NewText("while you were away"))
	a.receipt(dimp.ReceiptCached)

	// bob's first session does not answer: the message stays.
	b := dialMTPWith(t, st.addr, bob, false)
	b.handshake()
	b.know(alice)
	if got := b.fromPeer(alice); got.rm.SignatureText() != sent.SignatureText() {
		t.Fatal("another message delivered")
	}
	b.quiet(100 * time.Millisecond)
	st.disconnect(t, b)
	waitStored(t, st, 1)

	// The second answers with message responses: the message goes.
	b = dialMTP(t, st.addr, bob)
	b.handshake()
	b.know(alice)
	if got := b.fromPeer(alice); got.rm.SignatureText() != sent.SignatureText() {
		t.Fatal("another message redelivered")
	}
	waitStored(t, st, 0)
	st.disconnect(t, b)

	b = dialMTP(t, st.addr, bob)
	b.handshake()
	b.quiet(200 * time.Millisecond)
}
