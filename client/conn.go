package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// conn is one WebSocket connection to a station: a reader goroutine that
// hands every payload to the client's loop, and a writer goroutine that
// drains bounded queues, so the loop never blocks on the network.
//
// Keep-alive frames do not wait behind expensive work. A station may send
// frames faster than the loop verifies and decrypts them (a flood of
// messages, honest or not): the reader answers a PING with PONG itself, at
// once, instead of leaving it to the loop behind the frames queued before
// it; it notes when each frame arrived, so the keep-alive counts a
// connection that is delivering frames as alive; and the writer sends
// control frames (PING, PONG, ACK) before any message waiting.
type conn struct {
	ws     *websocket.Conn
	in     chan inFrame // payloads read, in order
	done   chan error   // the connection ended, with why; closed after
	out    chan []byte  // messages to write
	ctrl   chan []byte  // control frames to write, before any message
	cancel context.CancelFunc

	// answerPings is whether the reader answers PING itself. It is off
	// while step-through holds control frames: a held PING is not
	// answered until the presenter releases it.
	answerPings atomic.Bool
	lastIn      atomic.Int64 // when the last frame was read, Unix nanoseconds

	// writeErr is why the writer stopped, if it did. The reader reports
	// the end of the connection: when the station closes it, a write in
	// flight fails on the closed socket at the same moment, and the
	// station's close frame, which says why, must win over that.
	writeErr atomic.Pointer[error]
}

// inFrame is a payload the reader handed to the loop.
type inFrame struct {
	payload []byte
	at      time.Time // when it was read
	// answered: a PING the reader answered with PONG already; the loop
	// only reports both.
	answered bool
}

// Queue bounds: a station that does not read the frames that fast is
// treated as gone. The reader hands at most inQueue payloads to the loop
// before it stops reading.
const (
	outQueue  = 4096
	ctrlQueue = 1024
	inQueue   = 64
)

// ClosedError is the end of a connection the station closed with a close
// frame: its status (RFC 6455 §7.4) and reason, said in words.
type ClosedError struct {
	Status websocket.StatusCode
	Reason string // as the station wrote it
}

// Error says what the close means: "the station closed the connection:
// going away (a restart or a shutdown): station shutting down".
func (e *ClosedError) Error() string {
	s := "the station closed the connection: " + closeWords(e.Status)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// GoingAway reports whether the station said it is going away or
// restarting: an end it meant, after which reconnecting is the normal
// thing to do.
func (e *ClosedError) GoingAway() bool {
	return e.Status == websocket.StatusGoingAway || e.Status == websocket.StatusServiceRestart
}

// closeWords says a close status in words.
func closeWords(s websocket.StatusCode) string {
	switch s {
	case websocket.StatusNormalClosure:
		return "a normal closure"
	case websocket.StatusGoingAway:
		return "going away (a restart or a shutdown)"
	case websocket.StatusServiceRestart:
		return "restarting"
	case websocket.StatusTryAgainLater:
		return "busy, try again later"
	case websocket.StatusProtocolError:
		return "protocol error"
	case websocket.StatusUnsupportedData, websocket.StatusInvalidFramePayloadData:
		return "it cannot read what was sent"
	case websocket.StatusPolicyViolation:
		return "a rule was broken"
	case websocket.StatusMessageTooBig:
		return "a frame was too big"
	case websocket.StatusInternalError:
		return "an error in the station"
	}
	return fmt.Sprintf("status %d", int(s))
}

// closedError turns a read error that carries the station's close frame
// into a *ClosedError; other errors are returned as they are.
func closedError(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return &ClosedError{Status: ce.Code, Reason: ce.Reason}
	}
	return err
}

// errSlowStation is the reason a connection is dropped when its write
// queue is full.
var errSlowStation = errors.New("station does not read: write queue full")

var (
	payloadPing = []byte("PING")
	payloadPong = []byte("PONG")
)

// dial opens a WebSocket to url and starts its reader and writer; the
// reader answers PINGs when answerPings is true.
func dial(ctx context.Context, url string, maxFrame int64, answerPings bool) (*conn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(maxFrame)
	cctx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, in: make(chan inFrame, inQueue), done: make(chan error, 1),
		out: make(chan []byte, outQueue), ctrl: make(chan []byte, ctrlQueue), cancel: cancel}
	c.answerPings.Store(answerPings)
	c.lastIn.Store(time.Now().UnixNano())
	go c.read(cctx)
	go c.write(cctx)
	return c, nil
}

func (c *conn) read(ctx context.Context) {
	defer c.cancel()
	for {
		_, payload, err := c.ws.Read(ctx)
		if err != nil {
			c.finish(c.readEnded(err))
			return
		}
		f := inFrame{payload: payload, at: time.Now()}
		c.lastIn.Store(f.at.UnixNano())
		if bytes.Equal(payload, payloadPing) && c.answerPings.Load() {
			if !c.send(payloadPong, true) {
				c.finish(errSlowStation)
				return
			}
			f.answered = true
		}
		select {
		case c.in <- f:
		case <-ctx.Done():
			c.finish(c.readEnded(ctx.Err()))
			return
		}
	}
}

// readEnded says why the connection ended, once the reader stopped with
// err: the station's close frame if it sent one, else why the writer
// stopped (it closed the socket, which stopped the read), else err.
func (c *conn) readEnded(err error) error {
	if ce := closedError(err); ce != err {
		return ce
	}
	if werr := c.writeErr.Load(); werr != nil {
		return *werr
	}
	return err
}

func (c *conn) write(ctx context.Context) {
	defer c.cancel()
	for {
		var b []byte
		select {
		case b = <-c.ctrl:
		default:
			select {
			case b = <-c.ctrl:
			case b = <-c.out:
			case <-ctx.Done():
				return
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := c.ws.Write(wctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			// The reader reports it (see writeErr): closing the socket
			// ends its read, unless a close frame from the station
			// came first.
			werr := fmt.Errorf("write: %w", err)
			c.writeErr.Store(&werr)
			_ = c.ws.CloseNow()
			return
		}
	}
}

// finish reports the end of the connection once.
func (c *conn) finish(err error) {
	select {
	case c.done <- err:
	default:
	}
}

// send queues a frame, a control frame ahead of the messages; false when
// its queue is full.
func (c *conn) send(b []byte, control bool) bool {
	q := c.out
	if control {
		q = c.ctrl
	}
	select {
	case q <- b:
		return true
	default:
		return false
	}
}

// delivering reports whether the station sent anything within the last
// window before now, or frames wait for the loop: a station that sends is
// there, even when its PONG is still behind the frames it sent first.
func (c *conn) delivering(now time.Time, window time.Duration) bool {
	return len(c.in) > 0 || now.Sub(time.Unix(0, c.lastIn.Load())) <= window
}

// close ends the connection with a normal closure.
func (c *conn) close(reason string) {
	c.cancel()
	_ = c.ws.Close(websocket.StatusNormalClosure, reason)
}

// splitPayload cuts a payload into packages: JSON payloads may carry several
// messages, one a line ("JSON in lines"); anything else is one package.
func splitPayload(p []byte) [][]byte {
	p = bytes.TrimSpace(p)
	if len(p) == 0 {
		return nil
	}
	if p[0] != '{' || bytes.IndexByte(p, '\n') < 0 {
		return [][]byte{p}
	}
	var out [][]byte
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, line)
		}
	}
	return out
}
