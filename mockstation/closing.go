package mockstation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Closing a connection: for a reason of the station's (closeError), when
// the station shuts down (run), when the client goes (finish), and
// draining what is queued first where there is time to.

// drainTimeout is how long a closing connection may take to send what is
// queued for the client, after the answers still in the pipeline, before
// the station sends its close frame: long enough for a client that reads,
// short enough that one that does not read holds no shutdown up.
const drainTimeout = time.Second

// closeError ends a connection with a WebSocket close status (an MTP
// connection logs it and closes).
type closeError struct {
	code   websocket.StatusCode
	reason string // as sent: cut to fit a close frame
	full   string // as logged
}

func (e *closeError) Error() string { return fmt.Sprintf("close %d: %s", int(e.code), e.reason) }

// closeWith makes the closeError of a message: the reason made valid
// UTF-8, and cut to what a close frame holds.
func closeWith(code websocket.StatusCode, format string, args ...any) error {
	full := strings.ToValidUTF8(fmt.Sprintf(format, args...), "?")
	reason := full
	if len(reason) > 123 { // the close frame leaves 123 bytes for the reason
		reason = strings.ToValidUTF8(reason[:120], "") + "..."
	}
	return &closeError{code: code, reason: reason, full: full}
}

// finish ends the session after the reader stopped: it lets the worker
// handle what was read and answer what was handled (commits in flight are
// never abandoned), stops the writer and unregisters the session. A
// connection the worker closed was logged there.
func (c *conn) finish(err error) {
	c.pipeMu.Lock()
	failed := c.failed != nil
	c.pipeMu.Unlock()
	status := websocket.CloseStatus(err)
	switch {
	case failed:
	case c.srv.ctx.Err() != nil:
		// Shutting down: the watcher in run closes the connection.
	case errors.Is(err, websocket.ErrMessageTooBig), errors.Is(err, errMTPTooBig):
		c.logger().Info("frame too big, connection closed", "user", c.userID(), "limit", c.srv.cfg.MaxFrame)
	case errors.Is(err, errMTPStream):
		c.logger().Info("bad MTP stream, connection closed", "user", c.userID(), "err", err)
	case status == websocket.StatusNormalClosure || status == websocket.StatusGoingAway:
		c.logger().Debug("disconnected", "user", c.userID(), "status", int(status))
	default:
		c.logger().Debug("connection lost", "user", c.userID(), "err", err)
	}
	c.settle()
	c.cancel()
	c.outMu.Lock()
	c.closed = true
	c.queue = nil
	c.outMu.Unlock()
	c.writers.Wait()
	c.srv.hub.remove(c)
	c.endLink()
}

// drain stops taking frames and waits up to d for the writer to send what
// is queued, after the answers still in the pipeline.
func (c *conn) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	c.waitPipeline(deadline, func() bool { return len(c.steps) == 0 })
	c.outMu.Lock()
	c.draining = true
	c.catching = false
	c.outMu.Unlock()
	done := make(chan struct{})
	go func() {
		c.writers.Wait() // no writer can start any more: enqueue and kick refuse
		close(done)
	}()
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// closeFor closes the connection for the worker's err: a close error
// first sends what is queued (the answers that explain why), then the
// close status; any other error means the connection is ending already.
func (c *conn) closeFor(err error) {
	if errors.Is(err, errEnding) {
		// Whoever is ending the connection closes it: finish after the
		// reader stopped, or a shutdown that says "going away".
		return
	}
	var ce *closeError
	if !errors.As(err, &ce) {
		c.tr.closeNow()
		return
	}
	c.logger().Info("closing connection", "user", c.userID(), "code", int(ce.code), "reason", ce.full)
	c.drain(drainTimeout)
	c.tr.close(ce.code, ce.reason)
}
