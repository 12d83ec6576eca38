package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"dimtui/client"
	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/ui"
	"dimtui/workshop"
)

// maxDemoUsers bounds `dimtui demo --users`: each user gets a pane.
const maxDemoUsers = 4

func newDemoCommand() *cobra.Command {
	var users string
	var wf workshopFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Workshop mode: a station and several users in one terminal, step by step",
		Long: `Starts a station in this process and one real client per user, each with its own
identity (created on first use), side by side (stacked on a narrow terminal), each
with its own status bar and conversation: the first user talks to the second, the
second to the next, the last to the first. f6 moves the keyboard between them.

For workshops: --step holds every frame in and out until you release it (f8, or
Enter on an empty line), with a panel that explains it; the station can be broken
on purpose (/drop, /corrupt, /delay, /expire, /restart, or the flags below);
/export writes the session as JSON Lines and Markdown, which 'dimtui replay' plays
back; --presenter (or f4) is a large, high-contrast theme, and --fresh (or /reset)
starts from a new station and new identities.`,
		Example: `  dimtui demo --users alice,bob
  dimtui demo --users alice,bob,carol --step --presenter --fresh
  dimtui demo --users alice,bob --delay 2s --expire-after 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := parseUsers(users)
			if err != nil {
				return err
			}
			return runWorkshop(cmd.Context(), names, &wf)
		},
	}
	cmd.Flags().StringVar(&users, "users", "alice,bob", "the users, comma-separated (up to 4), one client and pane each")
	wf.register(cmd, true)
	return cmd
}

// parseUsers reads --users.
func parseUsers(s string) ([]string, error) {
	var names []string
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if seen[n] {
			return nil, fmt.Errorf("--users: %s twice", n)
		}
		seen[n] = true
		names = append(names, n)
	}
	if len(names) == 0 || len(names) > maxDemoUsers {
		return nil, fmt.Errorf("--users: give 1 to %d names, comma-separated", maxDemoUsers)
	}
	return names, nil
}

// workshopFlags are the flags of workshop mode.
type workshopFlags struct {
	step        string
	presenter   bool
	fresh       bool
	listen      string
	delay       time.Duration
	expireAfter time.Duration
	drop        []string
	corrupt     []string
}

// register adds the flags to cmd; station adds those that need the
// station in this process.
func (wf *workshopFlags) register(cmd *cobra.Command, station bool) {
	f := cmd.Flags()
	f.StringVar(&wf.step, "step", "", "hold every frame until released: --step (all frames) or --step=messages (PING, PONG, ACK pass)")
	f.Lookup("step").NoOptDefVal = "all"
	f.BoolVar(&wf.presenter, "presenter", false, "start with the presenter theme: large, high contrast")
	if !station {
		return
	}
	f.BoolVar(&wf.fresh, "fresh", false, "a new station and new identities in temporary directories, removed on exit")
	f.StringVar(&wf.listen, "listen", mockstation.DefaultListen, "where the station listens (a free port when taken)")
	f.DurationVar(&wf.delay, "delay", 0, "the station delays every frame it sends by this much")
	f.DurationVar(&wf.expireAfter, "expire-after", 0, "the station expires every session this long after its handshake")
	f.StringArrayVar(&wf.drop, "drop", nil, "the station drops USER's next chat message (USER:in: the next one to USER)")
	f.StringArrayVar(&wf.corrupt, "corrupt", nil, "the station damages the signature of USER's next chat message (USER:in: to USER)")
}

func (wf *workshopFlags) stepMode() (client.StepMode, error) {
	if wf.step == "" {
		return client.StepOff, nil
	}
	mode, err := client.ParseStepMode(wf.step)
	if err != nil {
		return client.StepOff, fmt.Errorf("--step: %w", err)
	}
	return mode, nil
}

// faultTarget reads USER or USER:in|out.
func faultTarget(flag, v string) (user string, toClient bool, err error) {
	user, dir, _ := strings.Cut(v, ":")
	switch dir {
	case "", "out":
	case "in":
		toClient = true
	default:
		return "", false, fmt.Errorf("--%s %s: USER or USER:in", flag, v)
	}
	return user, toClient, nil
}

// runWorkshop runs the demo in workshop mode until the user quits: users
// are the identities to connect (none: the default one, talking to the
// echo bot).
func runWorkshop(ctx context.Context, users []string, wf *workshopFlags) error {
	logger, closeLog, err := openLog()
	if err != nil {
		return err
	}
	defer closeLog()
	step, err := wf.stepMode()
	if err != nil {
		return err
	}
	for _, v := range append(append([]string(nil), wf.drop...), wf.corrupt...) {
		u, _, err := faultTarget("drop", v)
		if err != nil {
			return err
		}
		if len(users) > 0 && !contains(users, u) {
			return fmt.Errorf("--drop/--corrupt %s: no such user in --users", u)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ws := &workshopSession{ctx: ctx, users: users, wf: wf, step: step, log: logger,
		notices: make(chan workshop.StationNotice, 64)}
	if err := ws.start(); err != nil {
		return err
	}
	defer ws.Close()
	if err := ws.armFlags(); err != nil {
		return err
	}
	return runUI(ctx, ws.specs(), ui.WorkshopOptions{Step: step, Presenter: wf.presenter, Station: ws, Reset: ws.Reset})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// workshopSession is the demo of workshop mode: a station and its users'
// clients, which /reset replaces with fresh ones. It is the UI's
// StationControl.
type workshopSession struct {
	ctx     context.Context
	users   []string
	wf      *workshopFlags
	step    client.StepMode
	log     *slog.Logger
	notices chan workshop.StationNotice

	mu     sync.Mutex
	d      *demo
	faults *mockstation.Faults
	tmp    []string // directories of a fresh start, removed on close
}

// start starts a demo: on the usual data, or on new temporary directories
// with --fresh and after a reset.
func (w *workshopSession) start() error {
	cfg := demoConfig{Listen: w.wf.listen, Users: w.users, Step: w.step, Logger: w.log}
	var tmp []string
	if w.wf.fresh {
		for _, pattern := range []string{"dimtui-station-*", "dimtui-identities-*"} {
			dir, err := os.MkdirTemp("", pattern)
			if err != nil {
				removeAll(tmp)
				return fmt.Errorf("fresh start: %w", err)
			}
			tmp = append(tmp, dir)
		}
		cfg.StationDir, cfg.IdentityDir = tmp[0], tmp[1]
		if len(w.users) == 0 {
			cfg.Users = []string{userName()}
		}
	}
	notices := w.notices
	faults := mockstation.NewFaults(func(r mockstation.FaultReport) {
		select {
		case notices <- workshop.StationNotice{Time: r.Time, User: r.User, Text: r.Text}:
		default: // the screen is behind: the log has it
		}
	})
	faults.SetDelay(dimp.ID{}, w.wf.delay)
	faults.ExpireAfter(w.wf.expireAfter)
	cfg.Faults = faults
	d, err := startDemo(w.ctx, cfg)
	if err != nil {
		removeAll(tmp)
		return err
	}
	w.mu.Lock()
	w.d, w.faults, w.tmp = d, faults, tmp
	w.mu.Unlock()
	return nil
}

// armFlags arms the faults given as flags: the first chat message after
// the start.
func (w *workshopSession) armFlags() error {
	for _, set := range []struct {
		flag string
		list []string
		arm  func(dimp.ID, bool)
	}{{"drop", w.wf.drop, w.faults.DropNext}, {"corrupt", w.wf.corrupt, w.faults.CorruptNext}} {
		for _, v := range set.list {
			name, toClient, err := faultTarget(set.flag, v)
			if err != nil {
				return err
			}
			id, err := w.userID(name)
			if err != nil {
				return fmt.Errorf("--%s: %w", set.flag, err)
			}
			set.arm(id, toClient)
		}
	}
	return nil
}

// userID finds a demo user's ID by name.
func (w *workshopSession) userID(name string) (dimp.ID, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.d.Clients {
		if c.Me().Name() == name {
			return c.Me(), nil
		}
	}
	return dimp.ID{}, fmt.Errorf("no user %s in this demo", name)
}

// specs returns a pane per client: the first user talks to the second,
// the second to the next, the last to the first; alone, to the echo bot.
func (w *workshopSession) specs() []ui.PaneSpec {
	w.mu.Lock()
	d := w.d
	w.mu.Unlock()
	var out []ui.PaneSpec
	for i, c := range d.Clients {
		peer := d.Echo
		if n := len(d.Clients); n > 1 {
			peer = d.Clients[(i+1)%n].Me()
		}
		out = append(out, ui.PaneSpec{Backend: c, Options: ui.Options{Context: w.ctx, Peer: peer, Bots: []dimp.ID{d.Echo},
			Logger: w.log.With("part", "ui", "user", c.Me().Name()), Title: c.Me().Name()}})
	}
	return out
}

// Reset stops everything and starts again with a new station and new
// identities in temporary directories.
func (w *workshopSession) Reset(ctx context.Context) ([]ui.PaneSpec, error) {
	w.stopDemo()
	w.wf.fresh = true
	if err := w.start(); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	return w.specs(), nil
}

// stopDemo stops the running demo and removes its temporary directories.
func (w *workshopSession) stopDemo() {
	w.mu.Lock()
	d, tmp := w.d, w.tmp
	w.d, w.tmp = nil, nil
	w.mu.Unlock()
	if d != nil {
		if err := d.Close(); err != nil {
			w.log.Warn("demo close", "err", err)
		}
	}
	removeAll(tmp)
}

// Close stops the demo for good.
func (w *workshopSession) Close() { w.stopDemo() }

func removeAll(dirs []string) {
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// current returns the running demo's station and faults.
func (w *workshopSession) current() (*demo, *mockstation.Faults, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.d == nil {
		return nil, nil, errors.New("the demo is starting over")
	}
	return w.d, w.faults, nil
}

// DropNext arms the station to lose user's next chat message.
func (w *workshopSession) DropNext(user dimp.ID, toClient bool) error {
	_, f, err := w.current()
	if err != nil {
		return err
	}
	f.DropNext(user, toClient)
	return nil
}

// CorruptNext arms the station to damage the signature of user's next chat
// message.
func (w *workshopSession) CorruptNext(user dimp.ID, toClient bool) error {
	_, f, err := w.current()
	if err != nil {
		return err
	}
	f.CorruptNext(user, toClient)
	return nil
}

// SetDelay delays the station's frames to user.
func (w *workshopSession) SetDelay(user dimp.ID, d time.Duration) error {
	_, f, err := w.current()
	if err != nil {
		return err
	}
	f.SetDelay(user, d)
	return nil
}

// Expire makes the station forget user's session.
func (w *workshopSession) Expire(user dimp.ID) error {
	d, _, err := w.current()
	if err != nil {
		return err
	}
	n, err := d.Station.Server().Expire(user)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s has no session at the station now", user.Name())
	}
	return nil
}

// Restart restarts the station on the same address and data.
func (w *workshopSession) Restart(ctx context.Context) error {
	d, _, err := w.current()
	if err != nil {
		return err
	}
	select {
	case w.notices <- workshop.StationNotice{Time: time.Now(), Text: "is restarting: every connection drops"}:
	default:
	}
	return d.Station.Restart(ctx)
}

// Notices reports what the station does on purpose.
func (w *workshopSession) Notices() <-chan workshop.StationNotice { return w.notices }
