package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"dimtui/client"
	"dimtui/ui"
	"dimtui/workshop"
)

// ReplayConfig is the replay of a workshop's transcript.
type ReplayConfig struct {
	// Transcript is the JSON Lines file /export wrote.
	Transcript string
	// Speed is the pace: 2 plays twice as fast as recorded, 0 without
	// waiting.
	Speed float64
	// Step holds frames (the stops of a lesson, or every frame), explained,
	// until they are released.
	Step client.StepMode
	// Presenter starts with the presenter theme.
	Presenter bool
	// Theme is the terminal's background, as in Config.
	Theme string
}

// Replay plays a transcript back in the terminal UI, offline, until the
// user quits: the same panes, fed with the recorded events at their
// recorded pace. Nothing is sent anywhere.
func Replay(ctx context.Context, cfg ReplayConfig) error {
	theme, err := themeOption(cfg.Theme)
	if err != nil {
		return err
	}
	f, err := os.Open(cfg.Transcript)
	if err != nil {
		return err
	}
	t, err := workshop.ReadTranscript(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Transcript, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := workshop.NewReplay(t, workshop.ReplayOptions{Speed: cfg.Speed, Step: cfg.Step,
		Name: filepath.Base(cfg.Transcript)})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	seek := func(_ context.Context, to workshop.Seek) (uint64, []ui.PaneSpec, error) {
		at, err := r.Seek(to)
		return at.Frame, replaySpecs(ctx, at.Panes), err
	}
	return runUI(ctx, replaySpecs(ctx, r.Panes()), ui.WorkshopOptions{Step: cfg.Step, Presenter: cfg.Presenter,
		Station: r, Finished: r.Finished(), Seek: seek}, theme)
}

// replaySpecs makes a pane of each of a replay's clients: the UI drives
// each as it drives a live one; the client never asks who is online (the
// recorded lists come).
func replaySpecs(ctx context.Context, panes []workshop.ReplayPane) []ui.PaneSpec {
	var specs []ui.PaneSpec
	for _, p := range panes {
		specs = append(specs, ui.PaneSpec{Backend: p.Client,
			Options: ui.Options{Context: ctx, Peer: p.Peer, Bots: p.Bots, UsersEvery: -1}})
	}
	return specs
}
