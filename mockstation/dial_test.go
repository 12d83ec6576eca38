package mockstation

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
)

// A neighbour URL where a user answers the station's Hello world! is not
// linked: the handshake fails with ErrNotStation, and nothing is linked.
func TestDialRefusesWhatIsNotAStation(t *testing.T) {
	impostor := newUser(t, "impostor")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		_, data, err := ws.Read(r.Context())
		if err != nil {
			return
		}
		hello, err := dimp.ParseReliableMessage(data)
		if err != nil {
			return
		}
		station, err := dimp.ProfileFromMessage(hello)
		if err != nil {
			return
		}
		ask := dimp.NewHandshake(dimp.HandshakeAsk, strings.Repeat("ab", 32))
		rm, err := dimp.NewPacker(impostor).Seal(dimp.NewInstantMessage(impostor.ID, station.ID, ask),
			[]*dimp.Profile{station}, dimp.SealOptions{Attach: true})
		if err != nil {
			return
		}
		out, _ := rm.MarshalJSON()
		_ = ws.Write(r.Context(), websocket.MessageText, out)
		_, _, _ = ws.Read(r.Context()) // until the station closes
	}))
	defer srv.Close()

	s, err := New(t.Context(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err = s.dialLink(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/")
	if !errors.Is(err, ErrNotStation) {
		t.Fatalf("dial an impostor: %v, want ErrNotStation", err)
	}
	if links, _ := s.networkStatus(); len(links) != 0 {
		t.Errorf("linked to %v", links)
	}
}

func TestNeighborURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ws://10.0.0.1:9394/", "ws://10.0.0.1:9394/"},
		{"127.0.0.1:9395", "ws://127.0.0.1:9395/"},
		{"wss://station.example/dim", "wss://station.example/dim"},
		{"http://127.0.0.1:9394/", ""},
		{"ws:///nohost", ""},
	} {
		got, err := NeighborURL(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrNeighbor) {
				t.Errorf("NeighborURL(%q) = %q, %v; want ErrNeighbor", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NeighborURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
