package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"dimtui/client"
	"dimtui/client/history"
	"dimtui/datadir"
	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/echobot"
	"dimtui/mockstation/store"
)

// instanceConfig sets up one instance of the demo.
type instanceConfig struct {
	// Listen is where the station listens first; a free port on the same
	// host when it is taken. Default: mockstation.DefaultListen.
	Listen string
	// StationDir holds the station's identity, database and echo bot;
	// default: the demo's station in dimtui's state directory.
	StationDir string
	// IdentityDir is the users' identity store; default: idstore's.
	IdentityDir string
	// Users names the identities to connect, one client each; none: the
	// default identity.
	Users []string
	// Step starts every client with step-through on.
	Step client.StepMode
	// Group, when set, is the name of a group the first user creates with
	// the others once every client is connected.
	Group string
	// Stations is how many stations the demo runs (0 and 1: one). The
	// first has the echo bot; each other one links to the one before it
	// (a line), and user i is at station i modulo Stations.
	Stations int
	// OnNotice hears what each station does in the network of stations:
	// station is its index.
	OnNotice func(station int, n mockstation.Notice)
	// Faults, when set, lets the demo break the station on purpose.
	Faults *mockstation.Faults
	// Logger receives everything the station, bot and clients log.
	Logger *slog.Logger
}

// instance is a running station with its echo bot, and the users'
// clients.
type instance struct {
	Client  *client.Client   // the first user's
	Clients []*client.Client // one per user, in the order of Users
	Echo    dimp.ID
	URL     string
	Station *stationRunner // the first station, with the echo bot
	// Stations are all the stations, the first one first; Homes gives
	// each client's station, an index into Stations.
	Stations []*stationRunner
	Homes    []int
	stop     context.CancelFunc
	done     chan struct{}
	scratch  string // a station directory of its own, removed on Close

	histories []*history.DB // the clients', closed once they have stopped
}

// startInstance starts the station (with the echo bot as one of its
// services) and a client per user, which start connecting at once. ctx
// bounds the start; the instance then runs until Close.
func startInstance(ctx context.Context, cfg instanceConfig) (*instance, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Listen == "" {
		cfg.Listen = mockstation.DefaultListen
	}
	shared := cfg.StationDir == ""
	if shared {
		dir, err := datadir.DemoStationDir()
		if err != nil {
			return nil, err
		}
		cfg.StationDir = dir
	}
	users := cfg.Users
	if len(users) == 0 {
		users = []string{""}
	}
	var ids []*datadir.User
	for _, name := range users {
		me, err := datadir.LoadOrCreateUser(cfg.IdentityDir, name, log)
		if err != nil {
			return nil, err
		}
		ids = append(ids, me)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	// Each user's client remembers what it has shown in its own history.
	var histories []*history.DB
	closeHistories := func() {
		for _, h := range histories {
			h.Close()
		}
	}
	for _, me := range ids {
		h, err := me.OpenHistory(ctx)
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
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	station, bot, err := startInstanceStation(life, ln, cfg, log)
	var scratch string
	if err != nil && shared && errors.Is(err, store.ErrLocked) {
		// Another demo runs on the shared station directory: this one
		// gets a station of its own, forgotten when it ends.
		if scratch, err = os.MkdirTemp("", "dimtui-demo-station-"); err == nil {
			log.Warn("demo station in use by another dimtui: using a fresh one", "dir", scratch)
			cfg.StationDir = scratch
			station, bot, err = startInstanceStation(life, ln, cfg, log)
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
	inst := &instance{Echo: bot.ID, URL: url, Station: station, stop: stop, done: make(chan struct{}), scratch: scratch,
		histories: histories, Stations: []*stationRunner{station}}
	fail := func(err error) (*instance, error) {
		stop()
		inst.closeStations()
		closeHistories()
		return nil, err
	}
	urls := []string{url}
	for i := 1; i < cfg.Stations; i++ {
		r, u, err := startNetworkStation(life, cfg, i, urls[i-1], log)
		if err != nil {
			return fail(err)
		}
		inst.Stations = append(inst.Stations, r)
		urls = append(urls, u)
	}
	for i, me := range ids {
		home := i % len(inst.Stations)
		inst.Homes = append(inst.Homes, home)
		url := urls[home]
		c, err := client.New(client.Config{URL: url, Identity: me.Identity, Logger: log.With("part", "client", "user", me.Identity.ID.Name()),
			Step: cfg.Step, History: histories[i], SaveIdentity: me.Saver(cfg.IdentityDir)})
		if err != nil {
			return fail(err)
		}
		inst.Clients = append(inst.Clients, c)
		log.Info("demo client", "url", url, "station", inst.Stations[home].Server().ID(), "echo", bot.ID, "me", me.Identity.ID, "history", me.History)
	}
	inst.Client = inst.Clients[0]
	var clients sync.WaitGroup
	for _, c := range inst.Clients {
		clients.Add(1)
		go func() {
			defer clients.Done()
			_ = c.Run(life)
		}()
	}
	go func() {
		defer close(inst.done)
		clients.Wait()
	}()
	if cfg.Group != "" && len(inst.Clients) > 1 {
		go inst.foundGroup(life, cfg.Group, log)
	}
	return inst, nil
}

// foundGroup has the first user create a group named name with the other
// users, once every client has handshaken (so that the station knows each
// member's visa). Under step-through that waits for the presenter.
func (inst *instance) foundGroup(ctx context.Context, name string, log *slog.Logger) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		running := 0
		for _, c := range inst.Clients {
			if c.Status().State == client.Running {
				running++
			}
		}
		if running == len(inst.Clients) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	var members []dimp.ID
	for _, c := range inst.Clients[1:] {
		members = append(members, c.Me())
	}
	if _, err := inst.Client.CreateGroup(ctx, name, members); err != nil {
		log.Warn("demo group", "name", name, "err", err)
	}
}

// Close stops the clients, the bot and the station.
func (inst *instance) Close() error {
	inst.stop()
	<-inst.done
	err := inst.closeStations()
	for _, h := range inst.histories {
		err = errors.Join(err, h.Close())
	}
	if inst.scratch != "" {
		err = errors.Join(err, os.RemoveAll(inst.scratch))
	}
	return err
}

// closeStations stops every station, the last first.
func (inst *instance) closeStations() error {
	var err error
	for i := len(inst.Stations) - 1; i >= 0; i-- {
		err = errors.Join(err, inst.Stations[i].Close())
	}
	return err
}

// StationName names station i of the demo: A, B, C...
func StationName(i int) string { return string(rune('A' + i%26)) }

// stationOf returns the station user is at, and its index.
func (inst *instance) stationOf(user dimp.ID) (*stationRunner, int) {
	for i, c := range inst.Clients {
		if c.Me().SameAs(user) {
			return inst.Stations[inst.Homes[i]], inst.Homes[i]
		}
	}
	return inst.Station, 0
}

// startNetworkStation starts station i (i > 0) of a demo of several, in
// a directory of its own beside the first station's, on a free port of
// the first's host, linked to the station at neighbor.
func startNetworkStation(ctx context.Context, cfg instanceConfig, i int, neighbor string, log *slog.Logger) (*stationRunner, string, error) {
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, "", fmt.Errorf("station %s: %w", StationName(i), err)
	}
	scfg := stationConfig(cfg, filepath.Join(cfg.StationDir, "network", strings.ToLower(StationName(i))), i, log)
	scfg.Neighbors = []string{neighbor}
	r, err := startStation(ctx, ln, scfg, log)
	if err != nil {
		ln.Close()
		return nil, "", fmt.Errorf("station %s: %w", StationName(i), err)
	}
	return r, "ws://" + ln.Addr().String(), nil
}

// stationConfig is the configuration of station i of the demo.
func stationConfig(cfg instanceConfig, dir string, i int, log *slog.Logger) mockstation.Config {
	sc := mockstation.Config{
		DataDir:    dir,
		TimeWindow: 10 * time.Minute,
		// A presenter may hold a Hello world! for as long as it takes to
		// explain it: the station does not close the connection meanwhile.
		HandshakeTimeout: -1,
		Logger:           log.With("part", "station", "station", StationName(i)),
		Faults:           cfg.Faults,
	}
	if cfg.OnNotice != nil {
		sc.OnNotice = func(n mockstation.Notice) { cfg.OnNotice(i, n) }
	}
	return sc
}

// startInstanceStation loads the echo bot from cfg.StationDir and starts
// the station there on ln, with the bot as one of its services.
func startInstanceStation(ctx context.Context, ln net.Listener, cfg instanceConfig, log *slog.Logger) (*stationRunner, *dimp.Identity, error) {
	bot, err := echobot.LoadOrCreate(filepath.Join(cfg.StationDir, "bots"))
	if err != nil {
		return nil, nil, err
	}
	scfg := stationConfig(cfg, cfg.StationDir, 0, log)
	scfg.Services = []mockstation.Service{echobot.Service(bot, log.With("part", "echobot"))}
	station, err := startStation(ctx, ln, scfg, log)
	return station, bot, err
}
