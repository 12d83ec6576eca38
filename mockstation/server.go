// Package mockstation is a DIM station: the server DIMP clients connect to
// over WebSocket or, like dimchat's Python client, MTP over TCP (on the
// same port), following dimchat's station (see spec/station.md) and
// stricter than it.
//
// A connection handshakes (Hello world! → DIM? with a session key → Hello
// world! with the key → DIM!), after which the station routes the user's
// messages to other users, storing each one in SQLite until its receiver
// acknowledges it, and answers what is addressed to the station itself:
// meta and document registry, login, report, block and mute lists, the
// text "active users", and searches for users (also those dimchat's apps
// send to archivist@anywhere). Every message is verified (signature, meta and visa
// of the sender, sender = the handshaken user, time window), frames and
// rates are limited, and each refusal is answered with a receipt naming
// the reason, or a close code when the connection itself misbehaves.
package mockstation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"dimtui/dimp"
	"dimtui/mockstation/store"
)

// Defaults for Config.
const (
	DefaultListen           = "127.0.0.1:9394"
	DefaultMaxFrame         = 1 << 20 // bytes in one WebSocket message
	DefaultRateLimit        = 500     // messages per second, per connection
	DefaultRateBurst        = 5000    // messages a connection may send at once
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultUploadTimeout    = 10 * time.Minute
)

// Default storage quotas (Config.Quota…), over the messages stored and not
// yet acknowledged. A message waits at most a week (store.DefaultMaxAge);
// a text message is 1–2 KB as stored (the message key encrypted to the
// receiver and the signature, in Base64, are most of it), and a frame at
// most DefaultMaxFrame (1 MiB).
//
//   - A receiver: 20,000 messages is a week of a busy user's chats while
//     away (a group message is stored once for each member), and 128 MiB
//     holds them at over 6 KB each, or 128 frames of the largest size.
//   - A sender: 10,000 messages is, say, 20 messages to 500 members of a
//     group who are all away, and 64 MiB is 64 of the largest frames, more
//     than a person writes in a week. The flood that filled a disk (3,000
//     messages of 62 KB as stored, 186 MB, in seconds) stops after about a
//     thousand.
//
// Identities cost nothing to make, so the sender's quotas slow a flood
// down rather than stop it; the receiver's bound what any one user can be
// sent.
const (
	DefaultQuotaReceiverMessages = 20_000
	DefaultQuotaReceiverBytes    = 128 << 20
	DefaultQuotaSenderMessages   = 10_000
	DefaultQuotaSenderBytes      = 64 << 20
)

// databaseFile is the SQLite database in the data directory.
const databaseFile = "station.db"

// Service is extra work the station runs beside itself once it listens,
// for example an in-process bot that connects to url like any client. It
// should return when ctx ends.
type Service func(ctx context.Context, url string) error

// Config configures a Server. Only DataDir is required.
type Config struct {
	// Listen is the TCP address Run listens on (DefaultListen when empty).
	Listen string
	// DataDir holds the station's identity and database; created if missing.
	DataDir string
	// MaxFrame bounds one incoming WebSocket message or MTP package body,
	// in bytes (DefaultMaxFrame when 0). A bigger one closes the connection
	// (a WebSocket with status 1009, message too big).
	MaxFrame int64
	// RateLimit is the sustained number of messages per second one
	// connection may send (DefaultRateLimit when 0, no limit when negative);
	// RateBurst how many it may send at once (DefaultRateBurst when 0).
	// Acknowledgements (ACK: frames) are not counted.
	RateLimit float64
	RateBurst int
	// TimeWindow is how far a message's time may be from the station's
	// clock; 0 turns the check off.
	TimeWindow time.Duration
	// HandshakeTimeout closes a connection that has not completed its
	// handshake by then (DefaultHandshakeTimeout when 0, none when negative).
	// Under Serve it runs from the connection's accept: the wait for its
	// first bytes and the WebSocket upgrade count.
	HandshakeTimeout time.Duration
	// MaxConnections is the most connections Serve holds at once, of every
	// kind (DefaultMaxConnections when 0). It is lowered to leave room under
	// the process's limit on open files. When it is reached, the oldest
	// connection that has not handshaken makes room for a new one; when all
	// of them have, the new one is refused (see limits.go).
	MaxConnections int
	// MaxHandshakingPerAddress is the most connections from one address
	// (IPv4 address, IPv6 /64) that may be handshaking at once: past it,
	// that address's oldest one is evicted. Sessions do not count
	// (DefaultMaxHandshakingPerAddress when 0, no cap when negative).
	MaxHandshakingPerAddress int
	// WriteTimeout bounds writing one frame to a client (DefaultWriteTimeout
	// when 0); a client that does not read is disconnected.
	WriteTimeout time.Duration
	// Sync chooses how hard a commit waits for the disk. The default,
	// store.SyncNormal, survives the station being killed at any moment.
	Sync store.Sync
	// Store replaces the SQLite database in DataDir (tests, benchmarks).
	// The server does not close a store it was given, and the quotas and
	// NewDatabase below do not apply to it (see store.Options).
	Store store.Store
	// Storage quotas, over the messages stored and not yet acknowledged:
	// per receiver and per sender, in messages and in bytes. A message
	// past one is refused with a receipt naming it; acknowledged and
	// expired messages make room again. 0 means the default
	// (DefaultQuotaReceiverMessages, …), a negative value no limit.
	QuotaReceiverMessages int64
	QuotaReceiverBytes    int64
	QuotaSenderMessages   int64
	QuotaSenderBytes      int64
	// NewDatabase accepts starting with a new, empty database although
	// DataDir holds the station's identity already. Without it, New
	// refuses to start when the database file is missing or empty (its
	// messages are gone: restored from a backup, it would be used).
	NewDatabase bool
	// Logger receives the station's log; nil discards it.
	Logger *slog.Logger
	// Services are started by Serve once it listens, and stopped with it.
	Services []Service
	// Faults, when set, breaks the station on purpose (workshop demos).
	Faults *Faults
	// Neighbors are the WebSocket URLs of the stations this one links to
	// (ws://host:port/): Serve keeps a link to each, dialed again after a
	// backoff when it ends. Stations that dial this one as stations are
	// linked too (see link.go).
	Neighbors []string
	// OnNotice, when set, hears what the station does in the network of
	// stations: links up and down, messages passed and received. It must
	// not block.
	OnNotice func(Notice)
	// UploadMaxSize is the largest file the upload service takes, in bytes
	// (DefaultUploadMaxSize when 0); a bigger one is refused with 413. A
	// negative value turns the upload service off (see upload.go).
	UploadMaxSize int64
	// UploadQuota is how many bytes of files and avatars one uploader may
	// keep at the station (DefaultUploadQuota when 0, no limit when
	// negative); an upload past it is refused with 507.
	UploadQuota int64
	// UploadSecrets are the shared secrets, in hex, an upload proves it
	// knows (DefaultUploadSecrets() when empty: those dimchat's apps ship).
	// Text that is not hex is logged and ignored.
	UploadSecrets []string
	// UploadURL is the start of the download URLs the upload service hands
	// out, http://HOST:PORT as clients reach the station; empty means the
	// scheme and Host of each upload request.
	UploadURL string
	// UploadTimeout is how long, under Serve, a request to the upload
	// service (an upload or a download) may take once its headers are
	// read, in place of the handshake deadline, which bounds every other
	// request (DefaultUploadTimeout when 0; the handshake deadline alone
	// when negative). The headers must still come within
	// HandshakeTimeout, so a connection that sends nothing is closed as
	// early as before; see limits.go.
	UploadTimeout time.Duration
	// Names are the station's ANS records beside its own (station,
	// anyone, everyone, archivist...): short name → ID, as dimples reads
	// them from its configuration's [ans] section (see ans.go).
	Names map[string]dimp.ID
}

// Server is a DIM station. Create one with New, serve it with Run, Serve or
// Handler, and Close it when done.
type Server struct {
	cfg    Config
	log    *slog.Logger
	me     *dimp.Identity
	packer *dimp.Packer   // the station's own pipeline: ID cache for parsing
	keys   *dimp.KeyCache // message keys of clients, for messages to the station
	store  store.Store
	owned  bool // the store was opened by New
	hub    *hub
	net    *network // links to other stations, where users are (network.go)
	// unknown are messages from links whose senders' metas are asked for
	// (unknown.go).
	unknown unknownSenders
	known   *profileCache
	lists   *listCache

	answerKeys *answerKeyCache // the station's message keys toward users
	index      *searchIndex    // the users a search finds (search.go)

	started time.Time
	ctx     context.Context // ends when the server closes; sessions watch it
	cancel  context.CancelFunc

	// closingMu guards closing, so that no session is added to the
	// sessions WaitGroup once closeSessions waits for it.
	closingMu sync.Mutex
	closing   bool
	sessions  sync.WaitGroup
	conns     atomic.Int64 // open WebSocket and MTP connections
	gate      *gate        // connection limits of Serve

	ackDone   func(found bool, err error) // learns how acknowledgements went
	closeOnce sync.Once
	closeErr  error
	bg        sync.WaitGroup // background work (expiry)
}

// New loads or creates the station's identity in cfg.DataDir, opens its
// database and returns a server ready to serve. ctx is the server's life:
// when it ends, every session is closed (going away) and background work
// stops, as Close does; Close still closes the database.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("mockstation: no data directory")
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.UploadTimeout == 0 {
		cfg.UploadTimeout = DefaultUploadTimeout
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	switch {
	case cfg.MaxHandshakingPerAddress == 0:
		cfg.MaxHandshakingPerAddress = DefaultMaxHandshakingPerAddress
	case cfg.MaxHandshakingPerAddress < 0:
		cfg.MaxHandshakingPerAddress = 0
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("mockstation: data directory: %w", err)
	}
	me, created, err := loadIdentity(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("mockstation: %w", err)
	}
	if created {
		log.Info("created station identity", "id", me.ID, "file", filepath.Join(cfg.DataDir, identityFile))
	}
	s := &Server{cfg: cfg, log: log, me: me, packer: dimp.NewPacker(me), keys: &dimp.KeyCache{},
		store: cfg.Store, hub: newHub(), net: newNetwork(me.ID.String()), known: newProfileCache(), lists: newListCache(), answerKeys: newAnswerKeyCache(),
		index: newSearchIndex(), started: time.Now()}
	s.gate = newGate(cfg, openFileLimit(), log)
	s.cfg.MaxConnections = s.gate.max
	if s.store == nil {
		db, err := openStore(ctx, cfg, !created && !cfg.NewDatabase)
		if err != nil {
			return nil, err
		}
		s.store, s.owned = db, true
	}
	s.ctx, s.cancel = context.WithCancel(ctx)
	// The station answers meta and document queries about itself like
	// about anyone else.
	if _, err := s.learn(s.ctx, me.Profile(), me.Meta, me.Visa); err != nil {
		s.Close()
		return nil, fmt.Errorf("mockstation: register own profile: %w", err)
	}
	if err := s.loadLocations(s.ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("mockstation: %w", err)
	}
	s.ackDone = s.acked
	s.bg.Add(2)
	go s.expireLoop()
	go func() {
		defer s.bg.Done()
		s.gate.reportLoop(s.ctx)
	}()
	return s, nil
}

// openStore opens the database in the data directory. existing: the
// station has an identity already, so it must have a database too.
func openStore(ctx context.Context, cfg Config, existing bool) (*store.SQLite, error) {
	quota := func(v, def int64) int64 {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0 // no limit, to the store
		}
		return v
	}
	path := filepath.Join(cfg.DataDir, databaseFile)
	db, err := store.Open(ctx, path, store.Options{
		Sync: cfg.Sync,
		Quotas: store.Quotas{
			ReceiverMessages: quota(cfg.QuotaReceiverMessages, DefaultQuotaReceiverMessages),
			ReceiverBytes:    quota(cfg.QuotaReceiverBytes, DefaultQuotaReceiverBytes),
			SenderMessages:   quota(cfg.QuotaSenderMessages, DefaultQuotaSenderMessages),
			SenderBytes:      quota(cfg.QuotaSenderBytes, DefaultQuotaSenderBytes),
		},
		Existing: existing,
	})
	if errors.Is(err, store.ErrNoDatabase) {
		return nil, fmt.Errorf("mockstation: %w, though the station's identity (%s) is there: every message "+
			"it stored is gone. Restore the database from a backup, or accept a new, empty one", err, identityFile)
	}
	if err != nil {
		return nil, fmt.Errorf("mockstation: %w", err)
	}
	return db, nil
}

// ID is the station's ID.
func (s *Server) ID() dimp.ID { return s.me.ID }

// Profile is the station's public profile (meta and visa).
func (s *Server) Profile() *dimp.Profile { return s.me.Profile() }

// Run listens on Config.Listen and serves until ctx ends, then closes the
// server.
func (s *Server) Run(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("mockstation: %w", err)
	}
	err = s.Serve(ctx, ln)
	return errors.Join(err, s.Close())
}

// Serve accepts connections on ln until ctx ends: WebSocket and HTTP, and
// MTP streams (dimchat's Python client), told apart by their first bytes.
// Every connection passes the station's limits (Config.MaxConnections,
// MaxHandshakingPerAddress and HandshakeTimeout; see limits.go).
// Then it stops listening, closes every session (a WebSocket with status
// 1001, going away) and returns; the database stays open until Close.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		ConnState:         s.gate.httpStateChanged,
		ConnContext: func(ctx context.Context, nc net.Conn) context.Context {
			if lc, ok := nc.(*limitedConn); ok {
				return context.WithValue(ctx, limitedKey{}, lc)
			}
			return ctx
		},
	}
	url, warning, others := listenNotice(ln.Addr(), interfaceAddrs())
	s.log.Info("station listening", "id", s.me.ID, "url", url)
	if warning != "" {
		s.log.Warn(warning, "urls", others)
	}

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.sniff(ln)) }()

	svcCtx, stopServices := context.WithCancel(ctx)
	var svcs sync.WaitGroup
	for _, svc := range s.cfg.Services {
		svcs.Add(1)
		go func() {
			defer svcs.Done()
			if err := svc(svcCtx, url); err != nil && svcCtx.Err() == nil {
				s.log.Error("service stopped", "err", err)
			}
		}()
	}
	for _, url := range s.cfg.Neighbors {
		svcs.Add(1)
		go func() {
			defer svcs.Done()
			s.runDialer(svcCtx, url)
		}()
	}
	defer func() {
		stopServices()
		svcs.Wait()
	}()

	select {
	case err := <-errc:
		s.closeSessions()
		return fmt.Errorf("mockstation: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("station shutting down")
	stopServices()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shutCtx) // HTTP requests; hijacked WebSockets are ours
	s.closeSessions()
	if err != nil {
		return fmt.Errorf("mockstation: shutdown: %w", err)
	}
	return nil
}

// closeSessions ends every WebSocket session and waits for them. New
// connections are refused from then on.
func (s *Server) closeSessions() {
	s.closingMu.Lock()
	s.closing = true
	s.closingMu.Unlock()
	s.cancel()
	s.sessions.Wait()
}

// track registers a session goroutine unless the server is closing.
func (s *Server) track() bool {
	s.closingMu.Lock()
	defer s.closingMu.Unlock()
	if s.closing {
		return false
	}
	s.sessions.Add(1)
	return true
}

// Close ends every session, stops background work and closes the database
// (unless it was given in Config.Store). It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeSessions()
		s.bg.Wait()
		if s.owned {
			s.closeErr = s.store.Close()
		}
	})
	return s.closeErr
}

// expireLoop deletes expired messages at start and every hour.
func (s *Server) expireLoop() {
	defer s.bg.Done()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := s.store.ExpireMessages(s.ctx)
		switch {
		case err != nil && s.ctx.Err() == nil:
			s.log.Error("expire messages", "err", err)
		case n > 0:
			s.log.Info("expired messages", "count", n)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// acked learns how an acknowledgement went, once committed (see
// conn.ack). A session does not wait for the disk to take one: one lost
// when the station is killed only means that the message is delivered
// again, and clients drop duplicates by signature.
func (s *Server) acked(_ bool, err error) {
	if err != nil && !errors.Is(err, store.ErrClosed) {
		s.log.Error("acknowledge message", "err", err)
	}
}

// Handler serves the station over HTTP: a WebSocket upgrade on any path
// starts a DIM session, GET /status describes the station as JSON, the
// upload service takes and serves files (upload.go), and any other
// request gets a line of text saying what this is. The connection limits
// are Serve's: served otherwise, the handler only closes a WebSocket that
// does not handshake in Config.HandshakeTimeout.
func (s *Server) Handler() http.Handler {
	uploads := newUploadService(s.cfg, s.log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case isUpgrade(r):
			s.serveWS(w, r)
		case uploads.handles(r):
			// A file may take long over a slow link: its request gets
			// Config.UploadTimeout rather than the handshake deadline.
			lc, _ := r.Context().Value(limitedKey{}).(*limitedConn)
			defer lc.allowTransfer()()
			uploads.ServeHTTP(w, r)
		case r.URL.Path == "/status" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			s.serveStatus(w, r)
		case r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "DIM station %s: connect over WebSocket; GET /status for its state.\n", s.me.ID)
		default:
			http.NotFound(w, r)
		}
	})
}

// limitedKey is the key of a request's *limitedConn in its context.
type limitedKey struct{}
