package mockstation

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Status is what GET /status reports.
type Status struct {
	Station        string    `json:"station"`         // the station's ID
	Started        time.Time `json:"started"`         // when the server was created
	UptimeSeconds  float64   `json:"uptime_seconds"`  // since then
	Connections    int64     `json:"connections"`     // open WebSocket and MTP connections
	Sessions       int       `json:"sessions"`        // handshaken, active connections
	UsersOnline    int       `json:"users_online"`    // users with at least one session
	Users          []string  `json:"users"`           // their IDs, sorted
	StoredMessages int64     `json:"stored_messages"` // messages waiting for acknowledgement
	// Limits are the connection limits of Serve and what they did.
	Limits LimitsStatus `json:"limits"`
	// Links are the links to neighbour stations; Elsewhere the users whose
	// newest login is at another station.
	Links     []LinkStatus   `json:"links"`
	Elsewhere []UserLocation `json:"elsewhere"`
}

// Status reports the station's state now.
func (s *Server) Status(ctx context.Context) (Status, error) {
	users, sessions := s.hub.online()
	if users == nil {
		users = []string{}
	}
	st := Status{Station: s.me.ID.String(), Started: s.started, UptimeSeconds: time.Since(s.started).Seconds(),
		Connections: s.conns.Load(), Sessions: sessions, UsersOnline: len(users), Users: users,
		Limits: s.gate.status()}
	st.Links, st.Elsewhere = s.networkStatus()
	if st.Links == nil {
		st.Links = []LinkStatus{}
	}
	if st.Elsewhere == nil {
		st.Elsewhere = []UserLocation{}
	}
	n, err := s.store.CountMessages(ctx)
	if err != nil {
		return st, err
	}
	st.StoredMessages = n
	return st, nil
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.Status(r.Context())
	if err != nil {
		s.log.Error("status", "err", err)
		http.Error(w, "status unavailable", http.StatusInternalServerError)
		return
	}
	body, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		http.Error(w, "status unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(body, '\n'))
}
