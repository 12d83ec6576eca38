package main

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"dimtui/datadir"
	"dimtui/dimp"
	"dimtui/mockstation"
	"dimtui/mockstation/echobot"
	"dimtui/mockstation/store"
)

func newStationCommand() *cobra.Command {
	var (
		listen, dataDir string
		cfg             mockstation.Config
		syncFull        bool
		verbose         bool
		noEcho          bool
		neighbors       []string
		names           = map[string]string{}
	)
	cmd := &cobra.Command{
		Use:   "station",
		Short: "Run a DIM station: WebSocket and MTP, handshake, routing, store-and-forward",
		Long: `Runs a DIM station on one port: DIM clients connect over WebSocket (any path)
or, like dimchat's Python client, MTP over TCP, told apart by their first bytes;
they handshake and exchange messages through it; messages for users who are offline
wait in an SQLite database until they are acknowledged. GET /status on the same
port reports sessions, users online and stored messages as JSON.

Connections are limited: --max-connections at once, of which at most
--max-handshaking-per-address from one address may be waiting for their
handshake, and each must finish its handshake within --handshake-timeout.
When full, the oldest connection that has not handshaken makes room; a
handshaken session is never evicted, and when the station is full of them
a new connection is refused (503 for a WebSocket upgrade) while GET /status
still answers. /status counts what the limits did.

On first start the station creates its identity (a station ID with a secp256k1
signing key and an RSA visa key) in the data directory and keeps it there.
Messages wait at most a week, and within quotas per receiver and per sender
(--quota-*): past one, a message is refused with a receipt that says which.
A data directory that holds the station's identity but an empty or missing
database is refused (its messages are gone) unless --new-database is given.
With --neighbor ws://HOST:PORT/ (repeatable) it links to other stations: each
link handshakes with both stations' own identities, carries messages both ways
and is dialed again after a backoff when it ends. A user's login spreads to every
station; a message for a user who last logged in at another station is passed
toward it and deleted here only once the next station has stored it. GET /status
lists the links and the users known to be elsewhere.
It also runs the echo bot, a user named echo that answers every text with
"echo: <text>" and every application or customized content with a customized
content whose act is "echo" (--no-echo to leave it out).
Logs go to stderr. SIGINT or SIGTERM shut it down gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				dir, err := datadir.StationDir()
				if err != nil {
					return fmt.Errorf("no data directory: give one with --data: %w", err)
				}
				dataDir = dir
			}
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			cfg.Listen, cfg.DataDir = listen, dataDir
			for _, n := range neighbors {
				url, err := mockstation.NeighborURL(n)
				if err != nil {
					return err
				}
				cfg.Neighbors = append(cfg.Neighbors, url)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			if syncFull {
				cfg.Sync = store.SyncFull
			}
			// On the command line 0 turns a quota (or the upload service)
			// off; in Config it means the default.
			for _, q := range []*int64{&cfg.QuotaReceiverMessages, &cfg.QuotaReceiverBytes,
				&cfg.QuotaSenderMessages, &cfg.QuotaSenderBytes, &cfg.UploadQuota, &cfg.UploadMaxSize} {
				if *q <= 0 {
					*q = -1
				}
			}
			if !noEcho {
				bot, err := echobot.LoadOrCreate(filepath.Join(dataDir, "bots"))
				if err != nil {
					return err
				}
				cfg.Services = append(cfg.Services, echobot.Service(bot, cfg.Logger.With("part", "echobot")))
				names["echo"] = bot.ID.String()
				cfg.Logger.Info("echo bot", "id", bot.ID)
			}
			for name, id := range names {
				parsed, err := dimp.ParseID(id)
				if err != nil {
					return fmt.Errorf("--ans %s=%s: %w", name, id, err)
				}
				if cfg.Names == nil {
					cfg.Names = map[string]dimp.ID{}
				}
				cfg.Names[name] = parsed
			}
			srv, err := mockstation.New(cmd.Context(), cfg)
			if errors.Is(err, store.ErrNoDatabase) {
				return fmt.Errorf("%w (to keep the station's identity with an empty database, run again with --new-database)", err)
			}
			if err != nil {
				return err
			}
			cfg.Logger.Info("station ready", "id", srv.ID(), "data", dataDir)
			return srv.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", mockstation.DefaultListen, "TCP address to listen on")
	f.StringVar(&dataDir, "data", "", "data directory (default: the user's state directory + /dimtui/station)")
	f.DurationVar(&cfg.TimeWindow, "time-window", 10*time.Minute, "accepted clock skew of message times (0: no check)")
	f.Float64Var(&cfg.RateLimit, "rate", mockstation.DefaultRateLimit, "messages per second one connection may send (negative: no limit)")
	f.IntVar(&cfg.RateBurst, "burst", mockstation.DefaultRateBurst, "messages one connection may send at once")
	f.Int64Var(&cfg.MaxFrame, "max-frame", mockstation.DefaultMaxFrame, "largest WebSocket message accepted, in bytes")
	f.IntVar(&cfg.MaxConnections, "max-connections", mockstation.DefaultMaxConnections,
		"most connections at once (lowered to fit the open file limit); when full, the oldest one not handshaken makes room")
	f.IntVar(&cfg.MaxHandshakingPerAddress, "max-handshaking-per-address", mockstation.DefaultMaxHandshakingPerAddress,
		"most connections from one IP address (IPv6: /64) handshaking at once; sessions do not count (negative: no cap)")
	f.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", mockstation.DefaultHandshakeTimeout,
		"time from connecting to a finished handshake, first bytes and WebSocket upgrade included (negative: none)")
	f.BoolVar(&syncFull, "sync-full", false, "fsync every commit (survive power loss, not only a killed process)")
	f.Int64Var(&cfg.QuotaReceiverMessages, "quota-receiver-messages", mockstation.DefaultQuotaReceiverMessages,
		"messages the station keeps waiting for one receiver (0: no limit)")
	f.Int64Var(&cfg.QuotaReceiverBytes, "quota-receiver-bytes", mockstation.DefaultQuotaReceiverBytes,
		"bytes of messages the station keeps waiting for one receiver (0: no limit)")
	f.Int64Var(&cfg.QuotaSenderMessages, "quota-sender-messages", mockstation.DefaultQuotaSenderMessages,
		"messages of one sender the station keeps waiting for their receivers (0: no limit)")
	f.Int64Var(&cfg.QuotaSenderBytes, "quota-sender-bytes", mockstation.DefaultQuotaSenderBytes,
		"bytes of messages of one sender the station keeps waiting for their receivers (0: no limit)")
	f.Int64Var(&cfg.UploadMaxSize, "upload-max-size", mockstation.DefaultUploadMaxSize,
		"largest file the upload service takes, in bytes (0: no upload service)")
	f.Int64Var(&cfg.UploadQuota, "upload-quota", mockstation.DefaultUploadQuota,
		"bytes of uploaded files one user may keep at the station (0: no limit)")
	f.StringArrayVar(&cfg.UploadSecrets, "upload-secret", nil,
		"shared upload secret in hex (repeatable; default: the secrets dimchat's apps ship)")
	f.DurationVar(&cfg.UploadTimeout, "upload-timeout", mockstation.DefaultUploadTimeout,
		"how long one upload or download may take once its request is in")
	f.StringVar(&cfg.UploadURL, "upload-url", "",
		"start of the download URLs handed out, http://HOST:PORT (default: the address each upload came to)")
	f.BoolVar(&cfg.NewDatabase, "new-database", false,
		"start with a new, empty database when the data directory holds the station's identity but no database")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every connection and message")
	f.BoolVar(&noEcho, "no-echo", false, "do not run the echo bot")
	f.StringToStringVar(&names, "ans", names, "an ANS record the station answers, NAME=ID (repeatable; the echo bot is \"echo\")")
	f.StringArrayVar(&neighbors, "neighbor", nil, "link to the station at this WebSocket URL, ws://HOST:PORT/ (repeatable)")
	return cmd
}
