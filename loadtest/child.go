package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// ChildOptions configure the load generator, which runs in its own process
// so that the station's process holds nothing but the station.
type ChildOptions struct {
	Station, Relay string // WebSocket URLs
	Clients        int
	Messages       int
	Window         int    // messages in flight per pair
	Key            string // rsa (RSA-1024 metas) or ecc (secp256k1 metas)
}

// phaseResult is one run of the traffic.
type phaseResult struct {
	Messages  int     `json:"messages"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	// LoadCPU is the CPU time the load generator itself used, in seconds:
	// on a small machine it competes with the server for the same cores.
	LoadCPU float64 `json:"load_cpu_seconds"`
}

// childResult is what the load generator reports to the parent.
type childResult struct {
	HandshakeSeconds float64     `json:"handshake_seconds"`
	Station          phaseResult `json:"station"`
	StationHalf      phaseResult `json:"station_half"`
	Relay            phaseResult `json:"relay"`
}

// frameHandler is called by a connection's reader for every frame.
type frameHandler func([]byte)

// conn is a peer with its reader running for the whole test.
type conn struct {
	*peer
	handle atomic.Pointer[frameHandler]
	done   chan struct{}
}

func startReader(p *peer) *conn {
	c := &conn{peer: p, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, b, err := p.ws.Read(context.Background())
			if err != nil {
				return
			}
			if h := c.handle.Load(); h != nil {
				(*h)(b)
			}
		}
	}()
	return c
}

// RunChild generates the load: it handshakes every client with the
// station, says READY, waits for GO, then sends the traffic through the
// station at full and half load and through the relay, and prints RESULT.
func RunChild(ctx context.Context, opt ChildOptions, in io.Reader, out io.Writer) error {
	if opt.Clients < 2 || opt.Clients%2 != 0 {
		return errors.New("--clients must be an even number ≥ 2")
	}
	users, err := makeUsers(opt.Clients, opt.Key)
	if err != nil {
		return err
	}
	start := time.Now()
	conns, err := connectAll(ctx, opt.Clients, func(ctx context.Context, i int) (*peer, error) {
		p, _, err := handshake(ctx, opt.Station, users[i])
		return p, err
	})
	if err != nil {
		return err
	}
	hsTime := time.Since(start)
	fmt.Fprintf(out, "READY %f\n", hsTime.Seconds())
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil || line != "GO\n" {
		return fmt.Errorf("waiting for GO: %q %v", line, err)
	}
	res := childResult{HandshakeSeconds: hsTime.Seconds()}
	full, err := sealTraffic(conns, opt.Messages)
	if err != nil {
		return err
	}
	half, err := sealTraffic(conns, opt.Messages/2)
	if err != nil {
		return err
	}
	if res.Station, err = phase(out, phaseStation, func() (phaseResult, error) {
		return runTraffic(ctx, conns, full, opt.Window, 0, true)
	}); err != nil {
		return fmt.Errorf("station, full load: %w", err)
	}
	rate := res.Station.PerSecond / 2
	if res.StationHalf, err = phase(out, phaseStationHalf, func() (phaseResult, error) {
		return runTraffic(ctx, conns, half, opt.Window, rate, true)
	}); err != nil {
		return fmt.Errorf("station, half load: %w", err)
	}
	closeAll(conns)
	// The relay runs in the station's process: let the station finish
	// what it does in the background after a burst (acknowledgements, the
	// checkpoint it put off while busy), which would otherwise take the
	// relay's CPU.
	time.Sleep(stationSettle)
	relayConns, err := connectAll(ctx, opt.Clients, func(ctx context.Context, i int) (*peer, error) {
		return relayHello(ctx, opt.Relay, users[i])
	})
	if err != nil {
		return err
	}
	time.Sleep(100 * time.Millisecond) // let the relay register every HELLO
	if res.Relay, err = phase(out, phaseRelay, func() (phaseResult, error) {
		return runTraffic(ctx, relayConns, full, opt.Window, 0, false)
	}); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	closeAll(relayConns)
	raw, _ := json.Marshal(res)
	fmt.Fprintf(out, "RESULT %s\n", raw)
	return nil
}

// stationSettle is the pause between the station's phases and the relay's.
const stationSettle = time.Second

// Phases of the traffic, as named in MARK lines.
const (
	phaseStation     = "station"
	phaseStationHalf = "station-half"
	phaseRelay       = "relay"
)

// phase runs one phase of the traffic between two MARK lines, which let
// the parent read its own CPU time at both ends, and measures the load
// generator's CPU time.
func phase(out io.Writer, name string, run func() (phaseResult, error)) (phaseResult, error) {
	fmt.Fprintf(out, "MARK %s begin\n", name)
	cpu := cpuTime()
	res, err := run()
	res.LoadCPU = (cpuTime() - cpu).Seconds()
	fmt.Fprintf(out, "MARK %s end\n", name)
	return res, err
}

// makeUsers creates n identities. Key generation is the slow part, so a
// small pool of signing keys is shared (each identity still has its own ID,
// as the MKM fingerprint signs its own seed), and one RSA-1024 visa key.
func makeUsers(n int, alg string) ([]*dimp.Identity, error) {
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		return nil, err
	}
	pool := make([]crypto.PrivateKey, 16)
	for i := range pool {
		switch alg {
		case "ecc":
			pool[i], err = crypto.GenerateECC()
		case "rsa":
			pool[i], err = crypto.GenerateRSA(1024)
		default:
			return nil, fmt.Errorf("--key %q: use rsa or ecc", alg)
		}
		if err != nil {
			return nil, err
		}
	}
	users := make([]*dimp.Identity, n)
	for i := range users {
		if users[i], err = dimp.NewIdentity(dimp.User, dimp.MetaMKM, "load-"+strconv.Itoa(i), "", pool[i%len(pool)], visa); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// connectAll opens n connections, a few at a time.
func connectAll(ctx context.Context, n int, open func(context.Context, int) (*peer, error)) ([]*conn, error) {
	conns := make([]*conn, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p, err := open(ctx, i)
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = startReader(p)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeAll(conns)
		return nil, err
	}
	return conns, nil
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		if c != nil {
			c.ws.CloseNow()
			<-c.done
		}
	}
}

// pairTraffic is what one sender sends its receiver.
type pairTraffic struct {
	frames [][]byte
	index  map[string]int // signature → frame number
}

// sealTraffic seals perPair messages from each even client to the next one.
func sealTraffic(conns []*conn, total int) ([]pairTraffic, error) {
	pairs := len(conns) / 2
	per := total / pairs
	if per < 1 {
		per = 1
	}
	traffic := make([]pairTraffic, pairs)
	for k := range traffic {
		from, to := conns[2*k], conns[2*k+1]
		t := pairTraffic{index: make(map[string]int, per)}
		for i := range per {
			text := dimp.NewText(fmt.Sprintf("load message %d of pair %d: about as long as a chat line is", i, k))
			rm, err := from.packer.Seal(dimp.NewInstantMessage(from.me.ID, to.me.ID, text),
				[]*dimp.Profile{to.me.Profile()}, dimp.SealOptions{})
			if err != nil {
				return nil, err
			}
			raw, _ := rm.MarshalJSON()
			t.index[rm.SignatureText()] = i
			t.frames = append(t.frames, raw)
		}
		traffic[k] = t
	}
	return traffic, nil
}

// runTraffic sends every pair's frames, at most window in flight per pair,
// paced to rate messages per second in all when rate > 0, and measures the
// time from writing a frame to its arrival at the receiver.
func runTraffic(ctx context.Context, conns []*conn, traffic []pairTraffic, window int, rate float64, ack bool) (phaseResult, error) {
	if window < 1 {
		window = 1
	}
	var total int
	for _, t := range traffic {
		total += len(t.frames)
	}
	latencies := make([]time.Duration, 0, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	discard := frameHandler(func([]byte) {})
	start := time.Now()
	errc := make(chan error, len(traffic))
	for k, t := range traffic {
		from, to := conns[2*k], conns[2*k+1]
		from.handle.Store(&discard) // receipts from the station
		sent := make([]time.Time, len(t.frames))
		var sentMu sync.Mutex
		tokens := make(chan struct{}, window)
		arrived := make(chan struct{})
		var got atomic.Int64
		recv := frameHandler(func(b []byte) {
			i, ok := t.index[string(jsonField(b, "signature"))]
			if !ok {
				return // a receipt or another frame from the station
			}
			sentMu.Lock()
			lat := time.Since(sent[i])
			sentMu.Unlock()
			mu.Lock()
			latencies = append(latencies, lat)
			mu.Unlock()
			if ack {
				_ = to.write(ctx, []byte(`ACK:{"signature":"`+string(jsonField(b, "signature"))+`"}`))
			}
			<-tokens
			if got.Add(1) == int64(len(t.frames)) {
				close(arrived)
			}
		})
		to.handle.Store(&recv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Paced, each pair sends every interval, the pairs spread evenly
			// over it: the station sees a steady rate, not every pair's
			// message at the same instant.
			var interval, offset time.Duration
			if rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(len(traffic)) / rate)
				offset = interval * time.Duration(k) / time.Duration(len(traffic))
			}
			for i, f := range t.frames {
				if interval > 0 {
					if d := time.Until(start.Add(offset + time.Duration(i)*interval)); d > 0 {
						time.Sleep(d)
					}
				}
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					errc <- ctx.Err()
					return
				}
				sentMu.Lock()
				sent[i] = time.Now()
				sentMu.Unlock()
				if err := from.write(ctx, f); err != nil {
					errc <- err
					return
				}
			}
			select {
			case <-arrived:
			case <-time.After(5 * time.Minute):
				errc <- fmt.Errorf("pair %d: %d of %d messages arrived", k, got.Load(), len(t.frames))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return phaseResult{}, err
	}
	slices.Sort(latencies)
	return phaseResult{
		Messages:  total,
		Seconds:   elapsed.Seconds(),
		PerSecond: float64(total) / elapsed.Seconds(),
		P50ms:     ms(percentile(latencies, 0.50)),
		P99ms:     ms(percentile(latencies, 0.99)),
	}, nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
