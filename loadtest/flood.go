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
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"dimtui/dimp"
	"dimtui/mockstation"
)

// FloodOptions configure `dimtui bench flood`: idle connections against a
// station with its default limits.
type FloodOptions struct {
	Conns   int // idle connections to open, in all
	Sources int // loopback source addresses they come from: 127.0.0.1 … 127.0.0.N
	// PerChild is the most connections one load process opens (each
	// process has its own limit on open files).
	PerChild int
	// Child is the command line that starts a load process: this binary
	// with the flags that make it call RunFloodChild.
	Child []string
	Out   io.Writer
}

// FloodChildOptions configure one load process.
type FloodChildOptions struct {
	Addr    string // the station's host:port
	Conns   int
	First   int // number of the first connection, for kinds and sources
	Sources int
}

// floodKinds are the idle connections, in turn: one that says nothing, an
// MTP stream that stops after "DIM", a WebSocket upgrade that never says
// Hello.
var floodKinds = []string{"silent", "dim", "ws"}

const wsUpgrade = "GET / HTTP/1.1\r\nHost: station\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
	"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

// probeSource is the address the probing clients come from, apart from
// the flood's (on systems that route all of 127/8 to loopback).
var probeSource = net.IPv4(127, 0, 1, 1)

// floodChildResult is what a load process reports.
type floodChildResult struct {
	Opened int `json:"opened"` // connections established
	Failed int `json:"failed"` // dials that failed
	Closed int `json:"closed"` // of the opened, closed by the station before the end
}

// memory is the station process's memory at one moment.
type memory struct {
	HeapInuse, StackInuse, Sys, RSS uint64
}

func readMemory() memory {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memory{HeapInuse: m.HeapInuse, StackInuse: m.StackInuse, Sys: m.Sys, RSS: readRSS()}
}

func (m memory) String() string {
	rss := "n/a"
	if m.RSS > 0 {
		rss = mib(m.RSS)
	}
	return fmt.Sprintf("heap in use %s, stacks %s, from the OS %s, RSS %s", mib(m.HeapInuse), mib(m.StackInuse), mib(m.Sys), rss)
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// readRSS reads this process's resident set from /proc (Linux); 0
// elsewhere.
func readRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// probe is what one check of the station during the flood found.
type probe struct {
	statusOK   bool
	statusTime time.Duration
	status     mockstation.Status
	chatOK     bool
	chatTime   time.Duration
	chatErr    error
	mem        memory
}

func (p probe) String() string {
	st := "GET /status FAILED"
	if p.statusOK {
		l := p.status.Limits
		st = fmt.Sprintf("GET /status %v (open %d, handshaking %d, evicted %d, timed out %d, refused %d)",
			p.statusTime.Round(time.Millisecond), l.Open, l.Handshaking, l.Evicted, l.TimedOut, l.Refused)
	}
	chat := "real clients handshook and chatted in " + p.chatTime.Round(time.Millisecond).String()
	if !p.chatOK {
		chat = fmt.Sprintf("real clients FAILED: %v", p.chatErr)
	}
	return st + "; " + chat + "; " + p.mem.String()
}

// RunFlood starts a station with its default limits in this process and
// load processes that open opt.Conns idle connections to it, and reports
// whether GET /status answers and real clients get in while they do, and
// the station's memory before, during and after.
func RunFlood(ctx context.Context, opt FloodOptions) error {
	if opt.Conns < 1 || opt.Sources < 1 {
		return errors.New("--conns and --sources must be at least 1")
	}
	if opt.PerChild < 1 {
		opt.PerChild = 8000
	}
	dir, err := os.MkdirTemp("", "dimtui-flood-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(opt.Out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := mockstation.New(ctx, mockstation.Config{DataDir: dir, Logger: log})
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url, err := serve(ctx, func(ln net.Listener) error { return srv.Serve(ctx, ln) })
	if err != nil {
		return err
	}
	addr := strings.TrimPrefix(url, "ws://")
	url += "/"
	users, err := makeUsers(2, "ecc")
	if err != nil {
		return err
	}
	st, _ := srv.Status(ctx)
	fmt.Fprintf(opt.Out, "station on %s, default limits: %d connections, %d handshaking per address, %gs to handshake; open file limit %d\n",
		addr, st.Limits.MaxConnections, st.Limits.MaxHandshakingPerAddress, st.Limits.HandshakeTimeoutSeconds, st.Limits.OpenFileLimit)
	runtime.GC()
	fmt.Fprintf(opt.Out, "before: %s\n", readMemory())

	// The load processes.
	type child struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		lines  *bufio.Scanner
		result floodChildResult
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.stdin.Close()
			_ = c.cmd.Wait()
		}
	}()
	start := time.Now()
	for first := 0; first < opt.Conns; first += opt.PerChild {
		n := min(opt.PerChild, opt.Conns-first)
		args := append(append([]string{}, opt.Child[1:]...), "--addr", addr, "--child-conns", strconv.Itoa(n),
			"--first", strconv.Itoa(first), "--sources", strconv.Itoa(opt.Sources))
		cmd := exec.CommandContext(ctx, opt.Child[0], args...)
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start load process: %w", err)
		}
		children = append(children, &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)})
	}
	opened := make(chan error, len(children))
	for _, c := range children {
		go func() {
			for c.lines.Scan() {
				if rest, ok := strings.CutPrefix(c.lines.Text(), "OPENED "); ok {
					opened <- json.Unmarshal([]byte(rest), &c.result)
					return
				}
			}
			opened <- errors.New("a load process stopped early")
		}()
	}

	// While the connections come: check every second.
	var peak memory
	var during []probe
	waiting := len(children)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for waiting > 0 {
		select {
		case err := <-opened:
			if err != nil {
				return err
			}
			waiting--
		case <-tick.C:
			p := check(ctx, srv, url, users)
			during = append(during, p)
			peak = peakOf(peak, p.mem)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var total floodChildResult
	for _, c := range children {
		total.Opened += c.result.Opened
		total.Failed += c.result.Failed
	}
	fmt.Fprintf(opt.Out, "flood: %d idle connections (silent, DIM only, WebSocket without Hello, in turn) from %d address(es) opened in %.1f s, %d dials failed\n",
		total.Opened, opt.Sources, time.Since(start).Seconds(), total.Failed)
	for i, p := range during {
		fmt.Fprintf(opt.Out, "  while opening, check %d: %s\n", i+1, p)
	}
	held := check(ctx, srv, url, users)
	peak = peakOf(peak, held.mem)
	fmt.Fprintf(opt.Out, "all opened: %s\n", held)
	fmt.Fprintf(opt.Out, "peak memory seen: heap in use %s, RSS %s\n", mib(peak.HeapInuse), mib(peak.RSS))

	// Close the flood.
	for _, c := range children {
		io.WriteString(c.stdin, "STOP\n")
	}
	for _, c := range children {
		for c.lines.Scan() {
			if rest, ok := strings.CutPrefix(c.lines.Text(), "CLOSED "); ok {
				var r floodChildResult
				if err := json.Unmarshal([]byte(rest), &r); err != nil {
					return err
				}
				total.Closed += r.Closed
				break
			}
		}
	}
	fmt.Fprintf(opt.Out, "of the %d opened, the station had closed %d before the flood closed the rest\n", total.Opened, total.Closed)
	time.Sleep(2 * time.Second)
	runtime.GC()
	fmt.Fprintf(opt.Out, "2 s after: %s\n", readMemory())
	time.Sleep(10 * time.Second)
	runtime.GC()
	fmt.Fprintf(opt.Out, "12 s after: %s\n", readMemory())
	debug.FreeOSMemory()
	fmt.Fprintf(opt.Out, "after returning free memory to the OS: %s\n", readMemory())
	final := check(ctx, srv, url, users)
	fmt.Fprintf(opt.Out, "final check: %s\n", final)
	return nil
}

func peakOf(a, b memory) memory {
	return memory{HeapInuse: max(a.HeapInuse, b.HeapInuse), StackInuse: max(a.StackInuse, b.StackInuse),
		Sys: max(a.Sys, b.Sys), RSS: max(a.RSS, b.RSS)}
}

// check asks for /status and has two real clients, from an address of
// their own, handshake and exchange a message, each within 10 s.
func check(ctx context.Context, srv *mockstation.Server, url string, users []*dimp.Identity) probe {
	p := probe{mem: readMemory()}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: probeSource}}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := dialer.DialContext(ctx, network, addr)
		if err != nil { // no 127/8 beyond 127.0.0.1 here: come from it too
			nc, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		return nc, err
	}}
	defer tr.CloseIdleConnections()
	httpc := &http.Client{Transport: tr}
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http"+strings.TrimPrefix(url, "ws")+"status", nil)
	if err != nil {
		panic(err) // the URL is ours
	}
	req.Close = true
	resp, err := httpc.Do(req)
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&p.status)
		resp.Body.Close()
		p.statusOK = err == nil && resp.StatusCode == http.StatusOK
	}
	p.statusTime = time.Since(t0)

	t0 = time.Now()
	p.chatErr = chatOnce(ctx, url, httpc, users[0], users[1])
	p.chatOK = p.chatErr == nil
	p.chatTime = time.Since(t0)
	return p
}

// chatOnce handshakes a and b and has a send b a text.
func chatOnce(ctx context.Context, url string, httpc *http.Client, a, b *dimp.Identity) error {
	opts := &websocket.DialOptions{HTTPClient: httpc, CompressionMode: websocket.CompressionDisabled}
	pa, _, err := handshakeWith(ctx, url, a, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", a.ID.Name(), err)
	}
	defer pa.ws.CloseNow()
	pb, _, err := handshakeWith(ctx, url, b, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", b.ID.Name(), err)
	}
	defer pb.ws.CloseNow()
	if err := pa.seal(ctx, b.ID, dimp.NewText("through the flood"), b.Profile(), false); err != nil {
		return err
	}
	for {
		raw, err := pb.readFrame(ctx)
		if err != nil {
			return fmt.Errorf("%s waits for the message: %w", b.ID.Name(), err)
		}
		if string(jsonField(raw, "sender")) == a.ID.String() {
			return nil
		}
	}
}

// RunFloodChild opens opt.Conns idle connections to the station, as fast
// as it can, says OPENED, holds them until STOP comes on in, then says how
// many the station closed meanwhile and closes the rest.
func RunFloodChild(ctx context.Context, opt FloodChildOptions, in io.Reader, out io.Writer) error {
	conns := make([]net.Conn, opt.Conns)
	var res floodChildResult
	var failed, closed atomic.Int64
	var readers sync.WaitGroup
	next := atomic.Int64{}
	var dialers sync.WaitGroup
	for range 64 {
		dialers.Add(1)
		go func() {
			defer dialers.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= opt.Conns {
					return
				}
				n := opt.First + i
				src := net.IPv4(127, 0, 0, byte(1+n%opt.Sources))
				d := net.Dialer{Timeout: 10 * time.Second}
				if opt.Sources > 1 {
					d.LocalAddr = &net.TCPAddr{IP: src}
				}
				nc, err := d.DialContext(ctx, "tcp", opt.Addr)
				if err != nil {
					failed.Add(1)
					continue
				}
				switch floodKinds[n%len(floodKinds)] {
				case "dim":
					nc.Write([]byte("DIM"))
				case "ws":
					nc.Write([]byte(wsUpgrade))
				}
				conns[i] = nc
				readers.Add(1)
				go func() {
					defer readers.Done()
					buf := make([]byte, 512)
					for {
						if _, err := nc.Read(buf); err != nil {
							if !errors.Is(err, net.ErrClosed) {
								closed.Add(1) // the station closed it
							}
							return
						}
					}
				}()
			}
		}()
	}
	dialers.Wait()
	res.Failed = int(failed.Load())
	res.Opened = opt.Conns - res.Failed
	b, _ := json.Marshal(res)
	fmt.Fprintf(out, "OPENED %s\n", b)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil || line != "STOP\n" {
		return fmt.Errorf("waiting for STOP: %q %v", line, err)
	}
	res.Closed = int(closed.Load())
	for _, nc := range conns {
		if nc != nil {
			nc.Close()
		}
	}
	readers.Wait()
	b, _ = json.Marshal(res)
	fmt.Fprintf(out, "CLOSED %s\n", b)
	return nil
}
