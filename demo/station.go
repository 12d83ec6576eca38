package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"dimtui/mockstation"
)

// stationRunner is the demo's station, which a workshop may restart: a
// new server on the same address and data, with the same faults.
type stationRunner struct {
	base context.Context
	cfg  mockstation.Config
	log  *slog.Logger

	mu   sync.Mutex
	srv  *mockstation.Server
	stop context.CancelFunc
	done chan struct{}
}

// startStation serves a new station on ln until ctx ends or Close. When
// it fails, ln stays open for the caller.
func startStation(ctx context.Context, ln net.Listener, cfg mockstation.Config, log *slog.Logger) (*stationRunner, error) {
	cfg.Listen = ln.Addr().String()
	r := &stationRunner{base: ctx, cfg: cfg, log: log}
	if err := r.serve(ln); err != nil {
		return nil, err
	}
	return r, nil
}

// serve starts a server on ln; r.mu is held or r is not shared yet.
func (r *stationRunner) serve(ln net.Listener) error {
	ctx, stop := context.WithCancel(r.base)
	srv, err := mockstation.New(ctx, r.cfg)
	if err != nil {
		stop()
		return fmt.Errorf("station: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			r.log.Error("station stopped", "err", err)
		}
	}()
	r.srv, r.stop, r.done = srv, stop, done
	return nil
}

// Server returns the station now serving.
func (r *stationRunner) Server() *mockstation.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv
}

// halt stops the server and closes its database; r.mu is held.
func (r *stationRunner) halt() error {
	if r.srv == nil {
		return nil
	}
	r.stop()
	<-r.done
	err := r.srv.Close()
	r.srv = nil
	return err
}

// Restart stops the station (every client loses its connection) and
// starts it again on the same address with the same data: what it stored
// is still there, and the clients reconnect and handshake from Start.
func (r *stationRunner) Restart(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.halt(); err != nil {
		r.log.Warn("station close", "err", err)
	}
	var ln net.Listener
	var err error
	for {
		if ln, err = net.Listen("tcp", r.cfg.Listen); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restart: listen %s: %w", r.cfg.Listen, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err := r.serve(ln); err != nil {
		ln.Close()
		return err
	}
	r.log.Info("station restarted", "listen", r.cfg.Listen)
	return nil
}

// Partition cuts the station's links to other stations, or heals them.
func (r *stationRunner) Partition(cut bool) {
	if srv := r.Server(); srv != nil {
		srv.Partition(cut)
	}
}

// Close stops the station for good.
func (r *stationRunner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.halt()
}

// listen listens on addr, or on a free port of the same host when addr is
// taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	host, _, splitErr := net.SplitHostPort(addr)
	if splitErr != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, fmt.Errorf("listen %s: %w (and no free port: %w)", addr, err, err2)
	}
	return ln, nil
}
