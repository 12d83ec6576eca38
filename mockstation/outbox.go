package mockstation

import (
	"errors"
	"slices"
	"time"

	"github.com/coder/websocket"
)

// The outbox: frames queued for the client and the writer goroutine that
// writes them, catching up from the store when the session is behind. Its
// state is guarded by conn.outMu.

// Queue bounds of a session's outbox. Live pushes from other users stop at
// pushQueue (the session then reads them from the store); the station's own
// answers stop at replyQueue, past which the client is not reading and is
// disconnected.
const (
	pushQueue  = 64
	replyQueue = 1024
	catchPage  = 64 // messages read from the store at a time
)

// frame is one outgoing WebSocket message. A stored message carries its
// signature and store ID, so that its acknowledgement can be matched.
type frame struct {
	data []byte
	sig  string
	id   int64
	// due is when a frame that a workshop delay holds may go (zero: at
	// once). The station's own answers are never delayed, and overtake
	// the delayed frames queued before them (see Faults.SetDelay).
	due time.Time
}

// queueReply queues a frame of the station's for this client. A client
// that lets replyQueue frames pile up is not reading: it is disconnected.
func (c *conn) queueReply(f frame) error {
	if !c.enqueue(f, replyQueue) {
		c.outMu.Lock()
		ending := c.closed || c.draining
		c.outMu.Unlock()
		if ending {
			return errEnding
		}
		return closeWith(websocket.StatusPolicyViolation, "client does not read: %d frames waiting", replyQueue)
	}
	return nil
}

// errEnding: the connection is being closed; nothing more can be sent.
var errEnding = errors.New("connection closing")

// offer queues a frame pushed from elsewhere, without waiting; false when
// the outbox is full or closed.
func (c *conn) offer(f frame) bool { return c.enqueue(f, pushQueue) }

func (c *conn) enqueue(f frame, limit int) bool {
	if d := c.srv.cfg.Faults.delayOf(c, f); d > 0 {
		f.due = time.Now().Add(d)
	}
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.closed || c.draining || len(c.queue) >= limit {
		return false
	}
	c.queue = append(c.queue, f)
	c.startWriter()
	select {
	case c.outWake <- struct{}{}: // a writer waiting for a delayed frame
	default:
	}
	return true
}

// nextFrame takes the first queued frame that may go now; c.outMu is held.
// When every queued frame is delayed, it returns false and how long until
// the first is due.
func (c *conn) nextFrame(now time.Time) (frame, bool, time.Duration) {
	wait := time.Duration(-1)
	for i, f := range c.queue {
		if !f.due.After(now) {
			if i == 0 { // the usual case: no delay, in order
				c.queue[0] = frame{}
				c.queue = c.queue[1:]
			} else {
				c.queue = slices.Delete(c.queue, i, i+1)
			}
			if len(c.queue) == 0 {
				c.queue = nil // let the backing array go
			}
			return f, true, 0
		}
		if w := f.due.Sub(now); wait < 0 || w < wait {
			wait = w
		}
	}
	return frame{}, false, wait
}

// sleep waits d, or until the session ends (false).
func (c *conn) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// waitDue waits until a delayed frame is due, a new frame is queued or the
// session ends (false).
func (c *conn) waitDue(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.outWake:
	case <-c.ctx.Done():
		return false
	}
	return true
}

// kick asks the writer to catch up from the store.
func (c *conn) kick() {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.closed || c.draining {
		return
	}
	c.catching = true
	c.startWriter()
}

// startWriter starts the writer goroutine unless it runs; c.outMu is held.
func (c *conn) startWriter() {
	if c.writing {
		return
	}
	c.writing = true
	c.writers.Add(1)
	go c.writeLoop()
}

// writeLoop writes the outbox in order; when it is empty and the session is
// behind, it catches up from the store; then it exits.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	dl := &writeDeadline{c: c}
	defer dl.stop()
	for {
		c.outMu.Lock()
		if c.closed {
			c.writing = false
			c.outMu.Unlock()
			return
		}
		if len(c.queue) > 0 {
			f, ok, wait := c.nextFrame(time.Now())
			c.outMu.Unlock()
			if !ok {
				if !c.waitDue(wait) {
					c.outMu.Lock()
					c.writing = false
					c.outMu.Unlock()
					return
				}
				continue
			}
			if err := c.write(f, dl); err != nil {
				c.abort(err)
				return
			}
			continue
		}
		if !c.catching || c.draining {
			c.writing = false
			c.outMu.Unlock()
			return
		}
		c.catching = false
		c.outMu.Unlock()
		more, err := c.catchUp(dl)
		if err != nil {
			c.abort(err)
			return
		}
		if more {
			c.outMu.Lock()
			c.catching = true
			c.outMu.Unlock()
		}
	}
}

// abort ends the connection after a write failed.
func (c *conn) abort(err error) {
	if c.ctx.Err() == nil {
		c.logger().Info("write failed, closing connection", "user", c.userID(), "err", err)
	}
	c.outMu.Lock()
	c.writing = false
	c.closed = true
	c.queue = nil
	c.outMu.Unlock()
	c.cancel()
}

// writeDeadline closes the connection when one write takes longer than
// Config.WriteTimeout: the client does not read. One timer serves a
// writer goroutine's every write, and the writes themselves get no
// context, which would cost a timer and a context registration each.
type writeDeadline struct {
	c *conn
	t *time.Timer
}

func (d *writeDeadline) arm() {
	if d.t == nil {
		d.t = time.AfterFunc(d.c.srv.cfg.WriteTimeout, d.expired)
		return
	}
	d.t.Reset(d.c.srv.cfg.WriteTimeout)
}

func (d *writeDeadline) disarm() { d.t.Stop() }

func (d *writeDeadline) stop() {
	if d.t != nil {
		d.t.Stop()
	}
}

func (d *writeDeadline) expired() {
	d.c.logger().Info("write timed out, closing connection", "user", d.c.userID(), "timeout", d.c.srv.cfg.WriteTimeout)
	d.c.tr.closeNow()
}

// write sends one frame. A stored message is remembered as unacknowledged
// before it goes out: its ACK may come back before Write returns.
func (c *conn) write(f frame, dl *writeDeadline) error {
	if f.id != 0 {
		c.outMu.Lock()
		if c.unacked == nil {
			c.unacked = make(map[string]struct{})
		}
		c.unacked[f.sig] = struct{}{}
		c.outMu.Unlock()
	}
	data, err := c.srv.cfg.Faults.toClient(c, f)
	if data == nil {
		return err // lost on purpose (Config.Faults)
	}
	dl.arm()
	defer dl.disarm()
	var stored string
	if f.id != 0 {
		stored = f.sig
	}
	return c.tr.writePayload(data, stored)
}

// catchUp writes one page of what waits in the store for the session's
// user after the session's cursor, and reports whether there may be more:
// the writer then sends what the station queued meanwhile (answers to the
// client's own messages) and comes back for the next page. When the store
// has nothing more, the final, empty, read is made under the user's lock,
// where the session switches to live pushes (see hub).
func (c *conn) catchUp(dl *writeDeadline) (more bool, err error) {
	if l := c.link.Load(); l != nil {
		return c.relayCatchUp(l, dl)
	}
	e := c.entry
	if e == nil {
		return false, nil
	}
	e.mu.Lock()
	after, run := c.cursor, c.behind && c.active
	e.mu.Unlock()
	if !run { // caught up, or reported offline: it catches up when back online
		return false, nil
	}
	msgs, err := c.srv.store.PendingMessages(c.ctx, e.id, after, catchPage)
	if err != nil {
		return false, err
	}
	if len(msgs) == 0 {
		e.mu.Lock()
		msgs, err = c.srv.store.PendingMessages(c.ctx, e.id, after, catchPage)
		if err == nil && len(msgs) == 0 {
			c.behind = false
		}
		e.mu.Unlock()
		if err != nil || len(msgs) == 0 {
			return false, err
		}
	}
	for _, m := range msgs {
		f := frame{data: m.Data, sig: m.Signature, id: m.ID}
		if d := c.srv.cfg.Faults.delayOf(c, f); d > 0 && !c.sleep(d) {
			return false, c.ctx.Err()
		}
		if err := c.write(f, dl); err != nil {
			return false, err
		}
		after = m.ID
	}
	e.mu.Lock()
	c.cursor = after
	e.mu.Unlock()
	return true, nil
}
