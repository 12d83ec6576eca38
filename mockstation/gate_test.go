package mockstation

import (
	"io"
	"log/slog"
	"net"
	"testing"
)

// TestGateFitsOpenFileLimit: the number of slots leaves descriptors free
// under the process's limit on open files, for the database, the log and
// the connections being refused or closed.
func TestGateFitsOpenFileLimit(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		asked  int
		nofile uint64
		want   int
	}{
		{DefaultMaxConnections, 0, DefaultMaxConnections},       // limit unknown
		{DefaultMaxConnections, 1 << 20, DefaultMaxConnections}, // far below the limit
		{DefaultMaxConnections, 20000, DefaultMaxConnections},   // 20000-1024 is more
		{50000, 20000, 20000 - 1024},
		{DefaultMaxConnections, 1024, 1024 - 256},
		{DefaultMaxConnections, 256, 256 - 64},
		{10, 4096, 10},
	} {
		g := newGate(Config{MaxConnections: tc.asked}, tc.nofile, quiet)
		if g.max != tc.want {
			t.Errorf("%d asked under a limit of %d: %d slots, want %d", tc.asked, tc.nofile, g.max, tc.want)
		}
		if tc.nofile > 0 && uint64(g.max+g.maxLinger+g.maxOverflow) >= tc.nofile {
			t.Errorf("limit %d: %d slots + %d closing + %d refused leave nothing", tc.nofile, g.max, g.maxLinger, g.maxOverflow)
		}
	}
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:4000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4000", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:9", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:9", "fe80::/64"},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := addressKey(a); got != tc.want {
			t.Errorf("addressKey(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// TestReleaseAfterFlood: memory goes back to the system once the open
// connections fall by floodDrop and by half, and the peak starts over.
func TestReleaseAfterFlood(t *testing.T) {
	peak := 0
	for _, step := range []struct{ open, peak int }{
		{100, 100}, {16384, 16384}, {16000, 16384}, {8193, 16384}, // not half yet
		{8000, 8000},                             // released
		{7000, 8000}, {3000, 3000}, {1000, 1000}, // released again: 2000 closed
		{10, 1000}, // fewer than floodDrop closed
	} {
		if peak = releaseAfterFlood(peak, step.open); peak != step.peak {
			t.Errorf("at %d open: peak %d, want %d", step.open, peak, step.peak)
		}
	}
}
