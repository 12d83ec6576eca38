package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"dimtui/client"
	"dimtui/demo"
)

func newReplayCommand() *cobra.Command {
	var (
		cfg  demo.ReplayConfig
		step string
	)
	cmd := &cobra.Command{
		Use:   "replay FILE.jsonl",
		Short: "Play a transcript written by /export back, offline, in the same UI",
		Long: `Plays a workshop transcript (the JSON Lines file /export writes) back in the terminal
UI, offline: the same panes, status bars, conversations and inspector, fed with the
recorded events at their recorded pace (--speed). With --step each stop of a lesson
waits, explained, until you release it (f8 or Enter on an empty line; f9 runs to the
next handshake step or chat message; f7 stepping on/off; --step=all: every frame).
] and [ (on an empty line) go to the next and the previous stop, /seek N to frame #N,
forward or back; + and - change the pace. The status bars say it is a replay: the
file, offline, the frames played. Nothing is sent anywhere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Transcript = args[0]
			if step != "" {
				var err error
				if cfg.Step, err = client.ParseStepMode(step); err != nil {
					return fmt.Errorf("--step: %w", err)
				}
			}
			if cfg.Speed < 0 {
				return fmt.Errorf("--speed %g: 0 or more", cfg.Speed)
			}
			return demo.Replay(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&step, "step", "", "hold frames until released: --step (lesson), --step=messages or --step=all")
	f.Lookup("step").NoOptDefVal = "lesson"
	f.Float64Var(&cfg.Speed, "speed", 1, "pace: 2 plays twice as fast, 0 without waiting")
	f.BoolVar(&cfg.Presenter, "presenter", false, "start with the presenter theme")
	f.StringVar(&cfg.Theme, "theme", "", themeUsage)
	return cmd
}
