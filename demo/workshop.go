package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"dimtui/client"
	"dimtui/datadir"
	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/ui"
	"dimtui/workshop"
)

// workshopSession is the demo of workshop mode: an instance of the demo,
// which /reset replaces with a fresh one. It is the UI's StationControl:
// what the presenter breaks, it breaks in the running instance's station.
type workshopSession struct {
	ctx     context.Context // the run's: it bounds the panes' calls
	cfg     Config
	log     *slog.Logger
	notices chan workshop.StationNotice

	mu     sync.Mutex
	inst   *instance
	names  *stationNames // the instance's stations, A, B…
	faults *mockstation.Faults
	tmp    []string // directories of a fresh start, removed on close
}

// newWorkshopSession prepares a session of cfg; start starts it.
func newWorkshopSession(ctx context.Context, cfg Config, log *slog.Logger) *workshopSession {
	return &workshopSession{ctx: ctx, cfg: cfg, log: log, notices: make(chan workshop.StationNotice, 64)}
}

// start starts an instance: on the usual data, or on new temporary
// directories when fresh. ctx bounds the start.
func (session *workshopSession) start(ctx context.Context, fresh bool) error {
	cfg := instanceConfig{Listen: session.cfg.Listen, Users: session.cfg.Users, Step: session.cfg.Step, Group: session.cfg.Group,
		Stations: session.cfg.Stations, Logger: session.log}
	var tmp []string
	if fresh {
		for _, pattern := range []string{"dimtui-station-*", "dimtui-identities-*"} {
			dir, err := os.MkdirTemp("", pattern)
			if err != nil {
				removeAll(tmp)
				return fmt.Errorf("fresh start: %w", err)
			}
			tmp = append(tmp, dir)
		}
		cfg.StationDir, cfg.IdentityDir = tmp[0], tmp[1]
		if len(cfg.Users) == 0 {
			cfg.Users = []string{datadir.UserName()}
		}
	}
	notices := session.notices
	faults := mockstation.NewFaults(func(r mockstation.FaultReport) {
		select {
		case notices <- stationNotice(r):
		default: // the screen is behind: the log has it
		}
	})
	faults.SetDelay(dimp.ID{}, session.cfg.Delay)
	faults.ExpireAfter(session.cfg.ExpireAfter)
	if session.cfg.Step == client.StepOff {
		// Stepping makes every phase of the new handshake last as long as
		// the presenter wants; without it, the room would not see the
		// messages held at all.
		faults.ResumeAfter(resumePause)
	}
	cfg.Faults = faults
	names := &stationNames{}
	if cfg.Stations > 1 {
		cfg.OnNotice = func(i int, n mockstation.Notice) {
			if id, err := dimp.ParseID(n.Sender); err == nil && id.Type() == dimp.Station {
				return // a station's own receipt on its way: the receipt itself shows
			}
			select {
			case notices <- names.notice(i, n):
			default: // the screen is behind: the log has it
			}
		}
	}
	inst, err := startInstance(ctx, cfg)
	if err != nil {
		removeAll(tmp)
		return err
	}
	for i, st := range inst.Stations {
		names.add(st.Server().ID(), StationName(i))
	}
	session.mu.Lock()
	session.inst, session.names, session.faults, session.tmp = inst, names, faults, tmp
	session.mu.Unlock()
	return nil
}

// resumePause is how long the station waits, without step-through, before
// it answers the Hello world! that brings an expired session back: long
// enough for the room to see the status bar at Restart and a message typed
// meanwhile stay ○, short enough not to look hung.
const resumePause = 1500 * time.Millisecond

// stationNotice is what the UI shows of a fault report.
func stationNotice(r mockstation.FaultReport) workshop.StationNotice {
	n := workshop.StationNotice{Time: r.Time, User: r.User, Text: r.Text, ToClient: r.ToClient, Delay: r.Delay}
	switch r.Fault {
	case mockstation.FaultDrop:
		n.Kind = workshop.NoticeDrop
	case mockstation.FaultCorrupt:
		n.Kind = workshop.NoticeCorrupt
	case mockstation.FaultDelay:
		n.Kind = workshop.NoticeDelay
	case mockstation.FaultExpire:
		n.Kind = workshop.NoticeExpire
	}
	return n
}

// armFaults arms the faults of the config: the first chat message after
// the start.
func (session *workshopSession) armFaults() error {
	for _, set := range []struct {
		flag    string
		targets []FaultTarget
		arm     func(dimp.ID, bool)
	}{{"drop", session.cfg.Drop, session.faults.DropNext}, {"corrupt", session.cfg.Corrupt, session.faults.CorruptNext}} {
		for _, target := range set.targets {
			id, err := session.userID(target.User)
			if err != nil {
				return fmt.Errorf("--%s: %w", set.flag, err)
			}
			set.arm(id, target.ToClient)
		}
	}
	return nil
}

// userID finds a demo user's ID by name.
func (session *workshopSession) userID(name string) (dimp.ID, error) {
	session.mu.Lock()
	defer session.mu.Unlock()
	for _, c := range session.inst.Clients {
		if c.Me().Name() == name {
			return c.Me(), nil
		}
	}
	return dimp.ID{}, fmt.Errorf("no user %s in this demo", name)
}

// specs returns a pane per client: the first user talks to the second,
// the second to the next, the last to the first; alone, to the echo bot.
func (session *workshopSession) specs() []ui.PaneSpec {
	session.mu.Lock()
	inst, names := session.inst, session.names
	session.mu.Unlock()
	var out []ui.PaneSpec
	for i, c := range inst.Clients {
		peer := inst.Echo
		if n := len(inst.Clients); n > 1 {
			peer = inst.Clients[(i+1)%n].Me()
		}
		opt := ui.Options{Context: session.ctx, Peer: peer, Bots: []dimp.ID{inst.Echo},
			Logger: session.log.With("part", "ui", "user", c.Me().Name()), Title: c.Me().Name()}
		if len(inst.Stations) > 1 {
			opt.StationName = StationName(inst.Homes[i])
			opt.StationNames = names.byID()
		}
		out = append(out, ui.PaneSpec{Backend: c, Options: opt})
	}
	return out
}

// Reset stops everything and starts again with a new station and new
// identities in temporary directories. ctx bounds the new start; the new
// instance then runs as long as the session.
func (session *workshopSession) Reset(ctx context.Context) ([]ui.PaneSpec, error) {
	session.stopInstance()
	if err := session.start(ctx, true); err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	return session.specs(), nil
}

// stopInstance stops the running instance and removes its temporary
// directories.
func (session *workshopSession) stopInstance() {
	session.mu.Lock()
	inst, tmp := session.inst, session.tmp
	session.inst, session.tmp = nil, nil
	session.mu.Unlock()
	if inst != nil {
		if err := inst.Close(); err != nil {
			session.log.Warn("demo close", "err", err)
		}
	}
	removeAll(tmp)
}

// Close stops the demo for good.
func (session *workshopSession) Close() { session.stopInstance() }

func removeAll(dirs []string) {
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// current returns the running instance and its station's faults.
func (session *workshopSession) current() (*instance, *mockstation.Faults, error) {
	session.mu.Lock()
	defer session.mu.Unlock()
	if session.inst == nil {
		return nil, nil, errors.New("the demo is starting over")
	}
	return session.inst, session.faults, nil
}

// DropNext arms the station to lose user's next chat message.
func (session *workshopSession) DropNext(user dimp.ID, toClient bool) error {
	_, f, err := session.current()
	if err != nil {
		return err
	}
	f.DropNext(user, toClient)
	return nil
}

// CorruptNext arms the station to damage the signature of user's next chat
// message.
func (session *workshopSession) CorruptNext(user dimp.ID, toClient bool) error {
	_, f, err := session.current()
	if err != nil {
		return err
	}
	f.CorruptNext(user, toClient)
	return nil
}

// SetDelay makes the station hold the messages to user for d.
func (session *workshopSession) SetDelay(user dimp.ID, d time.Duration) error {
	_, f, err := session.current()
	if err != nil {
		return err
	}
	f.SetDelay(user, d)
	return nil
}

// Expire makes the station forget user's session.
func (session *workshopSession) Expire(user dimp.ID) error {
	inst, _, err := session.current()
	if err != nil {
		return err
	}
	st, _ := inst.stationOf(user)
	n, err := st.Server().Expire(user)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s has no session at the station now", user.Name())
	}
	return nil
}

// Restart restarts the station on the same address and data.
func (session *workshopSession) Restart(ctx context.Context) error {
	inst, _, err := session.current()
	if err != nil {
		return err
	}
	select {
	case session.notices <- workshop.StationNotice{Time: time.Now(), Text: "is restarting: every connection drops", Kind: workshop.NoticeRestart}:
	default:
	}
	for _, st := range inst.Stations {
		if err := st.Restart(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Partition cuts the links between the demo's stations, or heals them.
func (session *workshopSession) Partition(cut bool) error {
	inst, _, err := session.current()
	if err != nil {
		return err
	}
	if len(inst.Stations) < 2 {
		return errors.New("one station, no links: start with --stations 2")
	}
	for _, st := range inst.Stations {
		st.Partition(cut)
	}
	return nil
}

// StationStatus describes the user's station: its links, and the users
// it knows to be at another station.
func (session *workshopSession) StationStatus(user dimp.ID) ([]string, error) {
	inst, _, err := session.current()
	if err != nil {
		return nil, err
	}
	st, i := inst.stationOf(user)
	s, err := st.Server().Status(session.ctx)
	if err != nil {
		return nil, err
	}
	session.mu.Lock()
	names := session.names
	session.mu.Unlock()
	return statusLines(StationName(i), s, names), nil
}

// Notices reports what the station does on purpose.
func (session *workshopSession) Notices() <-chan workshop.StationNotice { return session.notices }
