// Package datadir is where dimtui keeps its files on this machine: its
// state directory (the station's data, the demo's station, the log) and
// the user's identities, each with the history its client keeps beside it.
// The commands and the demo find their files through it, so that they all
// find the same ones.
package datadir

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
)

// StateDir is dimtui's directory in the user's state directory:
// $XDG_STATE_HOME/dimtui, else ~/.local/state/dimtui on Unix systems, else
// dimtui in the config directory (macOS, Windows and Plan 9 have no state
// directory of their own).
func StateDir() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "dimtui"), nil
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && runtime.GOOS != "plan9" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "state", "dimtui"), nil
		}
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	return filepath.Join(base, "dimtui"), nil
}

// StationDir is where `dimtui station` keeps its identity, database and
// echo bot unless told otherwise: station in the state directory.
func StationDir() (string, error) { return inStateDir("station") }

// DemoStationDir is the station of the demo: beside the one `dimtui
// station` runs on, so that a demo never mixes its messages and bots with
// a real station's.
func DemoStationDir() (string, error) { return inStateDir("demo-station") }

func inStateDir(name string) (string, error) {
	dir, err := StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// OpenLog opens dimtui.log in the state directory for appending and
// returns a logger that writes there, and the function that closes it.
// The terminal UI owns the screen, so nothing may be logged there.
func OpenLog() (*slog.Logger, func(), error) { return OpenLogIn("") }

// OpenLogIn is OpenLog with dimtui.log in dir ("": the state directory),
// which is made when it does not exist: `dimtui chat --data DIR`.
func OpenLogIn(dir string) (*slog.Logger, func(), error) {
	if dir == "" {
		var err error
		if dir, err = StateDir(); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("log directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "dimtui.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	logger.Info("dimtui started", "pid", os.Getpid())
	return logger, func() { f.Close() }, nil
}
