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
			var err error
			if opt.Child, err = childCommand("station"); err != nil {
				return err
			}
			opt.Out = cmd.OutOrStdout()
			return withCPUProfile(cpuProfile, func() error {
				_, err := loadtest.Run(cmd.Context(), opt)
				return err
			})
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
	bench.AddCommand(station, newBenchFloodCommand(), newBenchNetworkCommand())
	return bench
}

// childCommand is the command line of a load process of `bench name`:
// this binary again, with --child.
func childCommand(name string) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, "bench", name, "--child"}, nil
}

func newBenchFloodCommand() *cobra.Command {
	var opt loadtest.FloodOptions
	var child bool
	var copt loadtest.FloodChildOptions
	flood := &cobra.Command{
		Use:   "flood",
		Short: "Flood a station with idle connections and check that /status and real users still get in",
		Long: `Starts a station with its default connection limits in this process and load
processes that open --conns idle connections to it as fast as they can: in turn
one that says nothing, one that sends only "DIM" (an MTP stream that stops) and
one that upgrades to WebSocket and never says Hello. Every second while they
come, and once all are open, it asks GET /status and has two real clients, from
an address of their own (127.0.1.1 where all of 127/8 is loopback), handshake
and exchange a message; it prints what they got and the station's memory, and
its memory again once the flood has closed.

--sources spreads the flood over 127.0.0.1 … 127.0.0.N (Linux routes all of
127/8 to loopback): from one address, the per-address cap holds the flood to
a few hundred connections; from many, the global cap is reached.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if child {
				copt.Sources = opt.Sources
				return loadtest.RunFloodChild(cmd.Context(), copt, os.Stdin, cmd.OutOrStdout())
			}
			var err error
			if opt.Child, err = childCommand("flood"); err != nil {
				return err
			}
			opt.Out = cmd.OutOrStdout()
			return loadtest.RunFlood(cmd.Context(), opt)
		},
	}
	f := flood.Flags()
	f.IntVar(&opt.Conns, "conns", 20000, "idle connections to open")
	f.IntVar(&opt.Sources, "sources", 1, "loopback addresses the flood comes from (127.0.0.1 … 127.0.0.N)")
	f.IntVar(&opt.PerChild, "per-process", 8000, "most connections one load process opens")
	f.BoolVar(&child, "child", false, "run as a load process")
	f.StringVar(&copt.Addr, "addr", "", "the station's address, for a load process")
	f.IntVar(&copt.Conns, "child-conns", 0, "connections to open, for a load process")
	f.IntVar(&copt.First, "first", 0, "number of the first connection, for a load process")
	for _, hidden := range []string{"child", "addr", "child-conns", "first"} {
		_ = f.MarkHidden(hidden)
	}
	return flood
}

func newBenchNetworkCommand() *cobra.Command {
	opt := loadtest.NetworkOptions{}
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "network",
		Short: "Measure messages across links between stations against the same traffic on one station",
		Long: `Starts three stations in this process, linked in a line A — B — C, and sends the
same traffic between pairs of clients three ways in one run: both ends at A, the
receivers at B (one link), the receivers at C (two links). Each way runs at full
speed (messages per second, p50 and p99 from writing a message to its arrival)
and then paced at --paced of the slowest way's throughput, where the added
latency of a hop is the link, not queueing. It prints the ratios: throughput and
p99 across one link against one station, and the latency each hop adds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt.Out = cmd.OutOrStdout()
			return withCPUProfile(cpuProfile, func() error {
				_, err := loadtest.RunNetwork(cmd.Context(), opt)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cpuProfile, "cpuprofile", "", "write the CPU profile of the run (stations and clients) to this file")
	f.IntVar(&opt.Clients, "clients", 20, "clients per way (an even number: they send in pairs)")
	f.IntVar(&opt.Messages, "messages", 5000, "messages a phase")
	f.IntVar(&opt.Window, "window", 16, "messages in flight per pair")
	f.StringVar(&opt.Key, "key", "rsa", "the clients' meta keys: rsa (RSA-1024) or ecc (secp256k1)")
	f.Float64Var(&opt.Paced, "paced", 0.3, "the paced phases' rate, as a share of the slowest way's throughput")
	return cmd
}

// withCPUProfile runs fn, writing this process's CPU profile to path
// meanwhile when path is not empty.
func withCPUProfile(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}
