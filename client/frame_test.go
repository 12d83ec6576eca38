package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

func TestShrinkJSON(t *testing.T) {
	long := strings.Repeat("a", 5000)
	tests := []struct {
		name, in string
		max      int
		want     string // "" : the input unchanged
	}{
		{"short strings stay", `{"a":"xyz","b":[1,"q",true,null],"c":{"d":"e"}}`, 4, ""},
		{"a long value is cut", `{"k":"` + long + `","n":1}`, 10, `{"k":"aaaaaaaaaa` + NotKept(4990) + `","n":1}`},
		{"a long name too", `{"` + long + `":1}`, 10, `{"aaaaaaaaaa` + NotKept(4990) + `":1}`},
		{"escapes stay whole", `{"k":"` + strings.Repeat(`\u00e9`, 10) + `"}`, 8, `{"k":"\u00e9\u00e9` + NotKept(48) + `"}`},
		{"escaped quotes are no end", `["` + strings.Repeat(`\"`, 6) + `"]`, 5, `["\"\"\"` + NotKept(6) + `"]`},
		{"UTF-8 stays whole", `"` + strings.Repeat("é", 6) + `"`, 5, `"ééé` + NotKept(6) + `"`},
	}
	for _, tt := range tests {
		got, ok := ShrinkJSON([]byte(tt.in), tt.max)
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if !ok || string(got) != want {
			t.Errorf("%s: ShrinkJSON = %q, %v; want %q", tt.name, got, ok, want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: %q is not JSON", tt.name, got)
		}
	}
	for _, in := range []string{"", "PING", `{"a":`, "\xff\xfe"} {
		if got, ok := ShrinkJSON([]byte(in), 4); ok || got != nil {
			t.Errorf("ShrinkJSON(%q) = %q, %v; want nil, false", in, got, ok)
		}
	}
}

// bigMessage is a text of n bytes from bob to alice, sealed with bob's
// meta and visa attached, parsed and opened as alice's client does.
func bigMessage(t testing.TB, alice, bob *dimp.Identity, n int) ([]byte, *Layers) {
	t.Helper()
	text := strings.Repeat("lorem ipsum ", n/12+1)[:n]
	im := dimp.NewInstantMessage(bob.ID, alice.ID, dimp.NewText(text))
	rm, err := dimp.NewPacker(bob).Seal(im, []*dimp.Profile{alice.Profile()}, dimp.SealOptions{Attach: true})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rm.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := dimp.ParseReliableMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := dimp.NewPacker(alice).Open(parsed, bob.Profile())
	if err != nil {
		t.Fatal(err)
	}
	return raw, &Layers{Reliable: parsed, Verified: true, Instant: opened}
}

func newIdentity(t testing.TB, name string) *dimp.Identity {
	t.Helper()
	sign, _ := crypto.GenerateECC()
	visa, _ := crypto.GenerateRSA(1024)
	id, err := dimp.NewIdentity(dimp.User, dimp.MetaMKM, name, name, sign, visa)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A frame of 700 KB is kept as a frame of a few kilobytes that still
// shows everything but the bulk, and shares no memory with the frame.
func TestShrinkFrame(t *testing.T) {
	alice, bob := newIdentity(t, "alice"), newIdentity(t, "bob")
	raw, layers := bigMessage(t, alice, bob, 700<<10)
	layers.Signer = &KeyUse{Owner: bob.ID, Role: MetaKey, Algorithm: crypto.AlgECC, Bits: 256, Fingerprint: "0a1b2c3d"}
	layers.MessageKey = &MessageKey{Algorithm: "AES-256-CBC", Key: make([]byte, 32)}
	sum := sha256.Sum256(raw)
	head, slim, cut := shrinkFrame(raw, layers, DefaultFrameHead)
	if cut.Size != len(raw) || cut.SHA256 != sum {
		t.Errorf("cut %d bytes %x, want %d %x", cut.Size, cut.SHA256, len(raw), sum)
	}
	if len(head) > DefaultFrameHead || !json.Valid(head) {
		t.Fatalf("head of %d bytes, valid JSON %v", len(head), json.Valid(head))
	}
	rm := slim.Reliable
	if rm == nil || !rm.Sender.Equal(bob.ID) || !rm.Receiver.Equal(alice.ID) || rm.Meta == nil || rm.Visa == nil ||
		!strings.HasPrefix(layers.Reliable.Data, strings.TrimSuffix(rm.Data, NotKept(len(layers.Reliable.Data)-maxKeptString))) {
		t.Errorf("reliable layer of the head: %+v", rm)
	}
	if !slim.Verified || slim.Instant == nil {
		t.Fatalf("layers of the head: %+v", slim)
	}
	// What the client recorded of the keys is kept whole: it is small.
	if slim.Signer != layers.Signer || slim.MessageKey != layers.MessageKey {
		t.Errorf("keys of the head: signer %+v, message key %+v", slim.Signer, slim.MessageKey)
	}
	text := slim.Instant.Content.(*dimp.TextContent).Text
	if want := strings.Repeat("lorem ipsum ", 400)[:maxKeptString] + NotKept(700<<10-maxKeptString); text != want {
		t.Errorf("text of the head: %q…, %d bytes; want %d", text[:20], len(text), len(want))
	}
	// Nothing points into the frame or the layers given.
	before := string(head) + slim.Reliable.Data + text
	clear(raw)
	layers.Reliable.Data = ""
	if after := string(head) + slim.Reliable.Data + text; after != before {
		t.Error("the head changed with the frame")
	}

	// Not JSON: the first bytes.
	garbage := bytes.Repeat([]byte("é"), 20000)
	head, slim, cut = shrinkFrame(garbage, &Layers{ParseErr: dimp.ErrInvalidMessage}, 1001)
	if string(head) != strings.Repeat("é", 500) || cut.Size != 40000 || slim.ParseErr != dimp.ErrInvalidMessage {
		t.Errorf("garbage: head %d bytes, cut %+v, layers %+v", len(head), cut, slim)
	}
}

// The client reports a long frame by its head.
func TestLongFramesAreReportedByTheirHead(t *testing.T) {
	l, _ := newTestLoop(t, dimp.ID{}, 16)
	big := bytes.Repeat([]byte("x"), 1<<20)
	l.c.emit(l.ctx, FrameEvent{Dir: In, Raw: big, Kind: KindOther, Layers: &Layers{ParseErr: dimp.ErrInvalidMessage}})
	l.c.emit(l.ctx, FrameEvent{Dir: In, Raw: []byte("PING"), Kind: KindPing})
	l.c.emit(l.ctx, HeldEvent{Dir: In, Raw: big, Kind: KindOther})
	evs := drainEvents(l)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	if f := evs[0].(FrameEvent); f.Cut == nil || f.Cut.Size != 1<<20 || len(f.Raw) != DefaultFrameHead {
		t.Errorf("long frame reported with %d bytes, cut %+v", len(f.Raw), f.Cut)
	}
	if f := evs[1].(FrameEvent); f.Cut != nil || string(f.Raw) != "PING" {
		t.Errorf("short frame reported as %q, cut %+v", f.Raw, f.Cut)
	}
	if h := evs[2].(HeldEvent); h.Cut == nil || len(h.Raw) != DefaultFrameHead {
		t.Errorf("long held frame reported with %d bytes", len(h.Raw))
	}
}

// heapInUse is the heap in use once the garbage is collected.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// What the client keeps of the messages it received (for MarkRead) is not
// the messages: 40 messages of 700 KB leave a few kilobytes behind.
func TestReceivedMessagesAreNotKept(t *testing.T) {
	l, alice := newTestLoop(t, dimp.ID{}, 1<<10)
	bob := newIdentity(t, "bob")
	l.learn(bob.Profile())
	base := heapInUse()
	for range 40 {
		raw, _ := bigMessage(t, alice, bob, 700<<10)
		l.receiveOne(raw, true)
		drainEvents(l)
	}
	if n := len(l.inbox); n != 40 {
		t.Fatalf("%d messages kept for MarkRead, want 40", n)
	}
	grown := heapInUse() - base
	t.Logf("40 messages of 700 KB received: the heap grew by %d KB", grown>>10)
	if grown > 4<<20 {
		t.Errorf("the heap grew by %d MB, want under 4 MB", grown>>20)
	}
	for id := range l.inbox {
		if err := l.markRead(id); err != nil {
			t.Fatal(err)
		}
		break
	}
}

// Messages waiting for their sender's visa are bounded by bytes: the
// oldest go, unacknowledged, and the rest are opened once the visa comes.
func TestHeldMessagesAreBounded(t *testing.T) {
	l, alice := newTestLoop(t, dimp.ID{}, 1<<12)
	bob := newIdentity(t, "bob")
	raw, _ := bigMessage(t, alice, bob, 700<<10)
	rm, _ := dimp.ParseReliableMessage(raw)
	rm.Meta, rm.Visa = nil, nil // the station sends it bare: bob is unknown
	n := 2*maxHeldBytes/len(raw) + 1
	for range n {
		bare, _ := rm.MarshalJSON()
		l.receiveOne(bare, true)
	}
	if l.heldBytes > maxHeldBytes {
		t.Errorf("%d bytes held, more than %d", l.heldBytes, maxHeldBytes)
	}
	dropped := 0
	for _, ev := range drainEvents(l) {
		if e, ok := ev.(ErrorEvent); ok && strings.Contains(e.Err.Error(), "left at the station") {
			dropped++
		}
	}
	kept := len(l.waitIn[IDKey(bob.ID)])
	if dropped == 0 || dropped+kept != n {
		t.Errorf("%d dropped and %d kept of %d", dropped, kept, n)
	}
	l.learn(bob.Profile())
	if l.heldBytes != 0 || len(l.waitIn) != 0 {
		t.Errorf("after the visa came: %d bytes held in %d lists", l.heldBytes, len(l.waitIn))
	}
}

// Step-through holds at most maxGatedBytes: past it the oldest frames go on.
func TestStepThroughIsBoundedInBytes(t *testing.T) {
	l, _ := newTestLoop(t, dimp.ID{}, 1<<16)
	l.step = StepAll
	big := bytes.Repeat([]byte("x"), 1<<20)
	for range 3 * maxGatedBytes >> 20 {
		l.arrive(inFrame{payload: big})
	}
	if l.gateBytes > maxGatedBytes || len(l.gate) != maxGatedBytes>>20 {
		t.Errorf("%d frames held in %d bytes, want %d in at most %d", len(l.gate), l.gateBytes, maxGatedBytes>>20, maxGatedBytes)
	}
	l.release(0)
	if l.gateBytes != 0 {
		t.Errorf("%d bytes held after all were released", l.gateBytes)
	}
}
