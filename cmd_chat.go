package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"dimtui/client"
	"dimtui/client/idstore"
	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/echobot"
	"dimtui/ui"
)

// defaultStationURL is where `dimtui chat` connects without --station.
const defaultStationURL = "ws://" + mockstation.DefaultListen

func newChatCommand() *cobra.Command {
	var stationURL, idName string
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Chat through a DIM station in the terminal",
		Long: `Connects to a DIM station as one of your identities and opens the terminal client:
the handshake step by step in the status bar, conversations with delivery ticks,
application content, and an inspector that opens every frame layer by layer.

The identity is --id, else your default one; it is created on first use.
Logs go to dimtui.log in your state directory, never to the screen.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, closeLog, err := openLog()
			if err != nil {
				return err
			}
			defer closeLog()
			me, err := loadOrCreateIdentity(idName, logger)
			if err != nil {
				return err
			}
			return runClientUI(cmd.Context(), stationURL, me, dimp.ID{}, logger)
		},
	}
	cmd.Flags().StringVar(&stationURL, "station", defaultStationURL, "the station's WebSocket URL")
	cmd.Flags().StringVar(&idName, "id", "", "the identity to use (default: your default identity, created if needed)")
	return cmd
}

// runDemo is `dimtui` with no arguments: a station with its echo bot in
// this process, the user's identity, and the UI talking to the bot.
func runDemo(cmd *cobra.Command, _ []string) error {
	logger, closeLog, err := openLog()
	if err != nil {
		return err
	}
	defer closeLog()
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	d, err := startDemo(ctx, demoConfig{Logger: logger})
	if err != nil {
		return err
	}
	defer d.Close()
	return runUI(ctx, d.Client, d.Echo, logger)
}

// runClientUI connects to a station and runs the UI until the user quits.
func runClientUI(ctx context.Context, url string, me *dimp.Identity, peer dimp.ID, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, err := client.New(client.Config{URL: url, Identity: me, Logger: logger.With("part", "client")})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	return runUI(ctx, c, peer, logger)
}

// runUI runs the Bubble Tea program for a client.
func runUI(ctx context.Context, c *client.Client, peer dimp.ID, logger *slog.Logger) error {
	opt := ui.Options{Context: ctx, Peer: peer, Logger: logger.With("part", "ui")}
	if !peer.IsZero() {
		opt.Bots = []dimp.ID{peer}
	}
	app := ui.New(c, opt)
	if _, err := tea.NewProgram(app, tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}

// demoConfig sets up an in-process demo.
type demoConfig struct {
	// Listen is where the station listens first; a free port on the same
	// host when it is taken. Default: mockstation.DefaultListen.
	Listen string
	// StationDir holds the station's identity, database and echo bot;
	// default: demo-station in dimtui's state directory.
	StationDir string
	// IdentityDir is the user's identity store; default: idstore's.
	IdentityDir string
	// Logger receives everything the station, bot and client log.
	Logger *slog.Logger
}

// demo is a running station with its echo bot, and the user's client.
type demo struct {
	Client *client.Client
	Echo   dimp.ID
	URL    string
	stop   context.CancelFunc
	done   chan struct{}
	srv    *mockstation.Server
}

// startDemo starts the station (with the echo bot as one of its services)
// and the user's client, which starts connecting at once.
func startDemo(ctx context.Context, cfg demoConfig) (*demo, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == "" {
		cfg.Listen = mockstation.DefaultListen
	}
	if cfg.StationDir == "" {
		dir, err := defaultStationDir()
		if err != nil {
			return nil, err
		}
		cfg.StationDir = filepath.Join(filepath.Dir(dir), "demo-station")
	}
	me, err := loadOrCreateIdentityIn(cfg.IdentityDir, "", log)
	if err != nil {
		return nil, err
	}
	bot, err := echobot.LoadOrCreate(filepath.Join(cfg.StationDir, "bots"))
	if err != nil {
		return nil, err
	}
	ln, err := listen(cfg.Listen)
	if err != nil {
		return nil, err
	}
	botService := echobot.Service(bot, log.With("part", "echobot"))
	srv, err := mockstation.New(mockstation.Config{
		DataDir:    cfg.StationDir,
		Listen:     ln.Addr().String(),
		TimeWindow: 10 * time.Minute,
		Logger:     log.With("part", "station"),
		Services:   []mockstation.Service{botService},
	})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("station: %w", err)
	}
	url := "ws://" + ln.Addr().String()
	log.Info("demo station", "url", url, "station", srv.ID(), "echo", bot.ID, "me", me.ID)
	c, err := client.New(client.Config{URL: url, Identity: me, Logger: log.With("part", "client")})
	if err != nil {
		ln.Close()
		srv.Close()
		return nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	d := &demo{Client: c, Echo: bot.ID, URL: url, stop: stop, done: make(chan struct{}), srv: srv}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("station stopped", "err", err)
		}
	}()
	go func() {
		defer close(d.done)
		_ = c.Run(ctx)
		<-serveDone
	}()
	return d, nil
}

// Close stops the client, the bot and the station.
func (d *demo) Close() error {
	d.stop()
	<-d.done
	return d.srv.Close()
}

// listen listens on addr, or on a free port of the same host when addr is
// taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, fmt.Errorf("listen %s: %w (and no free port: %w)", addr, err, err2)
	}
	return ln, nil
}

// loadOrCreateIdentity loads the named identity from the default store (the
// default identity when name is empty), creating it when it does not exist.
func loadOrCreateIdentity(name string, log *slog.Logger) (*dimp.Identity, error) {
	return loadOrCreateIdentityIn("", name, log)
}

// loadOrCreateIdentityIn is loadOrCreateIdentity for the store in dir ("":
// the default store). A new default identity is named after $USER, or "me".
func loadOrCreateIdentityIn(dir, name string, log *slog.Logger) (*dimp.Identity, error) {
	store, err := idstore.Open(dir)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = store.Default()
	}
	if name == "" {
		name = userName()
	}
	id, err := store.Load(name)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, idstore.ErrNotFound) {
		return nil, fmt.Errorf("identity %s: %w", name, err)
	}
	// secp256k1 for the meta key: created in a blink, where RSA-2048 takes
	// a noticeable moment on first start.
	id, err = store.Create(name, idstore.Options{KeyAlg: "ecc"})
	if err != nil {
		return nil, fmt.Errorf("create identity %s: %w", name, err)
	}
	log.Info("identity created", "name", name, "id", id.ID, "dir", store.Dir)
	return id, nil
}

// userName is a name for a new identity: $USER made safe for an ID, or
// "me".
func userName() string {
	name := os.Getenv("USER")
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		}
		if b.Len() >= 32 {
			break
		}
	}
	if b.Len() == 0 {
		return "me"
	}
	return b.String()
}

// openLog opens dimtui.log in the state directory for appending; the UI
// owns the screen, so nothing may be logged there.
func openLog() (*slog.Logger, func(), error) {
	dir, err := defaultStationDir()
	if err != nil {
		return nil, nil, err
	}
	dir = filepath.Dir(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("log directory: %w", err)
	}
	path := filepath.Join(dir, "dimtui.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	var w io.Writer = f
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	logger.Info("dimtui started", "pid", os.Getpid())
	return logger, func() { f.Close() }, nil
}
