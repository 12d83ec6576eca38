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
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/client/idstore"
	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/echobot"
	"dimtui/mockstation/store"
	"dimtui/ui"
)

// defaultStationURL is where `dimtui chat` connects without --station.
const defaultStationURL = "ws://" + mockstation.DefaultListen

func newChatCommand() *cobra.Command {
	var stationURL, idName string
	var wf workshopFlags
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
			h, err := openHistory(cmd.Context(), me)
			if err != nil {
				return err
			}
			defer h.Close()
			return runClientUI(cmd.Context(), stationURL, me, h, dimp.ID{}, logger, &wf)
		},
	}
	cmd.Flags().StringVar(&stationURL, "station", defaultStationURL, "the station's WebSocket URL")
	cmd.Flags().StringVar(&idName, "id", "", "the identity to use (default: your default identity, created if needed)")
	wf.register(cmd, false)
	return cmd
}

// runDemo is `dimtui` with no arguments: a station with its echo bot in
// this process, the user's identity, and the UI talking to the bot, with
// workshop mode's keys and commands.
func runDemo(cmd *cobra.Command, _ []string, wf *workshopFlags) error {
	return runWorkshop(cmd.Context(), nil, wf)
}

// runClientUI connects to a station and runs the UI until the user quits.
func runClientUI(ctx context.Context, url string, me *localUser, h *history.DB, peer dimp.ID, logger *slog.Logger, wf *workshopFlags) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	step, err := wf.stepMode()
	if err != nil {
		return err
	}
	c, err := client.New(client.Config{URL: url, Identity: me.id, Logger: logger.With("part", "client"), Step: step, History: h})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	opt := ui.Options{Context: ctx, Peer: peer, Logger: logger.With("part", "ui")}
	if !peer.IsZero() {
		opt.Bots = []dimp.ID{peer}
	}
	return runUI(ctx, []ui.PaneSpec{{Backend: c, Options: opt}}, ui.WorkshopOptions{Step: step, Presenter: wf.presenter})
}

// runUI runs the Bubble Tea program for the clients' panes, in workshop
// mode.
func runUI(ctx context.Context, specs []ui.PaneSpec, wopt ui.WorkshopOptions) error {
	app := ui.NewSplit(specs, ui.WithWorkshop(wopt))
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
	// IdentityDir is the users' identity store; default: idstore's.
	IdentityDir string
	// Users names the identities to connect, one client each; none: the
	// default identity.
	Users []string
	// Step starts every client with step-through on.
	Step client.StepMode
	// Faults, when set, lets the demo break the station on purpose.
	Faults *mockstation.Faults
	// Logger receives everything the station, bot and clients log.
	Logger *slog.Logger
}

// demo is a running station with its echo bot, and the users' clients.
type demo struct {
	Client  *client.Client   // the first user's
	Clients []*client.Client // one per user, in the order of Config.Users
	Echo    dimp.ID
	URL     string
	Station *stationRunner
	stop    context.CancelFunc
	done    chan struct{}
	scratch string // a station directory of its own, removed on Close

	histories []*history.DB // the clients', closed once they have stopped
}

// startDemo starts the station (with the echo bot as one of its services)
// and a client per user, which start connecting at once.
func startDemo(ctx context.Context, cfg demoConfig) (*demo, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == "" {
		cfg.Listen = mockstation.DefaultListen
	}
	shared := cfg.StationDir == ""
	if shared {
		dir, err := defaultStationDir()
		if err != nil {
			return nil, err
		}
		cfg.StationDir = filepath.Join(filepath.Dir(dir), "demo-station")
	}
	users := cfg.Users
	if len(users) == 0 {
		users = []string{""}
	}
	var ids []*localUser
	for _, name := range users {
		me, err := loadOrCreateIdentityIn(cfg.IdentityDir, name, log)
		if err != nil {
			return nil, err
		}
		ids = append(ids, me)
	}
	// Each user's client remembers what it has shown in its own history.
	var histories []*history.DB
	closeHistories := func() {
		for _, h := range histories {
			h.Close()
		}
	}
	for _, me := range ids {
		h, err := openHistory(ctx, me)
		if err != nil {
			closeHistories()
			return nil, err
		}
		histories = append(histories, h)
	}
	ln, err := listen(cfg.Listen)
	if err != nil {
		closeHistories()
		return nil, err
	}
	ctx, stop := context.WithCancel(ctx)
	station, bot, err := startDemoStation(ctx, ln, cfg, log)
	var scratch string
	if err != nil && shared && errors.Is(err, store.ErrLocked) {
		// Another demo runs on the shared station directory: this one
		// gets a station of its own, forgotten when it ends.
		if scratch, err = os.MkdirTemp("", "dimtui-demo-station-"); err == nil {
			log.Warn("demo station in use by another dimtui: using a fresh one", "dir", scratch)
			cfg.StationDir = scratch
			station, bot, err = startDemoStation(ctx, ln, cfg, log)
		}
	}
	if err != nil {
		stop()
		ln.Close()
		closeHistories()
		if scratch != "" {
			os.RemoveAll(scratch)
		}
		return nil, err
	}
	url := "ws://" + ln.Addr().String()
	d := &demo{Echo: bot.ID, URL: url, Station: station, stop: stop, done: make(chan struct{}), scratch: scratch,
		histories: histories}
	for i, me := range ids {
		c, err := client.New(client.Config{URL: url, Identity: me.id, Logger: log.With("part", "client", "user", me.id.ID.Name()),
			Step: cfg.Step, History: histories[i]})
		if err != nil {
			stop()
			station.Close()
			closeHistories()
			return nil, err
		}
		d.Clients = append(d.Clients, c)
		log.Info("demo client", "url", url, "station", station.Server().ID(), "echo", bot.ID, "me", me.id.ID, "history", me.history)
	}
	d.Client = d.Clients[0]
	var clients sync.WaitGroup
	for _, c := range d.Clients {
		clients.Add(1)
		go func() {
			defer clients.Done()
			_ = c.Run(ctx)
		}()
	}
	go func() {
		defer close(d.done)
		clients.Wait()
	}()
	return d, nil
}

// Close stops the clients, the bot and the station.
func (d *demo) Close() error {
	d.stop()
	<-d.done
	err := d.Station.Close()
	for _, h := range d.histories {
		err = errors.Join(err, h.Close())
	}
	if d.scratch != "" {
		err = errors.Join(err, os.RemoveAll(d.scratch))
	}
	return err
}

// startDemoStation loads the echo bot from cfg.StationDir and starts the
// station there on ln, with the bot as one of its services.
func startDemoStation(ctx context.Context, ln net.Listener, cfg demoConfig, log *slog.Logger) (*stationRunner, *dimp.Identity, error) {
	bot, err := echobot.LoadOrCreate(filepath.Join(cfg.StationDir, "bots"))
	if err != nil {
		return nil, nil, err
	}
	station, err := startStation(ctx, ln, mockstation.Config{
		DataDir:    cfg.StationDir,
		TimeWindow: 10 * time.Minute,
		// A presenter may hold a Hello world! for as long as it takes to
		// explain it: the station does not close the connection meanwhile.
		HandshakeTimeout: -1,
		Logger:           log.With("part", "station"),
		Services:         []mockstation.Service{echobot.Service(bot, log.With("part", "echobot"))},
		Faults:           cfg.Faults,
	}, log)
	return station, bot, err
}

// stationRunner is the demo's station, which a workshop may restart: a
// new server on the same address and data, with the same faults.
type stationRunner struct {
	base context.Context
	cfg  mockstation.Config
	log  *slog.Logger

	mu   sync.Mutex
	srv  *mockstation.Server
	stop context.CancelFunc
	done chan struct{}
}

// startStation serves a new station on ln until ctx ends or Close. When
// it fails, ln stays open for the caller.
func startStation(ctx context.Context, ln net.Listener, cfg mockstation.Config, log *slog.Logger) (*stationRunner, error) {
	cfg.Listen = ln.Addr().String()
	r := &stationRunner{base: ctx, cfg: cfg, log: log}
	if err := r.serve(ln); err != nil {
		return nil, err
	}
	return r, nil
}

// serve starts a server on ln; r.mu is held or r is not shared yet.
func (r *stationRunner) serve(ln net.Listener) error {
	srv, err := mockstation.New(r.cfg)
	if err != nil {
		return fmt.Errorf("station: %w", err)
	}
	ctx, stop := context.WithCancel(r.base)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			r.log.Error("station stopped", "err", err)
		}
	}()
	r.srv, r.stop, r.done = srv, stop, done
	return nil
}

// Server returns the station now serving.
func (r *stationRunner) Server() *mockstation.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv
}

// halt stops the server and closes its database; r.mu is held.
func (r *stationRunner) halt() error {
	if r.srv == nil {
		return nil
	}
	r.stop()
	<-r.done
	err := r.srv.Close()
	r.srv = nil
	return err
}

// Restart stops the station (every client loses its connection) and
// starts it again on the same address with the same data: what it stored
// is still there, and the clients reconnect and handshake from Start.
func (r *stationRunner) Restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.halt(); err != nil {
		r.log.Warn("station close", "err", err)
	}
	var ln net.Listener
	var err error
	for {
		if ln, err = net.Listen("tcp", r.cfg.Listen); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart: listen %s: %w", r.cfg.Listen, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := r.serve(ln); err != nil {
		ln.Close()
		return err
	}
	r.log.Info("station restarted", "listen", r.cfg.Listen)
	return nil
}

// Close stops the station for good.
func (r *stationRunner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.halt()
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

// localUser is an identity from the store, and where its client keeps
// its history.
type localUser struct {
	id      *dimp.Identity
	name    string
	history string
}

// loadOrCreateIdentity loads the named identity from the default store (the
// default identity when name is empty), creating it when it does not exist.
func loadOrCreateIdentity(name string, log *slog.Logger) (*localUser, error) {
	return loadOrCreateIdentityIn("", name, log)
}

// loadOrCreateIdentityIn is loadOrCreateIdentity for the store in dir ("":
// the default store). A new default identity is named after $USER, or "me".
func loadOrCreateIdentityIn(dir, name string, log *slog.Logger) (*localUser, error) {
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
	hist, err := store.HistoryPath(name)
	if err != nil {
		return nil, err
	}
	id, err := store.Load(name)
	if err == nil {
		return &localUser{id: id, name: name, history: hist}, nil
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
	return &localUser{id: id, name: name, history: hist}, nil
}

// openHistory opens the history of a user's client. A file it cannot use
// stops the program with what to do: it is never replaced, since the
// messages it remembers would be shown again.
func openHistory(ctx context.Context, u *localUser) (*history.DB, error) {
	h, err := history.Open(ctx, u.history, u.id.ID, history.Options{})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w (move the file away to start a new one: messages the station offers again may then be shown twice)", u.name, err)
	}
	return h, nil
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
