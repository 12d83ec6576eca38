package main

import (
	"github.com/spf13/cobra"
)

// newRootCommand assembles the command tree.
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dimtui",
		Short: "A terminal chat client and station for DIMP, the Decentralized Instant Messaging Protocol",
		Long: `dimtui talks DIMP (dimchat's Decentralized Instant Messaging Protocol) end to end:
a terminal chat client, the station it connects to, and tools to look inside DIM data.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newIDCommand(), newMetaCommand(), newDocCommand(), newMsgCommand(), newStationCommand(), newBenchCommand())
	return root
}
