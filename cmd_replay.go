package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"dimtui/client"
	"dimtui/ui"
	"dimtui/workshop"
)

func newReplayCommand() *cobra.Command {
	var (
		step      string
		speed     float64
		presenter bool
	)
	cmd := &cobra.Command{
		Use:   "replay FILE.jsonl",
		Short: "Play a transcript written by /export back, offline, in the same UI",
		Long: `Plays a workshop transcript (the JSON Lines file /export writes) back in the terminal
UI, offline: the same panes, status bars, conversations and inspector, fed with the
recorded events at their recorded pace (--speed). With --step every frame waits,
explained, until you release it (f8 or Enter on an empty line; f9 all; f7 stepping
on/off). Nothing is sent anywhere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			t, err := workshop.ReadTranscript(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			mode := client.StepOff
			if step != "" {
				if mode, err = client.ParseStepMode(step); err != nil {
					return fmt.Errorf("--step: %w", err)
				}
			}
			if speed < 0 {
				return fmt.Errorf("--speed %g: 0 or more", speed)
			}
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			r := workshop.NewReplay(t, workshop.ReplayOptions{Speed: speed, Step: mode})
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = r.Run(ctx)
			}()
			defer func() { cancel(); <-done }()
			// The UI drives each pane's replayed client as it drives a live
			// one; the client never asks who is online (the recorded lists
			// come).
			var specs []ui.PaneSpec
			for _, p := range r.Panes() {
				specs = append(specs, ui.PaneSpec{Backend: p.Client,
					Options: ui.Options{Context: ctx, Peer: p.Peer, Bots: p.Bots, UsersEvery: -1}})
			}
			return runUI(ctx, specs, ui.WorkshopOptions{Step: mode, Presenter: presenter,
				Station: r, Finished: r.Finished()})
		},
	}
	f := cmd.Flags()
	f.StringVar(&step, "step", "", "hold every frame until released: --step (all frames) or --step=messages")
	f.Lookup("step").NoOptDefVal = "all"
	f.Float64Var(&speed, "speed", 1, "pace: 2 plays twice as fast, 0 without waiting")
	f.BoolVar(&presenter, "presenter", false, "start with the presenter theme")
	return cmd
}
