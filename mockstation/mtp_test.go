package mockstation

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The byte strings below are written by hand from the layout the `udp`
// package's udp/mtp/header.py gives (Header.parse reads the header length
// as the high nibble of byte 3, in 32-bit words; Header.new writes it as
// length-in-bytes << 2, the same thing; fields are big-endian) and from
// what dimples' conn/mtp.py sends over TCP: every package with a body
// length, message responses with fragment count and index as well.
const (
	// A message from the Python client: "DIM", 0x42 (4 words, type 2),
	// transaction ID 0102030405060708, body length 5, "hello".
	hxMessage = "44494d42" + "0102030405060708" + "00000005" + "68656c6c6f"
	// A command PING: 0x40 (4 words, type 0), ID 1111111111111111, 4, "PING".
	hxPing = "44494d40" + "1111111111111111" + "00000004" + "50494e47"
	// The station's answer to hxMessage: 0x63 (6 words, type 3), the same
	// ID, count 1, index 0, body length 2, "OK".
	hxMessageOK = "44494d63" + "0102030405060708" + "00000001" + "00000000" + "00000002" + "4f4b"
	// The answer to hxPing: 0x41 (4 words, type 1), the same ID, 4, "PONG".
	hxPong = "44494d41" + "1111111111111111" + "00000004" + "504f4e47"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sn(s string) (id [8]byte) {
	b, _ := hex.DecodeString(s)
	copy(id[:], b)
	return id
}

func readAll(t *testing.T, r io.Reader, maxBody int) ([]mtpPackage, error) {
	t.Helper()
	m := &mtpReader{r: r, maxBody: maxBody}
	var got []mtpPackage
	for {
		p, err := m.next()
		if err != nil {
			return got, err
		}
		got = append(got, p)
		if len(got) > 100 {
			t.Fatal("too many packages")
		}
	}
}

func TestMTPEncode(t *testing.T) {
	cases := []struct {
		name  string
		typ   byte
		id    string
		body  string
		wantX string
	}{
		{"message", mtpMessage, "0102030405060708", "hello", hxMessage},
		{"message response", mtpMessageResponse, "0102030405060708", "OK", hxMessageOK},
		{"command response", mtpCommandResponse, "1111111111111111", "PONG", hxPong},
		{"command", mtpCommand, "1111111111111111", "PING", hxPing},
	}
	for _, tc := range cases {
		got := appendMTP(nil, tc.typ, sn(tc.id), 1, 0, []byte(tc.body))
		if want := unhex(t, tc.wantX); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, got, want)
		}
	}
}

func TestMTPParse(t *testing.T) {
	msg, ping := unhex(t, hxMessage), unhex(t, hxPing)
	check := func(t *testing.T, got []mtpPackage, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d packages, want %d", len(got), len(want))
		}
		for i, p := range got {
			if string(p.body) != want[i] {
				t.Errorf("package %d: body %q, want %q", i, p.body, want[i])
			}
		}
	}
	t.Run("message", func(t *testing.T) {
		got, err := readAll(t, bytes.NewReader(msg), 1<<20)
		if err != io.EOF {
			t.Fatalf("err %v, want EOF", err)
		}
		check(t, got, "hello")
		p := got[0]
		if p.typ != mtpMessage || p.sn != sn("0102030405060708") || p.pages != 1 || p.index != 0 ||
			p.bodyLen != 5 || p.headSize != 16 {
			t.Errorf("header %+v", p)
		}
	})
	t.Run("two in one read", func(t *testing.T) {
		got, err := readAll(t, bytes.NewReader(append(bytes.Clone(msg), ping...)), 1<<20)
		if err != io.EOF {
			t.Fatal(err)
		}
		check(t, got, "hello", "PING")
		if got[1].typ != mtpCommand || got[1].sn != sn("1111111111111111") {
			t.Errorf("second header %+v", got[1])
		}
	})
	t.Run("split across reads", func(t *testing.T) {
		stream := append(append(bytes.Clone(msg), ping...), msg...)
		got, err := readAll(t, iotest.OneByteReader(bytes.NewReader(stream)), 1<<20)
		if err != io.EOF {
			t.Fatal(err)
		}
		check(t, got, "hello", "PING", "hello")
		// Split at every point in two reads.
		for cut := 1; cut < len(stream); cut++ {
			r := io.MultiReader(bytes.NewReader(stream[:cut]), bytes.NewReader(stream[cut:]))
			got, err := readAll(t, r, 1<<20)
			if err != io.EOF || len(got) != 3 {
				t.Fatalf("cut at %d: %d packages, %v", cut, len(got), err)
			}
		}
	})
	t.Run("junk before a header", func(t *testing.T) {
		// Junk, a "DIM" that begins no header (type 7), "DI" and more junk.
		junk := []byte("GET xx DIM\x47 DI\x00\x01DD")
		stream := append(append(bytes.Clone(junk), msg...), "zzzD"...)
		stream = append(stream, ping...)
		got, err := readAll(t, iotest.HalfReader(bytes.NewReader(stream)), 1<<20)
		if err != io.EOF {
			t.Fatal(err)
		}
		check(t, got, "hello", "PING")
	})
	t.Run("other header lengths", func(t *testing.T) {
		// 8 bytes: no ID, body length 2; 24 bytes: ID, count 1, index 0.
		b := unhex(t, "44494d22"+"00000002"+"6869"+
			"44494d63"+"0102030405060708"+"00000001"+"00000000"+"00000002"+"4f4b")
		got, err := readAll(t, bytes.NewReader(b), 1<<20)
		if err != io.EOF {
			t.Fatal(err)
		}
		check(t, got, "hi", "OK")
		if got[0].headSize != 8 || got[0].sn != ([8]byte{}) || got[1].typ != mtpMessageResponse || got[1].headSize != 24 {
			t.Errorf("headers %+v %+v", got[0], got[1])
		}
	})
	t.Run("empty body", func(t *testing.T) {
		got, err := readAll(t, bytes.NewReader(unhex(t, "44494d42"+"0102030405060708"+"00000000")), 1<<20)
		if err != io.EOF || len(got) != 1 || got[0].body == nil || len(got[0].body) != 0 {
			t.Fatalf("%+v %v", got, err)
		}
	})
	refused := []struct {
		name string
		data string
		want error
	}{
		{"oversized body", "44494d42" + "0102030405060708" + "00000401", errMTPTooBig},
		{"huge body length", "44494d42" + "0102030405060708" + "ffffffff", errMTPTooBig},
		{"no body length", "44494d32" + "0102030405060708" + "68656c6c6f", errMTPStream},
		{"fragment", "44494d6a" + "0102030405060708" + "00000002" + "00000000" + "00000001" + "61", errMTPStream},
		{"message of two pages", "44494d62" + "0102030405060708" + "00000002" + "00000001" + "00000001" + "61", errMTPStream},
		{"truncated header", "44494d42" + "01020304", io.ErrUnexpectedEOF},
		{"truncated body", "44494d42" + "0102030405060708" + "00000005" + "6865", io.ErrUnexpectedEOF},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAll(t, bytes.NewReader(unhex(t, tc.data)), 1024)
			if len(got) != 0 || !errors.Is(err, tc.want) {
				t.Fatalf("%d packages, err %v, want %v", len(got), err, tc.want)
			}
		})
	}
	t.Run("endless junk", func(t *testing.T) {
		r := io.LimitReader(neverMagic{}, 1<<20)
		got, err := readAll(t, r, 1024)
		if len(got) != 0 || !errors.Is(err, errMTPStream) {
			t.Fatalf("%d packages, err %v", len(got), err)
		}
	})
	t.Run("bad header: index not below count", func(t *testing.T) {
		// Skipped as no header, like the reference's parser; the message
		// after it is found.
		b := append(unhex(t, "44494d63"+"0102030405060708"+"00000001"+"00000001"+"00000000"), msg...)
		got, err := readAll(t, bytes.NewReader(b), 1024)
		if err != io.EOF {
			t.Fatal(err)
		}
		check(t, got, "hello")
	})
}

type neverMagic struct{}

func (neverMagic) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}

// TestMTPTransport checks what the transport answers on its own and what
// it hands to the session.
func TestMTPTransport(t *testing.T) {
	station, client := net.Pipe()
	defer client.Close()
	tr := newMTPTransport(station, 1024, time.Second, slog.New(slog.DiscardHandler))
	defer tr.closeNow()

	payloads := make(chan []byte, 10)
	go func() {
		for {
			p, err := tr.readPayload()
			if err != nil {
				close(payloads)
				return
			}
			payloads <- p
		}
	}()
	answers := &mtpReader{r: client, maxBody: 1024}
	send := func(hx string) {
		t.Helper()
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Write(unhex(t, hx)); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(hx string) {
		t.Helper()
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		p, err := answers.next()
		if err != nil {
			t.Fatal(err)
		}
		if got := appendMTP(nil, p.typ, p.sn, p.pages, p.index, p.body); !bytes.Equal(got, unhex(t, hx)) {
			t.Fatalf("station answered %x, want %s", got, hx)
		}
	}

	send(hxMessage)
	expect(hxMessageOK)
	if p := <-payloads; string(p) != "hello" {
		t.Fatalf("payload %q", p)
	}
	send(hxPing)
	expect(hxPong)
	// A command that is not PING is answered OK and handed on.
	send("44494d40" + "2222222222222222" + "00000003" + "616263")
	expect("44494d41" + "2222222222222222" + "00000002" + "4f4b")
	if p := <-payloads; string(p) != "abc" {
		t.Fatalf("payload %q", p)
	}
	// A message NOOP is answered, not handed on; responses are taken
	// silently.
	send("44494d42" + "3333333333333333" + "00000004" + "4e4f4f50")
	expect("44494d63" + "3333333333333333" + "00000001" + "00000000" + "00000002" + "4f4b")
	send(hxMessageOK + hxPong)
	// The station's own payload goes out as a message with a fresh ID.
	stationMessage := func(stored string) mtpPackage {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- tr.writePayload([]byte(`{"x":1}`), stored) }()
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		p, err := answers.next()
		if err != nil || <-done != nil {
			t.Fatal(err)
		}
		if p.typ != mtpMessage || p.headSize != 16 || p.sn == ([8]byte{}) || string(p.body) != `{"x":1}` {
			t.Fatalf("station message %+v", p)
		}
		return p
	}
	p := stationMessage("")
	send(hxMessage)
	expect(hxMessageOK)
	if p := <-payloads; string(p) != "hello" {
		t.Fatalf("payload %q (a response or NOOP was handed on?)", p)
	}
	// The message response to a stored message settles it: AGAIN does
	// not, nor does a response to a message that was not stored, nor a
	// second response.
	delivered := make(chan string, 4)
	tr.delivered = func(sig string) { delivered <- sig }
	respond := func(sn [8]byte, body string) {
		t.Helper()
		send(fmt.Sprintf("%x", appendMTP(nil, mtpMessageResponse, sn, 1, 0, []byte(body))))
	}
	stored := stationMessage("c2lnQQ==")
	respond(stored.sn, "AGAIN")
	respond(p.sn, "OK")
	respond(stored.sn, "OK")
	respond(stored.sn, "OK")
	send(hxMessage) // a marker: the responses before it were read
	expect(hxMessageOK)
	<-payloads
	close(delivered)
	var got []string
	for sig := range delivered {
		got = append(got, sig)
	}
	if len(got) != 1 || got[0] != "c2lnQQ==" {
		t.Fatalf("delivered %q, want the stored message once", got)
	}
	// An oversized package ends the stream.
	send("44494d42" + "0102030405060708" + "00000401")
	if _, ok := <-payloads; ok {
		t.Fatal("payload after an oversized header")
	}
}

// FuzzMTPStream feeds arbitrary bytes, in reads of arbitrary sizes, to the
// parser: it never panics, never returns a body over the limit or of
// another length than its header says, and never more bytes than it read.
func FuzzMTPStream(f *testing.F) {
	f.Add([]byte(strings.Repeat("\x00", 1)), unhexF(hxMessage+hxPing))
	f.Add([]byte{3, 1, 7}, unhexF("4a554e4b"+hxMessage+"44494d"+hxMessageOK))
	f.Add([]byte{1}, unhexF("44494d22"+"00000002"+"6869"))
	f.Add([]byte{5}, unhexF("44494d62"+"0102030405060708"+"00000001"+"00000000"+"000000ff"))
	f.Add([]byte{}, []byte("GET / HTTP/1.1\r\n\r\n"))
	const maxBody = 4096
	f.Fuzz(func(t *testing.T, cuts []byte, data []byte) {
		r := &choppyReader{data: data, cuts: cuts}
		m := &mtpReader{r: r, maxBody: maxBody}
		total := 0
		for range len(data) + 1 {
			p, err := m.next()
			if err != nil {
				return
			}
			if len(p.body) > maxBody || len(p.body) != p.bodyLen || p.headSize < 4 || p.headSize > mtpMaxHeader {
				t.Fatalf("package %+v with %d-byte body", p, len(p.body))
			}
			if p.typ == mtpMessageFragment || p.pages != 1 || p.index != 0 {
				t.Fatalf("fragment taken: %+v", p)
			}
			if !bytes.Contains(data, p.body) {
				t.Fatal("body not from the input")
			}
			total += p.headSize + len(p.body)
			if total > len(data) {
				t.Fatalf("%d bytes of packages from %d bytes", total, len(data))
			}
		}
		t.Fatal("more packages than bytes")
	})
}

func unhexF(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// choppyReader returns data in reads whose sizes come from cuts.
type choppyReader struct {
	data []byte
	cuts []byte
	i    int
}

func (r *choppyReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(b)
	if len(r.cuts) > 0 {
		n = min(n, int(r.cuts[r.i%len(r.cuts)])+1)
		r.i++
	}
	n = copy(b, r.data[:min(n, len(r.data))])
	r.data = r.data[n:]
	return n, nil
}
