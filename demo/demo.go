// Package demo runs dimtui's terminal program. The demo (`dimtui` with no
// arguments) and workshop mode (`dimtui demo`) start a station with its
// echo bot in this process and a real client per user, and give the
// program a station to break on purpose; Chat runs the same program on a
// client of a remote station, and Replay on a recorded workshop.
//
// Each command has one entry function, which takes a config of plain
// values (what the command's flags say) and runs until the user quits or
// the context ends.
package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"dimtui/client"
	"dimtui/datadir"
	"dimtui/ui"
)

// Config is a demo or workshop.
type Config struct {
	// Users names the identities to connect, one client and pane each; the
	// first talks to the second, the second to the next, the last to the
	// first. None: the default identity alone, talking to the echo bot.
	Users []string
	// Listen is where the station listens first; a free port on the same
	// host when it is taken. Default: mockstation.DefaultListen.
	Listen string
	// Fresh starts from a new station and new identities in temporary
	// directories, removed on exit, instead of the usual ones.
	Fresh bool
	// Step starts every client with step-through on.
	Step client.StepMode
	// Presenter starts with the presenter theme: large, high contrast.
	Presenter bool
	// Theme is the terminal's background, dark or light (--theme); ""
	// finds it out: the terminal's answer, else COLORFGBG, else dark.
	Theme string
	// Delay makes the station hold every message it pushes (its own
	// answers, such as its receipts, go at once).
	Delay time.Duration
	// ExpireAfter expires every session this long after its handshake (0:
	// never).
	ExpireAfter time.Duration
	// Group, when set, names a group the first user creates with the
	// others once they are all connected (--group).
	Group string
	// Stations is how many stations to run, linked in a line (--stations;
	// 0 and 1: one). The users are spread over them: user i at station i
	// modulo Stations.
	Stations int
	// Drop and Corrupt arm the station, at the start, to lose or damage the
	// signature of the named users' next chat message. They are what
	// --drop and --corrupt say, and an error about them names the flag.
	Drop, Corrupt []FaultTarget
}

// FaultTarget is the chat message a fault breaks: the user's next one, or
// the next one to the user.
type FaultTarget struct {
	User     string // a name of Config.Users (or of the default identity)
	ToClient bool   // the station's next message to the user
}

// Run runs the demo in workshop mode until the user quits: the station,
// its echo bot and the users' clients in this process, the terminal UI
// with a pane per client, the station's faults at hand and /reset to start
// over. It logs to dimtui.log in the state directory.
func Run(ctx context.Context, cfg Config) error {
	theme, err := themeOption(cfg.Theme)
	if err != nil {
		return err
	}
	logger, closeLog, err := datadir.OpenLog()
	if err != nil {
		return err
	}
	defer closeLog()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	session := newWorkshopSession(ctx, cfg, logger)
	if err := session.start(ctx, cfg.Fresh); err != nil {
		return err
	}
	defer session.Close()
	if err := session.armFaults(); err != nil {
		return err
	}
	return runUI(ctx, session.specs(), ui.WorkshopOptions{Step: cfg.Step, Presenter: cfg.Presenter,
		Station: session, Reset: session.Reset}, theme)
}

// themeOption is the UI's option for --theme: dark, light, or "" for the
// terminal's answer, else COLORFGBG, else dark.
func themeOption(name string) (ui.AppOption, error) {
	t, err := ui.ParseTheme(name)
	if err != nil {
		return nil, fmt.Errorf("--theme: %w", err)
	}
	return ui.WithThemeChoice(t, os.Getenv("COLORFGBG")), nil
}

// runUI runs the Bubble Tea program for the clients' panes, in workshop
// mode, with the theme, until the user quits or ctx ends.
func runUI(ctx context.Context, specs []ui.PaneSpec, wopt ui.WorkshopOptions, theme ui.AppOption) error {
	app := ui.NewSplit(specs, theme, ui.WithWorkshop(wopt))
	if _, err := tea.NewProgram(app, tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}
