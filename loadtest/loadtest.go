// Package loadtest is `dimtui bench station`: it measures the station
// under load against a bare WebSocket relay carrying the same traffic.
//
// The station runs in this process; the clients run in a child process (the
// same binary), so that the station's memory per session can be read from
// its own runtime and the two sides do not share file descriptors.
package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"dimtui/mockstation"
)

// Options configure a run.
type Options struct {
	Clients  int    // handshaken clients, in sending pairs
	Messages int    // messages in all, per phase
	Window   int    // messages in flight per pair
	Key      string // rsa or ecc: the clients' meta keys
	// MemProfile, when set, names a file for the station's heap profile,
	// taken once every client has handshaken.
	MemProfile string
	// Child is the command line that starts the load generator: this
	// binary with the flags that make it call RunChild.
	Child []string
	Out   io.Writer
}

// Report is the outcome of a run.
type Report struct {
	Options
	HandshakeSeconds float64
	BytesPerSession  float64 // the station's heap and stacks per handshaken session
	HeapPerSession   float64 // the heap part of it
	StackPerSession  float64 // the goroutine stacks part of it
	Station          phaseResult
	StationHalf      phaseResult
	Relay            phaseResult
	// CPU is the CPU time this process (the station, or the relay in its
	// phase) used in each phase, in seconds, by phase name.
	CPU map[string]float64
}

// Run starts a station and a relay, runs the load generator against both,
// and prints the report.
func Run(ctx context.Context, opt Options) (*Report, error) {
	if opt.MemProfile != "" {
		runtime.MemProfileRate = 4096 // a profile fine enough to tell per-session costs apart
	}
	dir, err := os.MkdirTemp("", "dimtui-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: dir, RateLimit: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stationURL, err := serve(ctx, func(ln net.Listener) error { return srv.Serve(ctx, ln) })
	if err != nil {
		return nil, err
	}
	relay := NewRelay()
	relayURL, err := serve(ctx, func(ln net.Listener) error { return (&http.Server{Handler: relay}).Serve(ln) })
	if err != nil {
		return nil, err
	}

	base := readLive()
	args := append(append([]string{}, opt.Child[1:]...),
		"--station-url", stationURL, "--relay-url", relayURL,
		"--clients", strconv.Itoa(opt.Clients), "--messages", strconv.Itoa(opt.Messages),
		"--window", strconv.Itoa(opt.Window), "--key", opt.Key)
	cmd := exec.CommandContext(ctx, opt.Child[0], args...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start load generator: %w", err)
	}
	defer func() { _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<16), 1<<20)
	rep := &Report{Options: opt, CPU: map[string]float64{}}
	marks := map[string]time.Duration{}
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "MARK "):
			name, end, _ := strings.Cut(strings.TrimPrefix(line, "MARK "), " ")
			if end == "begin" {
				marks[name] = cpuTime()
			} else {
				rep.CPU[name] = (cpuTime() - marks[name]).Seconds()
			}
		case strings.HasPrefix(line, "READY "):
			rep.HandshakeSeconds, _ = strconv.ParseFloat(strings.TrimPrefix(line, "READY "), 64)
			st, err := srv.Status(ctx)
			if err != nil {
				return nil, err
			}
			if st.Sessions != opt.Clients {
				return nil, fmt.Errorf("station has %d sessions, want %d", st.Sessions, opt.Clients)
			}
			now := readLive()
			n := float64(opt.Clients)
			rep.HeapPerSession = (float64(now.heap) - float64(base.heap)) / n
			rep.StackPerSession = (float64(now.stack) - float64(base.stack)) / n
			rep.BytesPerSession = rep.HeapPerSession + rep.StackPerSession
			fmt.Fprintf(opt.Out, "%d clients handshaken in %.2f s; station memory %.1f KiB per session (heap %.1f, stacks %.1f)\n",
				opt.Clients, rep.HandshakeSeconds, rep.BytesPerSession/1024, rep.HeapPerSession/1024, rep.StackPerSession/1024)
			if opt.MemProfile != "" {
				if err := writeHeapProfile(opt.MemProfile); err != nil {
					return nil, err
				}
			}
			if _, err := io.WriteString(stdin, "GO\n"); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "RESULT "):
			var res childResult
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &res); err != nil {
				return nil, err
			}
			rep.Station, rep.StationHalf, rep.Relay = res.Station, res.StationHalf, res.Relay
			rep.print(opt.Out)
			return rep, nil
		default:
			fmt.Fprintln(opt.Out, line)
		}
	}
	return nil, errors.New("the load generator stopped without a result")
}

// serve listens on a free loopback port and serves there.
func serve(ctx context.Context, run func(net.Listener) error) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() { _ = run(ln) }()
	return "ws://" + ln.Addr().String(), nil
}

// live is the memory in use: heap and goroutine stacks.
type live struct{ heap, stack uint64 }

// readLive reads the heap in use and the goroutine stacks, after
// collection.
func readLive() live {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return live{heap: m.HeapAlloc, stack: m.StackInuse}
}

// writeHeapProfile writes the live heap to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%d clients (%d pairs), %d messages a phase, %d in flight per pair, %s meta keys\n",
		r.Clients, r.Clients/2, r.Messages, r.Window, strings.ToUpper(r.Key))
	fmt.Fprintf(w, "%-28s %10s %9s %9s %12s %12s\n", "", "msg/s", "p50", "p99", "server CPU", "load CPU")
	row := func(name, phase string, p phaseResult) {
		perMsg := func(sec float64) float64 { return sec / float64(max(p.Messages, 1)) * 1e6 }
		fmt.Fprintf(w, "%-28s %10.0f %7.2f ms %6.2f ms %6.1f µs/msg %6.1f µs/msg\n", name, p.PerSecond, p.P50ms, p.P99ms,
			perMsg(r.CPU[phase]), perMsg(p.LoadCPU))
	}
	row("DIM station, full load", phaseStation, r.Station)
	row("bare WebSocket relay", phaseRelay, r.Relay)
	row("DIM station, half load", phaseStationHalf, r.StationHalf)
	fmt.Fprintf(w, "\nstation / relay throughput: %.2f (target ≥ 0.50)\n", r.Station.PerSecond/r.Relay.PerSecond)
	fmt.Fprintf(w, "p99 at half load: %.2f ms (target < 5 ms)\n", r.StationHalf.P99ms)
	fmt.Fprintf(w, "station memory per session: %.1f KiB (target ≤ 30 KiB)\n", r.BytesPerSession/1024)
	fmt.Fprintln(w, "The station verifies every signature, stores every message in SQLite before")
	fmt.Fprintln(w, "answering, signs a receipt for each, and deletes it when the receiver's ACK comes.")
	fmt.Fprintln(w, "CPU columns: CPU time of the server process (station or relay) and of the load")
	fmt.Fprintln(w, "generator, per message; both share the machine's cores.")
}
