package demo

import (
	"context"
	"fmt"
	"os"

	"dimtui/client"
	"dimtui/ui"
)

// ReplayConfig is the replay of a workshop's transcript.
type ReplayConfig struct {
	// Transcript is the JSON Lines file /export wrote.
	Transcript string
	// Speed is the pace: 2 plays twice as fast as recorded, 0 without
	// waiting.
	Speed float64
	// Step holds every frame, explained, until it is released.
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
	t, err := ui.ReadTranscript(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Transcript, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := ui.NewReplay(t, ui.ReplayOptions{Speed: cfg.Speed, Step: cfg.Step})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	return runUI(ctx, r.Specs(ui.Options{Context: ctx}), ui.WorkshopOptions{Step: cfg.Step, Presenter: cfg.Presenter,
		Station: r, Finished: r.Finished()}, theme)
}
