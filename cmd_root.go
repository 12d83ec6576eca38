package main

import (
	"github.com/spf13/cobra"

	"dimtui/demo"
)

// newRootCommand assembles the command tree.
func newRootCommand() *cobra.Command {
	var wf workshopFlags
	root := &cobra.Command{
		Use:   "dimtui",
		Short: "A terminal chat client and station for DIMP, the Decentralized Instant Messaging Protocol",
		Long: `dimtui talks DIMP (dimchat's Decentralized Instant Messaging Protocol) end to end:
a terminal chat client, the station it connects to, and tools to look inside DIM data.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// With no arguments: the demo. A station with its echo bot starts in
		// this process and the terminal client opens, talking to the bot,
		// with workshop mode's keys and commands.
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := wf.config(nil)
			if err != nil {
				return err
			}
			return demo.Run(cmd.Context(), cfg)
		},
	}
	wf.register(root, true)
	root.AddCommand(newIDCommand(), newMetaCommand(), newDocCommand(), newMsgCommand(), newStationCommand(), newBenchCommand(),
		newChatCommand(), newDemoCommand(), newReplayCommand())
	return root
}
