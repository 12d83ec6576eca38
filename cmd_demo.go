package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"dimtui/client"
	"dimtui/demo"
	"dimtui/mockstation"
)

// maxDemoUsers bounds `dimtui demo --users`: each user gets a pane.
const maxDemoUsers = 4

func newDemoCommand() *cobra.Command {
	var users, group string
	var stations int
	var wf workshopFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Workshop mode: a station and several users in one terminal, step by step",
		Long: `Starts a station in this process and one real client per user, each with its own
identity (created on first use), side by side (stacked on a narrow terminal), each
with its own status bar and conversation: the first user talks to the second, the
second to the next, the last to the first. f6 moves the keyboard between them.

For workshops: --step holds each stop of a lesson (every handshake step, chat and
app messages, their receipts) until you release it (f8, or Enter on an empty line;
f9 runs to the next handshake step or chat message), with a panel that explains it,
and lets housekeeping through (--step=all holds every frame); the station can be broken
on purpose (/drop, /corrupt, /delay, /expire, /restart, or the flags below);
/export writes the session as JSON Lines and Markdown, which 'dimtui replay' plays
back; --presenter (or f4) is a large, high-contrast theme, and --fresh (or /reset)
starts from a new station and new identities. --group NAME has the first user create
a group of all the users once they are connected (the echo bot joins when invited).
--stations N runs N stations linked in a line and spreads the users over them
(alice at A, bob at B): a message crosses the link, each pane's status bar names
its station, the stations' notices show each hop, /status lists a station's links
and the users it knows elsewhere, /partition cuts the links and /heal restores them.`,
		Example: `  dimtui demo --users alice,bob
  dimtui demo --users alice,bob,carol --step --presenter --fresh
  dimtui demo --users alice,bob --delay 2s --expire-after 1m
  dimtui demo --users alice,bob,carol --group crew
  dimtui demo --stations 2 --users alice,bob`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := parseUsers(users)
			if err != nil {
				return err
			}
			cfg, err := wf.config(names)
			if err != nil {
				return err
			}
			if cfg.Group = strings.TrimSpace(group); cfg.Group != "" && len(names) < 2 {
				return fmt.Errorf("--group: a group needs at least two --users")
			}
			if stations < 1 || stations > maxStations {
				return fmt.Errorf("--stations: %d, want 1 to %d", stations, maxStations)
			}
			cfg.Stations = stations
			return demo.Run(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&users, "users", "alice,bob", "the users, comma-separated (up to 4), one client and pane each")
	cmd.Flags().StringVar(&group, "group", "", "the first user creates a group of this name with the other users")
	cmd.Flags().IntVar(&stations, "stations", 1, "stations to run, linked in a line, the users spread over them (up to 4)")
	wf.register(cmd, true)
	return cmd
}

// maxStations bounds --stations: one per pane.
const maxStations = 4

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
	theme       string
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
	f.StringVar(&wf.step, "step", "", "hold frames until released: --step (lesson: the stops of a lesson, housekeeping passes), "+
		"--step=messages (PING, PONG, ACK pass) or --step=all")
	f.Lookup("step").NoOptDefVal = "lesson"
	f.BoolVar(&wf.presenter, "presenter", false, "start with the presenter theme: large, high contrast")
	f.StringVar(&wf.theme, "theme", "", themeUsage)
	if !station {
		return
	}
	f.BoolVar(&wf.fresh, "fresh", false, "a new station and new identities in temporary directories, removed on exit")
	f.StringVar(&wf.listen, "listen", mockstation.DefaultListen, "where the station listens (a free port when taken)")
	f.DurationVar(&wf.delay, "delay", 0, "the station holds every message it pushes by this much (its own answers go at once)")
	f.DurationVar(&wf.expireAfter, "expire-after", 0, "the station expires every session this long after its handshake")
	f.StringArrayVar(&wf.drop, "drop", nil, "the station drops USER's next chat message (USER:in: the next one to USER)")
	f.StringArrayVar(&wf.corrupt, "corrupt", nil, "the station damages the signature of USER's next chat message (USER:in: to USER)")
}

// themeUsage is the help of --theme.
const themeUsage = "dark or light: the terminal's background (default: the terminal's answer, else COLORFGBG, else dark)"

// stepMode reads --step.
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

// config is the demo's config for users (none: the default identity):
// the flags read and checked.
func (wf *workshopFlags) config(users []string) (demo.Config, error) {
	step, err := wf.stepMode()
	if err != nil {
		return demo.Config{}, err
	}
	cfg := demo.Config{Users: users, Listen: wf.listen, Fresh: wf.fresh, Step: step, Presenter: wf.presenter,
		Theme: wf.theme, Delay: wf.delay, ExpireAfter: wf.expireAfter}
	if cfg.Drop, err = faultTargets("drop", wf.drop, users); err != nil {
		return demo.Config{}, err
	}
	if cfg.Corrupt, err = faultTargets("corrupt", wf.corrupt, users); err != nil {
		return demo.Config{}, err
	}
	return cfg, nil
}

// faultTargets reads the values of --drop or --corrupt (flag), each of
// which must name one of users when there are any.
func faultTargets(flag string, values, users []string) ([]demo.FaultTarget, error) {
	var targets []demo.FaultTarget
	for _, v := range values {
		target, err := faultTarget(flag, v)
		if err != nil {
			return nil, err
		}
		if len(users) > 0 && !slices.Contains(users, target.User) {
			return nil, fmt.Errorf("--%s %s: no such user in --users", flag, target.User)
		}
		targets = append(targets, target)
	}
	return targets, nil
}

// faultTarget reads USER or USER:in|out, the value of --flag.
func faultTarget(flag, v string) (demo.FaultTarget, error) {
	user, dir, _ := strings.Cut(v, ":")
	target := demo.FaultTarget{User: user}
	switch dir {
	case "", "out":
	case "in":
		target.ToClient = true
	default:
		return demo.FaultTarget{}, fmt.Errorf("--%s %s: USER or USER:in", flag, v)
	}
	return target, nil
}
