package mockstation

import "dimtui/mockstation/store"

// The reader: the session's own goroutine reads the client's frames. An
// acknowledgement of a stored message written on this connection is
// settled here at once, so that a busy worker does not hold it up; every
// other frame goes to the worker (pipeline.go).

// readLoop reads frames until the connection ends or misbehaves. An ACK
// is taken here at once; every other frame goes to the worker.
func (c *conn) readLoop() error {
	for {
		data, err := c.tr.readPayload()
		if err != nil {
			return err
		}
		if classifyFrame(data) == frameAck && c.handleAck(data[len(prefixAck):]) {
			continue
		}
		if err := c.take(data); err != nil {
			return err
		}
	}
}

// handleAck takes `ACK:{"time":…,"signature":"…"}`, which dimchat's browser
// client sends for every message it receives: a stored message written on
// this connection and acknowledged is deleted from the store. It reports
// whether the ACK named such a message; others are ignored.
func (c *conn) handleAck(body []byte) bool {
	if l := c.link.Load(); l != nil {
		return c.linkAckFrom(l, body)
	}
	signature, ok := ackSignature(body)
	if !ok {
		c.logger().Debug("ignored acknowledgement", "body", truncate(body, 80))
		return false
	}
	return c.ackWritten(signature)
}

// ackWritten acknowledges the stored message signature if it was written
// on this connection and is not acknowledged yet (an ACK: frame, or an MTP
// message response), and reports whether it was.
func (c *conn) ackWritten(signature string) bool {
	c.outMu.Lock()
	_, ok := c.unacked[signature]
	c.outMu.Unlock()
	if ok {
		c.ack(signature)
	}
	return ok
}

// ack queues the deletion of the stored message signature of the
// session's user; the store commits it with its next commit (see
// store.MessageStore.AckMessageAsync). The user's other sessions, which
// were sent the message too, stop waiting for its acknowledgement.
func (c *conn) ack(signature string) {
	user := c.userID()
	if user.IsZero() {
		return
	}
	c.forgetUnacked(signature)
	receiver := user.WithoutTerminal().String()
	c.srv.hub.forget(receiver, signature, c)
	err := c.srv.store.AckMessageAsync(c.ctx, store.Ack{Receiver: receiver, Signature: signature}, c.srv.ackDone)
	if err != nil && c.ctx.Err() == nil {
		c.srv.acked(false, err)
	}
}

// forgetUnacked stops waiting for the acknowledgement of signature on
// this connection.
func (c *conn) forgetUnacked(signature string) {
	c.outMu.Lock()
	delete(c.unacked, signature)
	if len(c.unacked) == 0 {
		c.unacked = nil
	}
	c.outMu.Unlock()
}

// truncate cuts b to n bytes for the log.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
