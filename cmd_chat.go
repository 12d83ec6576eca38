package main

import (
	"github.com/spf13/cobra"

	"dimtui/demo"
	"dimtui/mockstation"
)

// defaultStationURL is where `dimtui chat` connects without --station.
const defaultStationURL = "ws://" + mockstation.DefaultListen

func newChatCommand() *cobra.Command {
	var cfg demo.ChatConfig
	var wf workshopFlags
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "Chat through a DIM station in the terminal",
		Long: `Connects to a DIM station as one of your identities and opens the terminal client:
the handshake step by step in the status bar, conversations with delivery ticks,
application content, and an inspector that opens every frame layer by layer.

The identity is --id, else your default one; it is created on first use.
Logs go to dimtui.log in your state directory, never to the screen.

--data DIR keeps everything in DIR instead: the identities (NAME.json, the
default one named in DIR), each identity's history (NAME.history.db) and
dimtui.log. Someone who runs several identities gives each set a directory;
` + "`dimtui id new NAME --dir DIR`" + ` creates one there.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Step, err = wf.stepMode(); err != nil {
				return err
			}
			cfg.Presenter, cfg.Theme = wf.presenter, wf.theme
			return demo.Chat(cmd.Context(), cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.StationURL, "station", defaultStationURL, "the station's WebSocket URL")
	cmd.Flags().StringVar(&cfg.Identity, "id", "", "the identity to use (default: your default identity, created if needed)")
	cmd.Flags().StringVar(&cfg.DataDir, "data", "", "data directory: identities, their histories and the log (default: identities in your config directory, the log in your state directory)")
	wf.register(cmd, false)
	return cmd
}
