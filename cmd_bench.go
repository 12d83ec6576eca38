package main

import (
	"os"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"dimtui/loadtest"
)

func newBenchCommand() *cobra.Command {
	bench := &cobra.Command{Use: "bench", Short: "Measure dimtui under load"}
	var opt loadtest.Options
	var child bool
	var cpuProfile string
	var copt loadtest.ChildOptions
	station := &cobra.Command{
		Use:   "station",
		Short: "Load the station with clients and messages, against a bare WebSocket relay",
		Long: `Starts a station and a bare WebSocket relay in this process and a load generator
in a child process. The generator handshakes --clients clients with the station
(their station memory is measured then), sends --messages messages between pairs
of them at full load and then at half that rate, and sends the same traffic
through the relay, which forwards frames with no DIM work at all. It prints
messages per second, p50 and p99 latency, and the station/relay ratio.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if child {
				copt.Clients, copt.Messages, copt.Window, copt.Key = opt.Clients, opt.Messages, opt.Window, opt.Key
				return loadtest.RunChild(cmd.Context(), copt, os.Stdin, cmd.OutOrStdout())
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			opt.Child = []string{exe, "bench", "station", "--child"}
			opt.Out = cmd.OutOrStdout()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			_, err = loadtest.Run(cmd.Context(), opt)
			return err
		},
	}
	f := station.Flags()
	f.IntVar(&opt.Clients, "clients", 100, "clients to handshake (an even number: they send in pairs)")
	f.IntVar(&opt.Messages, "messages", 20000, "messages to send between the pairs, per phase")
	f.IntVar(&opt.Window, "window", 16, "messages in flight per pair")
	f.StringVar(&opt.Key, "key", "rsa", "the clients' meta keys: rsa (RSA-1024) or ecc (secp256k1)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write the station's CPU profile to this file")
	f.StringVar(&opt.MemProfile, "memprofile", "", "write the station's heap profile, once the clients have handshaken, to this file")
	f.BoolVar(&child, "child", false, "run as the load generator")
	f.StringVar(&copt.Station, "station-url", "", "the station, for the load generator")
	f.StringVar(&copt.Relay, "relay-url", "", "the relay, for the load generator")
	for _, hidden := range []string{"child", "station-url", "relay-url"} {
		_ = f.MarkHidden(hidden)
	}
	bench.AddCommand(station)
	return bench
}
