// Package client is one connection of a DIM user to a station: the
// WebSocket, the handshake state machine, sending and receiving messages
// with receipts, fetching peers' metas and visas, and reconnecting. Everything
// it does is reported as Event values for a user interface to show.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"dimtui/client/history"
	"dimtui/dimp"
)

// Errors for callers to test.
var (
	ErrClosed      = errors.New("client is not running")
	ErrNotRunning  = errors.New("not connected to the station")
	ErrUnknownPeer = errors.New("no meta or visa for this peer")
	// ErrNoUserList: the station does not say who is online (it refused
	// the question earlier in this session).
	ErrNoUserList = errors.New("the station does not list its users")
	// ErrDuplicate is a frame's Layers.OpenErr when its message was
	// received before (the same signature): it is dropped, and
	// acknowledged again so that the station forgets its copy.
	ErrDuplicate = errors.New("duplicate: already received")
	// ErrReconnectAsked is why the connection ended when Reconnect asked
	// for it (Status.Err): not a failure.
	ErrReconnectAsked = errors.New("reconnect asked")
)

// Config sets up a client.
type Config struct {
	URL      string         // the station, ws://host:port
	Identity *dimp.Identity // the local user
	Logger   *slog.Logger   // nil: discard

	// StateTimeout is how long Connecting and Handshaking may last (30 s,
	// as the reference's state machine).
	StateTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting; it
	// doubles from Min to Max with ±25 % jitter.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often the client sends PING while running, to
	// keep the connection alive and measure the round trip. 0: 10 s.
	PingInterval time.Duration
	// PongTimeout is how long a PING may wait for its PONG while no other
	// frame comes from the station either; then the connection is given
	// up and made again. 0: StateTimeout.
	PongTimeout time.Duration
	// QueryTimeout is how long a message waits for its peer's visa. 0: 30 s.
	QueryTimeout time.Duration
	// MaxFrame bounds a frame read from the station (1 MiB by default).
	MaxFrame int64
	// EventBuffer is the size of the Events channel (1024 by default).
	EventBuffer int
	// FrameHead bounds the bytes of one frame a FrameEvent or HeldEvent
	// carries (DefaultFrameHead, 16 KiB, when 0; every frame whole when
	// negative): a longer frame is reported by its head, its size and its
	// SHA-256, so that the events waiting in the channel, and whatever
	// keeps them, hold kilobytes rather than the megabytes a station may
	// send.
	FrameHead int
	// Agent names the software in the login command.
	Agent string
	// NoAnnounce leaves out the visa and login broadcasts after the handshake.
	NoAnnounce bool
	// Step starts the client with step-through on: every frame (or every
	// message, see StepMode) waits for Release before it is written or
	// processed. SetStep changes it later.
	Step StepMode
	// UploadAPI is where SendFile uploads: the station's HTTP address (the
	// default, from URL: ws→http, wss→https) or an upload URL template as
	// dimchat's apps configure it, with {ID}, {MD5} and {SALT}.
	UploadAPI string
	// MaxFile bounds a file sent or downloaded (16 MiB, the upload
	// service's limit, when 0).
	MaxFile int64
	// History remembers across runs the signatures of the messages this
	// identity's client has processed, so that a message the station
	// offers again after a restart is not shown twice, and the
	// conversations as they were shown (record.go): the messages, their
	// delivery states, recalls and read marks, the contacts met. The
	// caller opens and closes it, one per identity. Nil: signatures are
	// remembered in memory only, for this run, and nothing else.
	History *history.DB

	// SaveIdentity keeps the identity SetProfile re-signed (profile.go); nil: in memory only.
	SaveIdentity func(*dimp.Identity) error
}

func (c *Config) defaults() {
	if c.StateTimeout == 0 {
		c.StateTimeout = 30 * time.Second
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.PingInterval == 0 {
		c.PingInterval = 10 * time.Second
	}
	if c.PongTimeout == 0 {
		c.PongTimeout = c.StateTimeout
	}
	if c.QueryTimeout == 0 {
		c.QueryTimeout = 30 * time.Second
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = 1 << 20
	}
	if c.EventBuffer == 0 {
		c.EventBuffer = 1024
	}
	if c.FrameHead == 0 {
		c.FrameHead = DefaultFrameHead
	}
	if c.Agent == "" {
		c.Agent = "dimtui"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Client is a DIM client. Create it with New, start it with Run, and read
// its Events; the other methods may be called from any goroutine.
type Client struct {
	cfg    Config
	me     *dimp.Identity
	log    *slog.Logger
	events chan Event
	reqs   chan func(*loop)
	done   chan struct{} // closed when Run returns
	rec    *recorder     // nil without a history

	mu      sync.Mutex
	status  Status
	step    StepMode
	dropped int // frame events dropped because nobody read them
}

// New checks the configuration and returns a client that is not connected yet.
func New(cfg Config) (*Client, error) {
	if cfg.Identity == nil || cfg.Identity.SignKey == nil || cfg.Identity.Meta == nil {
		return nil, errors.New("client: an identity with its private key is needed")
	}
	if cfg.URL == "" {
		return nil, errors.New("client: no station URL")
	}
	cfg.defaults()
	c := &Client{
		cfg:    cfg,
		me:     cfg.Identity,
		log:    cfg.Logger,
		events: make(chan Event, cfg.EventBuffer),
		reqs:   make(chan func(*loop), 64),
		done:   make(chan struct{}),
	}
	c.rec = newRecorder(cfg.History, cfg.Identity.ID, cfg.Logger)
	c.status = Status{State: Default, URL: cfg.URL, Since: time.Now()}
	c.step = cfg.Step
	return c, nil
}

// Me returns the local user's ID.
func (c *Client) Me() dimp.ID { return c.me.ID }

// Identity returns the local user as the client started: a visa that
// SetProfile signs later is not in it (the ProfileEvent has it), so that
// what was handed out never changes under its reader.
func (c *Client) Identity() *dimp.Identity { return c.me }

// Events delivers what happens, and is closed when Run returns. Read it
// continuously: frame events are dropped when nobody reads, the other
// events wait. Call the client's methods from another goroutine than the
// one that reads: a method waits for the client's loop, and the loop may
// be waiting for room in this channel.
func (c *Client) Events() <-chan Event { return c.events }

// Status returns the current connection status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Run connects, handshakes, and keeps the connection up (reconnecting with
// backoff) until ctx is done. It returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	defer close(c.done)
	defer close(c.events) // only the loop emits, and it has returned
	l := newLoop(c)
	return l.run(ctx)
}

// do runs fn on the client's loop and waits for it.
func (c *Client) do(ctx context.Context, fn func(*loop)) error {
	finished := make(chan struct{})
	wrapped := func(l *loop) {
		defer close(finished)
		fn(l)
	}
	select {
	case c.reqs <- wrapped:
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-finished:
		return nil
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send seals a content for a peer and sends it when it can: at once when
// the peer's visa is known and the handshake is done, else after fetching
// the visa and after the next handshake. Progress comes as DeliveryEvents.
func (c *Client) Send(ctx context.Context, to dimp.ID, content dimp.Content) (MessageID, error) {
	var id MessageID
	var err error
	if derr := c.do(ctx, func(l *loop) { id, err = l.send(to, content, true) }); derr != nil {
		return "", derr
	}
	return id, err
}

// SendText sends a text message.
func (c *Client) SendText(ctx context.Context, to dimp.ID, text string) (MessageID, error) {
	return c.Send(ctx, to, dimp.NewText(text))
}

// SendCommand sends a command to the station (or any ID); commands get no
// "Message received." receipt from peers, so they stop at AtStation.
func (c *Client) SendCommand(ctx context.Context, to dimp.ID, cmd dimp.Command) (MessageID, error) {
	return c.Send(ctx, to, cmd)
}

// ActiveUsers asks the station who is online; the answer comes as a UsersEvent.
func (c *Client) ActiveUsers(ctx context.Context) error {
	var err error
	if derr := c.do(ctx, func(l *loop) {
		if l.station.IsZero() || l.state != Running {
			err = ErrNotRunning
			return
		}
		if l.usersUnlisted {
			err = ErrNoUserList
			return
		}
		l.usersAsk, err = l.send(l.station, dimp.NewText("active users"), false)
	}); derr != nil {
		return derr
	}
	return err
}

// MarkRead tells the sender of a received message that it was read.
func (c *Client) MarkRead(ctx context.Context, id MessageID) error {
	var err error
	if derr := c.do(ctx, func(l *loop) { err = l.markRead(id) }); derr != nil {
		return derr
	}
	if err == nil {
		c.rec.markRead(ctx, id)
	}
	return err
}

// Peer returns the verified profile of a peer, fetching it from the station
// when unknown (the answer then comes as a PeerEvent, and Peer returns nil).
func (c *Client) Peer(ctx context.Context, id dimp.ID) (*dimp.Profile, error) {
	var p *dimp.Profile
	if err := c.do(ctx, func(l *loop) {
		if p = l.peers[IDKey(id)]; p == nil {
			l.query(id)
		}
	}); err != nil {
		return nil, err
	}
	return p, nil
}

// Peers lists the profiles the client knows.
func (c *Client) Peers(ctx context.Context) ([]*dimp.Profile, error) {
	var out []*dimp.Profile
	err := c.do(ctx, func(l *loop) {
		for _, p := range l.peers {
			out = append(out, p)
		}
	})
	return out, err
}

// Reconnect drops the connection now and connects again, as after an error.
func (c *Client) Reconnect(ctx context.Context) error {
	return c.do(ctx, func(l *loop) { l.reconnect() })
}

// emit hands an event to the UI, and reports whether it did. Frame events
// are dropped if the channel is full; the others wait for room (or for the
// client to stop: then they are dropped too). A long frame goes as its head
// (Config.FrameHead).
func (c *Client) emit(ctx context.Context, ev Event) bool {
	switch e := ev.(type) {
	case FrameEvent:
		// Only the loop sends: a channel with room keeps it until the
		// send, and a frame that would be dropped is not cut for nothing.
		if len(c.events) < cap(c.events) {
			c.events <- e.Shrunk(c.cfg.FrameHead)
			return true
		}
		c.mu.Lock()
		c.dropped++
		c.mu.Unlock()
		return false
	case HeldEvent:
		ev = e.Shrunk(c.cfg.FrameHead)
	}
	if ctx.Err() != nil {
		return false // stopping: the one who reads may be gone
	}
	select {
	case c.events <- ev:
		c.rec.record(ctx, ev) // once the UI has it: see record.go
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff returns the wait before reconnect attempt n (1, 2, ...).
func backoff(minWait, maxWait time.Duration, n int) time.Duration {
	d := minWait
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	if d > maxWait {
		d = maxWait
	}
	jitter := 0.75 + rand.Float64()/2 // ±25 %
	return time.Duration(float64(d) * jitter)
}

// IDKey is the key of a user (or group, or station) in maps: its ID
// without the terminal, so that the devices of one user share a profile,
// a conversation and a contact.
func IDKey(id dimp.ID) string { return id.WithoutTerminal().String() }

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// errorf makes an ErrorEvent.
func errorf(format string, args ...any) ErrorEvent {
	return ErrorEvent{Time: time.Now(), Err: fmt.Errorf(format, args...)}
}
