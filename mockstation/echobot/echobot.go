// Package echobot is the station's echo bot: a user that answers every text
// with "echo: <text>" and every application or customized content with a
// customized content whose act is "echo", carrying the same extra fields.
// Invited to a group, it is a member like any other and answers there.
// It connects to the station like any client, so it handshakes, verifies,
// decrypts and sends receipts exactly as a real client does.
package echobot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"dimtui/client"
	"dimtui/client/idstore"
	"dimtui/dimp"
	"dimtui/dimp/crypto"
)

// Name is the echo bot's ID name (its meta seed).
const Name = "echo"

// NewIdentity creates the bot's identity: an MKM user named "echo" with an
// ECC signing key and an RSA-1024 visa key.
func NewIdentity() (*dimp.Identity, error) {
	sign, err := crypto.GenerateECC()
	if err != nil {
		return nil, err
	}
	visa, err := crypto.GenerateRSA(1024)
	if err != nil {
		return nil, err
	}
	return dimp.NewIdentity(dimp.User, dimp.MetaMKM, Name, "Echo bot", sign, visa)
}

// LoadOrCreate loads the bot's identity from the identity store in dir,
// creating it on the first start so that the bot's ID stays the same.
func LoadOrCreate(dir string) (*dimp.Identity, error) {
	store, err := idstore.Open(dir)
	if err != nil {
		return nil, err
	}
	id, err := store.Load(Name)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, idstore.ErrNotFound) {
		return nil, fmt.Errorf("echo bot identity: %w", err)
	}
	if id, err = NewIdentity(); err != nil {
		return nil, fmt.Errorf("echo bot identity: %w", err)
	}
	if err := store.Save(Name, id); err != nil {
		return nil, fmt.Errorf("echo bot identity: %w", err)
	}
	return id, nil
}

// Service returns the bot as a station service: started with the
// station's URL once it listens, stopped with it.
func Service(identity *dimp.Identity, logger *slog.Logger) func(ctx context.Context, url string) error {
	return func(ctx context.Context, url string) error {
		b, err := New(url, identity, logger)
		if err != nil {
			return err
		}
		return b.Run(ctx)
	}
}

// Bot is a running echo bot.
type Bot struct {
	c   *client.Client
	log *slog.Logger
}

// New returns a bot for identity that will connect to the station at url.
func New(url string, identity *dimp.Identity, logger *slog.Logger) (*Bot, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := client.New(client.Config{URL: url, Identity: identity, Logger: logger, Agent: "dimtui echo bot"})
	if err != nil {
		return nil, err
	}
	return &Bot{c: c, log: logger}, nil
}

// ID returns the bot's ID.
func (b *Bot) ID() dimp.ID { return b.c.Me() }

// replyQueue bounds the answers waiting to be sent. Past it the bot drops
// new answers (and says so in its log) rather than stop reading events.
const replyQueue = 4096

// Run connects and answers until ctx is done.
//
// Events are read in one goroutine and answers sent from another: sending
// waits for the client's loop, and the loop waits for room in the events
// channel, so a bot that sent from the goroutine that reads events would
// stop both for good once a burst filled the channel.
func (b *Bot) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- b.c.Run(ctx) }()
	replies := make(chan *dimp.InstantMessage, replyQueue)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for m := range replies {
			b.answer(ctx, m)
		}
	}()
	defer func() {
		close(replies)
		<-sent
	}()
	dropped := 0
	for {
		select {
		case err := <-errc:
			return err
		case ev, ok := <-b.c.Events():
			if !ok {
				return <-errc
			}
			m, ok := ev.(client.MessageEvent)
			if !ok || Reply(m.Message.Content) == nil {
				continue
			}
			select {
			case replies <- m.Message:
				if dropped > 0 {
					b.log.Warn("echo replies dropped: too many waiting", "count", dropped)
					dropped = 0
				}
			default:
				dropped++
			}
		}
	}
}

// Reply returns the bot's answer to a content, or nil when it has none.
func Reply(c dimp.Content) dimp.Content {
	switch c := c.(type) {
	case *dimp.TextContent:
		return dimp.NewText("echo: " + c.Text)
	case *dimp.AppContent:
		return dimp.NewAppContent(dimp.ContentCustomized, c.App, c.Mod, "echo", c.Extra.Clone())
	}
	return nil
}

// answer sends the reply to m: in a group the bot is a member of (its
// client took the owner's reset when invited), to the whole group, except
// to an echo, so that two bots do not answer each other for ever;
// otherwise to the sender, naming the group when m did.
func (b *Bot) answer(ctx context.Context, m *dimp.InstantMessage) {
	reply := Reply(m.Content)
	if reply == nil {
		return
	}
	to := m.Sender
	if g := m.Content.Header().Group; !g.IsZero() {
		reply.Header().Group = g
		if grp, err := b.c.Group(ctx, g); err == nil && grp != nil && grp.IsMember(b.c.Me()) {
			if t, ok := m.Content.(*dimp.TextContent); ok && strings.HasPrefix(t.Text, "echo: ") {
				return
			}
			to = g
		}
	}
	if _, err := b.c.Send(ctx, to, reply); err != nil {
		b.log.Warn("echo reply", "to", to, "err", fmt.Sprint(err))
	}
}
