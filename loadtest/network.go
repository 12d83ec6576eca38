package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// `dimtui bench network`: the same traffic between users of one station,
// across one link (the receivers at the next station) and across two
// (the receivers two stations away), in one run. Three stations in a line
// run in this process, A — B — C; the senders are at A. Each topology is
// run at full speed (throughput) and paced at a rate all three can carry
// (latency), so that the added latency of a hop is not queueing.

// NetworkOptions configure `bench network`.
type NetworkOptions struct {
	Clients  int     // per topology, in sending pairs
	Messages int     // per phase
	Window   int     // messages in flight per pair
	Key      string  // rsa or ecc
	Paced    float64 // the paced phases' share of the one-station throughput (0: 0.3)
	Out      io.Writer
}

// NetworkReport is the outcome of `bench network`.
type NetworkReport struct {
	NetworkOptions
	Full  [3]phaseResult // one station, one link, two links: full speed
	Paced [3]phaseResult // the same, paced
	Rate  float64        // the paced phases' rate, messages per second
}

// topologies name the receivers' stations: 0 the senders' own, 1 the next,
// 2 the one after.
var topologies = [3]string{"one station (A → A)", "one link (A → B)", "two links (A → B → C)"}

// RunNetwork starts the three stations, connects the clients and runs the
// phases, and prints the report.
func RunNetwork(ctx context.Context, opt NetworkOptions) (*NetworkReport, error) {
	if opt.Clients < 2 || opt.Clients%2 != 0 {
		return nil, errors.New("--clients must be an even number ≥ 2")
	}
	if opt.Paced <= 0 {
		opt.Paced = 0.3
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var urls []string
	var srvs []*mockstation.Server
	for i := range 3 {
		dir, err := os.MkdirTemp("", "dimtui-bench-network-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		var neighbors []string
		if i > 0 {
			neighbors = []string{urls[i-1] + "/"}
		}
		srv, err := mockstation.New(ctx, mockstation.Config{DataDir: dir, RateLimit: -1, Neighbors: neighbors,
			QuotaSenderMessages: -1, QuotaReceiverMessages: -1, QuotaSenderBytes: -1, QuotaReceiverBytes: -1,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		url, err := serve(ctx, func(ln net.Listener) error { return srv.Serve(ctx, ln) })
		if err != nil {
			return nil, err
		}
		urls, srvs = append(urls, url), append(srvs, srv)
	}
	if err := waitLinks(ctx, srvs); err != nil {
		return nil, err
	}
	rep := &NetworkReport{NetworkOptions: opt}
	var sets [3][]*conn
	for t := range 3 {
		conns, err := connectSpread(ctx, opt, urls[0], urls[t], srvs)
		if err != nil {
			return nil, err
		}
		defer closeAll(conns)
		sets[t] = conns
	}
	fmt.Fprintf(opt.Out, "3 stations linked A — B — C; %d clients per topology, senders at A\n", opt.Clients)
	for t := range 3 {
		traffic, err := sealTraffic(sets[t], opt.Messages)
		if err != nil {
			return nil, err
		}
		if rep.Full[t], err = runTraffic(ctx, sets[t], traffic, opt.Window, 0, true); err != nil {
			return nil, fmt.Errorf("%s: %w", topologies[t], err)
		}
		fmt.Fprintf(opt.Out, "%-24s full speed: %.0f msg/s\n", topologies[t], rep.Full[t].PerSecond)
	}
	rep.Rate = opt.Paced * min(rep.Full[0].PerSecond, rep.Full[1].PerSecond, rep.Full[2].PerSecond)
	for t := range 3 {
		traffic, err := sealTraffic(sets[t], opt.Messages/2)
		if err != nil {
			return nil, err
		}
		if rep.Paced[t], err = runTraffic(ctx, sets[t], traffic, opt.Window, rep.Rate, true); err != nil {
			return nil, fmt.Errorf("%s, paced: %w", topologies[t], err)
		}
	}
	rep.print(opt.Out)
	return rep, nil
}

// waitLinks waits until B is linked to A and C, and C to B.
func waitLinks(ctx context.Context, srvs []*mockstation.Server) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := true
		for i, want := range []int{1, 2, 1} {
			st, err := srvs[i].Status(ctx)
			if err != nil {
				return err
			}
			if len(st.Links) < want {
				ok = false
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("the stations did not link in 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connectSpread connects the clients of one topology: the senders (even)
// at from, the receivers (odd) at to. The receivers log in, and the call
// returns once station A knows where each one is.
func connectSpread(ctx context.Context, opt NetworkOptions, from, to string, srvs []*mockstation.Server) ([]*conn, error) {
	users, err := makeUsers(opt.Clients, opt.Key)
	if err != nil {
		return nil, err
	}
	conns, err := connectAll(ctx, opt.Clients, func(ctx context.Context, i int) (*peer, error) {
		url := from
		if i%2 == 1 {
			url = to
		}
		p, station, err := handshake(ctx, url, users[i])
		if err != nil {
			return nil, err
		}
		login := dimp.NewLogin(users[i].ID, "dimtui bench", &dimp.LoginStation{ID: station.ID})
		if err := p.seal(ctx, dimp.Everyone, login, nil, true); err != nil {
			return nil, err
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	if from == to {
		return conns, nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := srvs[0].Status(ctx)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		known := 0
		for i := 1; i < len(users); i += 2 {
			if slices.ContainsFunc(st.Elsewhere, func(u mockstation.UserLocation) bool {
				return u.User == users[i].ID.String() && u.Route != ""
			}) {
				known++
			}
		}
		if known == len(users)/2 {
			return conns, nil
		}
		if time.Now().After(deadline) {
			closeAll(conns)
			return nil, fmt.Errorf("station A knows %d of %d receivers elsewhere after 30 s", known, len(users)/2)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *NetworkReport) print(w io.Writer) {
	fmt.Fprintf(w, "\n%d clients per topology (%d pairs), %d messages a phase, %d in flight per pair, %s meta keys\n",
		r.Clients, r.Clients/2, r.Messages, r.Window, r.Key)
	fmt.Fprintf(w, "%-24s %10s %9s %9s   %s %9s %9s\n", "", "msg/s", "p50", "p99", "paced at", "p50", "p99")
	for t := range 3 {
		fmt.Fprintf(w, "%-24s %10.0f %6.2f ms %6.2f ms   %6.0f/s %6.2f ms %6.2f ms\n", topologies[t],
			r.Full[t].PerSecond, r.Full[t].P50ms, r.Full[t].P99ms, r.Rate, r.Paced[t].P50ms, r.Paced[t].P99ms)
	}
	fmt.Fprintf(w, "\nacross one link / one station: throughput %.2f, p99 (paced) %.2f\n",
		r.Full[1].PerSecond/r.Full[0].PerSecond, r.Paced[1].P99ms/max(r.Paced[0].P99ms, 1e-9))
	fmt.Fprintf(w, "added latency per hop (paced p50): one link +%.2f ms, two links +%.2f ms a hop\n",
		r.Paced[1].P50ms-r.Paced[0].P50ms, (r.Paced[2].P50ms-r.Paced[0].P50ms)/2)
	fmt.Fprintln(w, "A hop: the next station verifies the message, stores it in SQLite, acknowledges it")
	fmt.Fprintln(w, "over the link, and only then does the station before it delete its copy.")
}
