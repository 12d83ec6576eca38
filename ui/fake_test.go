package ui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"dimtui/client"
	"dimtui/client/transfer"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// fakeBackend stands in for a client: tests push events into it and read
// the calls the UI made.
type fakeBackend struct {
	me     dimp.ID
	events chan client.Event

	mu        sync.Mutex
	status    client.Status
	sent      []sentCall
	read      []client.MessageID
	users     int
	searches  []string
	reconnect int
	sn        int
	// autoSent makes Send report SentEvent and DeliveryEvent(Sending) as
	// the real client does.
	autoSent bool
	now      func() time.Time
	// Step-through calls, and a hook run on each Release.
	steps     []client.StepMode
	releases  []int
	onRelease func(n int)
}

// SetStep and Release make the fake a Stepper.
func (f *fakeBackend) SetStep(_ context.Context, m client.StepMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.steps = append(f.steps, m)
	return nil
}

func (f *fakeBackend) Release(_ context.Context, n int) error {
	f.mu.Lock()
	f.releases = append(f.releases, n)
	hook := f.onRelease
	f.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return nil
}

func (f *fakeBackend) stepCalls() ([]client.StepMode, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.StepMode(nil), f.steps...), append([]int(nil), f.releases...)
}

type sentCall struct {
	to      dimp.ID
	content dimp.Content
}

func newFake(me dimp.ID) *fakeBackend {
	return &fakeBackend{me: me, events: make(chan client.Event, 4096), autoSent: true,
		status: client.Status{State: client.Default, URL: "ws://127.0.0.1:9394"},
		now:    func() time.Time { return testTime(0) }}
}

func (f *fakeBackend) Me() dimp.ID { return f.me }
func (f *fakeBackend) Status() client.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}
func (f *fakeBackend) Events() <-chan client.Event { return f.events }

func (f *fakeBackend) Send(_ context.Context, to dimp.ID, c dimp.Content) (client.MessageID, error) {
	f.mu.Lock()
	f.sent = append(f.sent, sentCall{to, c})
	f.sn++
	id := client.MessageID(fmt.Sprintf("%s#%d", f.me, f.sn))
	auto := f.autoSent
	f.mu.Unlock()
	if auto {
		im := dimp.NewInstantMessage(f.me, to, c)
		f.events <- client.SentEvent{Time: f.now(), ID: id, Message: im}
		f.events <- client.DeliveryEvent{Time: f.now(), ID: id, State: client.Sending}
	}
	return id, nil
}

func (f *fakeBackend) ActiveUsers(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users++
	return nil
}

// Search makes the fake a Searcher; tests feed the answer.
func (f *fakeBackend) Search(_ context.Context, keywords string) (client.MessageID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searches = append(f.searches, keywords)
	f.sn++
	return client.MessageID(fmt.Sprintf("%s#%d", f.me, f.sn)), nil
}

func (f *fakeBackend) searchCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.searches...)
}

func (f *fakeBackend) MarkRead(_ context.Context, id client.MessageID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read = append(f.read, id)
	return nil
}

func (f *fakeBackend) Peer(context.Context, dimp.ID) (*dimp.Profile, error) { return nil, nil }

func (f *fakeBackend) Reconnect(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnect++
	return nil
}

func (f *fakeBackend) sentCalls() []sentCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentCall(nil), f.sent...)
}

func (f *fakeBackend) readCalls() []client.MessageID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]client.MessageID(nil), f.read...)
}

// testTime is a fixed instant plus some seconds, so that golden files do
// not depend on the clock.
func testTime(sec int) time.Time {
	return time.Date(2025, 11, 26, 9, 30, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second)
}

// Test identities: real users from the reference vectors, and a station
// and an echo bot with addresses made from fixed bytes.
var (
	alice = dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	bob   = dimp.MustParseID("bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	moky  = dimp.MustParseID("moky@1KWUHuVZ2nobdbUquoRRgC8vQR7Q72AGZq")
)

func testStation() dimp.ID {
	return dimp.NewID("gsp-s001", dimp.BTCAddress([]byte("station fingerprint"), byte(dimp.Station)), "")
}

func testEcho() dimp.ID {
	return dimp.NewID("echo", dimp.BTCAddress([]byte("echo fingerprint"), byte(dimp.User)), "")
}

// vectorFrame returns a real message from the reference vectors (alice to
// bob) as the client would report it, with its layers opened.
func vectorFrame(t testing.TB) client.FrameEvent {
	t.Helper()
	raw, err := os.ReadFile("../dimp/testdata/vectors/messages.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Pipelines []struct {
			Name           string          `json:"name"`
			WireJSON       string          `json:"wire_json"`
			InstantMessage json.RawMessage `json:"instant_message"`
			SymmetricKey   json.RawMessage `json:"symmetric_key"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	p := v.Pipelines[0]
	rm, err := dimp.ParseReliableMessage([]byte(p.WireJSON))
	if err != nil {
		t.Fatal(err)
	}
	im, err := dimp.ParseInstantMessage(p.InstantMessage)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := crypto.ParseSymmetricKey(p.SymmetricKey)
	if err != nil {
		t.Fatal(err)
	}
	// What bob's client records as it opens the message: alice's meta
	// key verified it, bob's visa key decrypted its message key.
	sender, receiver := vectorUser(t, "alice"), vectorUser(t, "bob")
	visa, err := receiver.Visa.VisaKey()
	if err != nil {
		t.Fatal(err)
	}
	layers := &client.Layers{Reliable: rm, Verified: true, Instant: im,
		Signer: vectorKeyUse(sender.ID, client.MetaKey, sender.Meta.Key),
		MessageKey: &client.MessageKey{Algorithm: "AES-256-CBC", Key: pw.Data(), IV: rm.IV,
			DecryptedBy: vectorKeyUse(receiver.ID, client.VisaKey, visa), Entry: receiver.ID.String()}}
	return client.FrameEvent{Time: testTime(5), Dir: client.In, Raw: []byte(p.WireJSON), Kind: client.KindText, Layers: layers}
}

// vectorKeyUse describes an RSA key of the vectors as the client does.
func vectorKeyUse(owner dimp.ID, role client.KeyRole, k crypto.PublicKey) *client.KeyUse {
	sum := sha256.Sum256(k.Data())
	return &client.KeyUse{Owner: owner, Role: role, Algorithm: k.Algorithm(), Bits: k.(*crypto.RSAPublicKey).Size() * 8,
		Fingerprint: hex.EncodeToString(sum[:4])}
}

// SendFile and SaveFile make the fake a file backend: SendFile reports a
// file content as sent, SaveFile writes the content's name and URL into
// dir, with the progress the test set.
func (f *fakeBackend) SendFile(ctx context.Context, to dimp.ID, path string, progress transfer.Progress) (client.MessageID, error) {
	fc := &dimp.FileContent{Head: dimp.NewHead(dimp.ContentFile), Filename: filepath.Base(path), URL: "http://127.0.0.1:9394/download/x/y.bin"}
	if progress != nil {
		progress(1, 2)
	}
	return f.Send(ctx, to, fc)
}

func (f *fakeBackend) SaveFile(_ context.Context, fc *dimp.FileContent, dir string, progress transfer.Progress) (string, error) {
	if progress != nil {
		progress(1, 2)
	}
	if fc.URL == "" {
		return "", client.ErrNoFile
	}
	return transfer.Save(dir, fc.Filename, []byte(fc.URL))
}
