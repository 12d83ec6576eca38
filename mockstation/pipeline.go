package mockstation

import (
	"time"

	"github.com/coder/websocket"
)

// The pipeline between the reader, which takes frames in, and the worker,
// which handles them and answers the messages in order; the store's
// committer makes a routed message's step ready (see conn). Its state is
// guarded by conn.pipeMu.

// Bounds of a connection's pipeline (see conn): the frames read and not yet
// handled plus the messages handled and not yet answered. Past either bound
// the reader stops reading until the worker catches up, and TCP slows the
// client down.
const (
	pipelineDepth = 64      // frames and messages
	pipelineBytes = 1 << 20 // their bytes; one bigger frame is still taken
)

// step is what the station answers one message, in the connection's
// order: frames ready to go, and then, once ready, the rest of the answer
// (a routed message's receipt, made when its commit is done).
type step struct {
	ready  bool         // guarded by conn.pipeMu
	frames []frame      // answers to queue first
	then   func() error // run once ready, in order; nil when frames say it all
	size   int          // bytes of the message the step keeps
}

// take hands a frame to the worker, starting it if needed. While the
// pipeline is full it waits, and the client is not read meanwhile. It
// fails once the worker failed.
func (c *conn) take(data []byte) error {
	c.pipeMu.Lock()
	for c.failed == nil && (len(c.inbox)+len(c.steps) >= pipelineDepth ||
		c.pending > 0 && c.pending+len(data) > pipelineBytes) {
		if err := c.ctx.Err(); err != nil {
			c.pipeMu.Unlock()
			return err
		}
		c.pipeChanged.Wait() // woken by the worker, or when ctx ends (see newConn)
	}
	if err := c.failed; err != nil {
		c.pipeMu.Unlock()
		return err
	}
	c.inbox = append(c.inbox, data)
	c.pending += len(data)
	start := !c.working
	c.working = true
	c.pipeMu.Unlock()
	if start {
		go c.work()
	}
	return nil
}

// work is the worker (see conn). It answers the oldest message as soon as
// its answer is ready, else handles the next frame; with neither, it
// exits, and the reader or a commit starts it again. Once the connection
// failed, it answers what it handled already and then closes it.
func (c *conn) work() {
	for {
		c.pipeMu.Lock()
		switch {
		case len(c.steps) > 0 && c.steps[0].ready:
			st := c.steps[0]
			c.pipeMu.Unlock()
			err := c.answerStep(st)
			c.pipeMu.Lock()
			c.steps[0] = nil
			c.steps = c.steps[1:]
			if len(c.steps) == 0 {
				c.steps = nil
			}
			c.pending -= st.size
			c.pipeChanged.Broadcast()
			c.pipeMu.Unlock()
			if err != nil {
				c.fail(err)
			}
		case c.failed == nil && len(c.inbox) > 0:
			data := c.inbox[0]
			c.inbox[0] = nil
			c.inbox = c.inbox[1:]
			if len(c.inbox) == 0 {
				c.inbox = nil
			}
			c.pending -= len(data)
			c.pipeChanged.Broadcast()
			c.pipeMu.Unlock()
			if err := c.handleFrame(data); err != nil {
				c.fail(err)
			}
		case c.failed != nil && len(c.steps) == 0 && !c.shut:
			c.shut = true
			err := c.failed
			c.pipeMu.Unlock()
			c.closeFor(err)
		default:
			c.working = false
			c.pipeChanged.Broadcast()
			c.pipeMu.Unlock()
			return
		}
	}
}

// answerStep sends a step's answers; they go straight to the outbox.
func (c *conn) answerStep(st *step) error {
	c.finishing = true
	defer func() { c.finishing = false }()
	for _, f := range st.frames {
		if err := c.queueReply(f); err != nil {
			return err
		}
	}
	if st.then != nil {
		return st.then()
	}
	return nil
}

// later adds a step to the pipeline; ready reports that its answer can be
// made. Only the worker adds steps.
func (c *conn) later(st *step) {
	c.pipeMu.Lock()
	c.steps = append(c.steps, st)
	c.pending += st.size
	c.pipeMu.Unlock()
}

// ready marks st as ready to be answered, starting the worker if it is
// the oldest and no worker runs. The store's committer calls it.
func (c *conn) ready(st *step) {
	c.pipeMu.Lock()
	st.ready = true
	c.pipeChanged.Broadcast()
	start := !c.working && c.steps[0] == st
	if start {
		c.working = true
	}
	c.pipeMu.Unlock()
	if start {
		go c.work()
	}
}

// fail stops handling frames: the worker answers the messages it handled
// already, then closes the connection as err says (see closeFor).
func (c *conn) fail(err error) {
	c.pipeMu.Lock()
	defer c.pipeMu.Unlock()
	if c.failed == nil {
		c.failed = err
	}
	for _, data := range c.inbox {
		c.pending -= len(data)
	}
	c.inbox = nil
	c.pipeChanged.Broadcast()
}

// settle waits until the pipeline is empty and the worker gone.
func (c *conn) settle() {
	c.waitPipeline(time.Time{}, func() bool { return !c.working && len(c.inbox) == 0 && len(c.steps) == 0 })
}

// waitPipeline waits until cond, called with c.pipeMu held, holds, or until
// the deadline passes (none when zero). A timer wakes the wait at the
// deadline, as the end of the connection's context wakes take's.
func (c *conn) waitPipeline(deadline time.Time, cond func() bool) {
	c.pipeMu.Lock()
	defer c.pipeMu.Unlock()
	expired := false // guarded by pipeMu
	if !deadline.IsZero() {
		t := time.AfterFunc(time.Until(deadline), func() {
			c.pipeMu.Lock()
			expired = true
			c.pipeChanged.Broadcast()
			c.pipeMu.Unlock()
		})
		defer t.Stop()
	}
	for !cond() && !expired {
		c.pipeChanged.Wait()
	}
}

// wakePipelineWaiters wakes whoever waits on pipeChanged, to look again at
// what it waits for: the connection's context ended.
func (c *conn) wakePipelineWaiters() {
	c.pipeMu.Lock()
	c.pipeChanged.Broadcast()
	c.pipeMu.Unlock()
}

// handleFrame takes one WebSocket message apart as dimples does: control
// payloads, an acknowledgement, or messages, one per line when the payload
// starts with '{'. The worker calls it; an ACK the reader could not match
// comes here too, to be counted.
func (c *conn) handleFrame(data []byte) error {
	if data = c.srv.cfg.Faults.fromClient(c, data); data == nil {
		return nil // lost on purpose (Config.Faults)
	}
	if err := c.takeMessage(); err != nil {
		return err
	}
	switch classifyFrame(data) {
	case frameNothing, frameAck:
		return nil
	case framePing:
		return c.reply(frame{data: payloadPong})
	case frameMessage:
		return c.handlePackage(data)
	}
	first := true
	for line := range messageLines(data) {
		if !first {
			if err := c.takeMessage(); err != nil {
				return err
			}
		}
		first = false
		if err := c.handlePackage(line); err != nil {
			return err
		}
	}
	return nil
}

// takeMessage counts one message, or one frame, against the connection's
// rate limit (see newMessageLimit); past it, the connection is closed.
func (c *conn) takeMessage() error {
	if c.limit.Allow() {
		return nil
	}
	return closeWith(websocket.StatusPolicyViolation, "rate limit exceeded: %g messages/s, burst %d",
		float64(c.limit.Limit()), c.limit.Burst())
}

// reply sends one of the station's own frames to this client, after the
// answers to earlier messages: while some still wait for their commit, it
// waits behind them in the pipeline. Only the worker calls it.
func (c *conn) reply(f frame) error {
	if !c.finishing {
		c.pipeMu.Lock()
		if n := len(c.steps); n > 0 {
			if last := c.steps[n-1]; last.ready && last.then == nil {
				last.frames = append(last.frames, f)
			} else {
				c.steps = append(c.steps, &step{ready: true, frames: []frame{f}})
			}
			c.pipeMu.Unlock()
			return nil
		}
		c.pipeMu.Unlock()
	}
	return c.queueReply(f)
}
