package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"
)

// conn is one WebSocket connection to a station: a reader goroutine that
// hands every payload to the client's loop, and a writer goroutine that
// drains a bounded queue, so the loop never blocks on the network.
type conn struct {
	ws     *websocket.Conn
	in     chan []byte // payloads read, in order
	done   chan error  // the connection ended, with why; closed after
	out    chan []byte
	cancel context.CancelFunc
}

// outQueue bounds the frames waiting to be written; a station that does not
// read them that fast is treated as gone.
const outQueue = 4096

// errSlowStation is the reason a connection is dropped when its write
// queue is full.
var errSlowStation = errors.New("station does not read: write queue full")

// dial opens a WebSocket to url and starts its reader and writer.
func dial(ctx context.Context, url string, maxFrame int64) (*conn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(maxFrame)
	cctx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, in: make(chan []byte, 64), done: make(chan error, 1), out: make(chan []byte, outQueue), cancel: cancel}
	go c.read(cctx)
	go c.write(cctx)
	return c, nil
}

func (c *conn) read(ctx context.Context) {
	defer c.cancel()
	for {
		_, payload, err := c.ws.Read(ctx)
		if err != nil {
			c.finish(err)
			return
		}
		select {
		case c.in <- payload:
		case <-ctx.Done():
			c.finish(ctx.Err())
			return
		}
	}
}

func (c *conn) write(ctx context.Context) {
	defer c.cancel()
	for {
		select {
		case b := <-c.out:
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.finish(fmt.Errorf("write: %w", err))
				return
			}
		case <-ctx.Done():
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

// send queues a frame; false when the queue is full.
func (c *conn) send(b []byte) bool {
	select {
	case c.out <- b:
		return true
	default:
		return false
	}
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
