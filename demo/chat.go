package demo

import (
	"context"

	"dimtui/client"
	"dimtui/datadir"
	"dimtui/ui"
)

// ChatConfig is the terminal client on a remote station.
type ChatConfig struct {
	// StationURL is the station's WebSocket URL.
	StationURL string
	// Identity names the identity to use; "": the default one. It is
	// created on first use.
	Identity string
	// Step starts the client with step-through on.
	Step client.StepMode
	// Presenter starts with the presenter theme: large, high contrast.
	Presenter bool
	// Theme is the terminal's background, as in Config.
	Theme string
	// DataDir holds the identities, each with its history beside it, and
	// dimtui.log; "": idstore's default directory and the state directory.
	// Someone who runs several identities keeps each set apart.
	DataDir string
}

// Chat connects to a station as one of the user's identities and runs the
// terminal UI on that client, in workshop mode without a station to break,
// until the user quits. The client keeps its history beside the identity;
// it logs to dimtui.log in the state directory (or in DataDir).
func Chat(ctx context.Context, cfg ChatConfig) error {
	theme, err := themeOption(cfg.Theme)
	if err != nil {
		return err
	}
	logger, closeLog, err := datadir.OpenLogIn(cfg.DataDir)
	if err != nil {
		return err
	}
	defer closeLog()
	me, err := datadir.LoadOrCreateUser(cfg.DataDir, cfg.Identity, logger)
	if err != nil {
		return err
	}
	h, err := me.OpenHistory(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	c, err := client.New(client.Config{URL: cfg.StationURL, Identity: me.Identity, Logger: logger.With("part", "client"),
		Step: cfg.Step, History: h, SaveIdentity: me.Saver(cfg.DataDir)})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	opt := ui.Options{Context: ctx, Logger: logger.With("part", "ui")}
	return runUI(ctx, []ui.PaneSpec{{Backend: c, Options: opt}}, ui.WorkshopOptions{Step: cfg.Step, Presenter: cfg.Presenter}, theme)
}
