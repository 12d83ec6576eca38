package workshop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"dimtui/client"
	"dimtui/dimp/dimptest"
)

// exportedTranscript is the JSON Lines a workshop exports after a short
// session: a handshake, a chat with bob, a message of 700 KB from bob
// (cut), an error, a station notice.
func exportedTranscript(tb testing.TB) []byte {
	tb.Helper()
	w := dimptest.NewWorld(tb)
	fr, msg := textFrom(w, 9, "0009 "+strings.Repeat("lorem ipsum ", 700<<10/12))
	evs := append(session(w), fr, msg, client.ErrorEvent{Time: at(10), Err: errors.New("frame from the station: not JSON")})
	return []byte(jsonl(tb, record(w, evs...)))
}

// A line that cannot be read is named by its number, whatever is wrong
// with it.
func TestReadTranscriptNamesTheLine(t *testing.T) {
	good := exportedTranscript(t)
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	if _, err := ReadTranscript(bytes.NewReader(good)); err != nil {
		t.Fatalf("the exported transcript: %v", err)
	}
	for _, bad := range []string{
		`{"event":"frame","raw":`,
		`not json at all`,
		`{"event":"status","time":"2025-11-26T09:30:00Z","pane":0}`,
		`{"event":"message","pane":0,"message":{"sender":"nobody"}}`,
		`{"event":"delivery","pane":0,"state":"teleported"}`,
		`{"event":"receipt","pane":0,"receipt":[1,2]}`,
		`{"event":"frame","pane":0,"dir":"in","raw":"PING","size":900000,"sha256":"not hex"}`,
		`{"event":"frame","pane":0,"dir":"in","raw":"PING","sha256":"` + strings.Repeat("ab", 32) + `"}`,
		`{"event":"transcript","version":99}`,
		`{"time":"yesterday","event":"error"}`,
		"[]",
	} {
		in := strings.Join(append(append(lines[:2:2], bad), lines[2:]...), "\n")
		_, err := ReadTranscript(strings.NewReader(in))
		var te *TranscriptError
		if !errors.As(err, &te) || te.Line != 3 || !strings.HasPrefix(err.Error(), "transcript line 3: ") {
			t.Errorf("%s: error %v, want one naming line 3", bad, err)
		}
	}
	// A record of an event a later version writes is kept, not refused.
	in := strings.Join(append(append(lines[:2:2], `{"event":"hologram","pane":0}`), lines[2:]...), "\n")
	if tr, err := ReadTranscript(strings.NewReader(in)); err != nil || tr.Records[1].Event != "hologram" {
		t.Errorf("an unknown event: %v", err)
	}
	// A line longer than any /export writes.
	long := lines[0] + "\n" + `{"event":"error","text":"` + strings.Repeat("x", maxTranscriptLine) + `"}` + "\n"
	if _, err := ReadTranscript(strings.NewReader(long)); err == nil || !strings.Contains(err.Error(), "transcript line 2: longer than") {
		t.Errorf("a line of 16 MB: %v", err)
	}
}

// FuzzReadTranscript feeds the reader behind `dimtui replay` with a real
// exported transcript, its lines, and what the fuzzer makes of them.
// Nothing panics; what is read replays to its end, record by record; what
// is refused names the line at fault.
func FuzzReadTranscript(f *testing.F) {
	seed := exportedTranscript(f)
	f.Add(seed)
	lines := bytes.Split(seed, []byte("\n"))
	for _, l := range lines[1:] {
		f.Add(append(append(bytes.Clone(lines[0]), '\n'), l...))
	}
	f.Add([]byte("not json\n"))
	f.Add([]byte(`{"event":"frame","pane":3,"raw":"PING","kind":"ping"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadTranscript(bytes.NewReader(data))
		if err != nil {
			var te *TranscriptError
			switch {
			case errors.As(err, &te):
				if n := bytes.Count(data, []byte("\n")) + 1; te.Line < 1 || te.Line > n {
					t.Errorf("error at line %d of %d: %v", te.Line, n, err)
				}
				if want := fmt.Sprintf("transcript line %d: ", te.Line); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q does not start %q", err, want)
				}
			case err.Error() != "transcript: no events":
				t.Errorf("an error that names no line: %v", err)
			}
			return
		}
		for i, rec := range tr.Records {
			if rec.Event == "notice" {
				continue
			}
			if _, err := rec.ClientEvent(); err != nil && !errors.Is(err, errUnknownRecord) {
				t.Errorf("record %d was read but does not replay: %v", i, err)
			}
		}
		replayAll(t, tr)
	})
}

// replayAll plays a transcript to its end as fast as it goes, reading
// every pane.
func replayAll(t *testing.T, tr *Transcript) {
	rp := NewReplay(tr, ReplayOptions{Speed: 0})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, p := range rp.Panes() {
		go func(b *ReplayClient) {
			for {
				select {
				case <-b.Events():
				case <-ctx.Done():
					return
				}
			}
		}(p.Client)
	}
	go func() {
		for {
			select {
			case <-rp.Notices():
			case <-ctx.Done():
				return
			}
		}
	}()
	// At its end the replay waits for a seek back, until it is stopped.
	done := make(chan error, 1)
	go func() { done <- rp.Run(ctx) }()
	select {
	case <-rp.Finished():
	case err := <-done:
		t.Errorf("replay stopped before its end: %v", err)
		return
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("replay: %v", err)
	}
}
