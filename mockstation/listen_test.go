package mockstation

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

func TestListenNotice(t *testing.T) {
	ifaces := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("192.168.1.20"),
		netip.MustParseAddr("::1"), netip.MustParseAddr("fe80::1"), netip.MustParseAddr("2001:db8::7")}
	all := "listening on all interfaces: anyone who can reach this machine on port 9394 can connect"
	lan := []string{"ws://192.168.1.20:9394/", "ws://[2001:db8::7]:9394/"}
	for _, tc := range []struct {
		addr, url, warning string
		others             []string
	}{
		{"127.0.0.1:9394", "ws://127.0.0.1:9394/", "", nil},
		{"[::1]:9394", "ws://[::1]:9394/", "", nil},
		{"[::]:9394", "ws://localhost:9394/", all, lan}, // what Go reports for 0.0.0.0, :: and no host
		{"0.0.0.0:9394", "ws://localhost:9394/", all, lan},
		{"192.168.1.20:9394", "ws://192.168.1.20:9394/",
			"listening on 192.168.1.20, not loopback: anyone who can reach that address on port 9394 can connect",
			[]string{"ws://192.168.1.20:9394/"}},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		url, warning, others := listenNotice(addr, ifaces)
		if url != tc.url || warning != tc.warning || !slices.Equal(others, tc.others) {
			t.Errorf("%s: %q, %q, %q; want %q, %q, %q", tc.addr, url, warning, others, tc.url, tc.warning, tc.others)
		}
	}
}
