package workshop

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"dimtui/client"
	"dimtui/dimp"
)

// Whatever comes, the transcript stays within its budget, the oldest
// records going first.
func TestTranscriptIsBounded(t *testing.T) {
	alice := dimp.MustParseID("alice@1U3SLZr1jC1vJrYrBomLjn9y7BVwxv1nB")
	bob := dimp.MustParseID("bob@1KTtckknLw3AxD1WK4oLYpVN7RkQevC8wK")
	r := NewRecorder()
	v := Viewpoint{Me: alice, Know: NewKnowledge()}
	garbage := bytes.Repeat([]byte("garbage "), 900<<10/8)
	for i := range 300 {
		copy(garbage, fmt.Sprintf("%08d", i))
		r.Observe(0, v, client.FrameEvent{Time: at(i), Dir: client.In, Raw: garbage, Kind: client.KindOther,
			Layers: &client.Layers{ParseErr: dimp.ErrInvalidMessage}})
		r.Observe(0, v, client.ErrorEvent{Time: at(i), Err: fmt.Errorf("frame from the station: %w at %d", dimp.ErrInvalidMessage, i)})
	}
	text := strings.Repeat("lorem ipsum ", 20<<10/12)
	for i := range 3000 {
		r.Observe(0, v, client.MessageEvent{Time: at(i), ID: client.MessageID(fmt.Sprint(i)),
			Message: dimp.NewInstantMessage(bob, alice, dimp.NewText(fmt.Sprintf("%04d %s", i, text)))})
	}
	if r.bytes > transcriptBytes || r.cut == 0 {
		t.Errorf("transcript: %d records cost %d bytes, budget %d, %d dropped", len(r.entries), r.bytes, transcriptBytes, r.cut)
	}
	if last := r.entries[len(r.entries)-1].rec; last.ID != "2999" {
		t.Errorf("the newest record is %q", last.ID)
	}
}

func TestReadTranscriptErrors(t *testing.T) {
	for _, in := range []string{"", "not json\n", `{"event":"transcript","version":99}` + "\n"} {
		if _, err := ReadTranscript(strings.NewReader(in)); err == nil {
			t.Errorf("ReadTranscript(%q) did not fail", in)
		}
	}
}
