package mockstation

import (
	"net"
	"net/netip"
	"strconv"
)

// maxOtherURLs bounds the addresses listed in the warning of a station
// that listens on all interfaces.
const maxOtherURLs = 4

// listenNotice says where a station listening on addr can be reached:
// url, which works on this machine (and is what Services are given), and,
// when addr is not loopback, a warning that says who else can connect,
// with the URLs they would use (from ifaces, this machine's addresses).
//
// A listener on all interfaces (0.0.0.0, :: or no host, which Go reports
// alike, as [::]) is given ws://localhost:PORT/: [::] is no address a
// person can type, and localhost reaches the listener over IPv4 and IPv6.
func listenNotice(addr net.Addr, ifaces []netip.Addr) (url, warning string, others []string) {
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return "ws://" + addr.String() + "/", "", nil
	}
	ip, port := ap.Addr().Unmap(), strconv.Itoa(int(ap.Port()))
	switch {
	case ip.IsLoopback():
		return wsURL(ip, port), "", nil
	case ip.IsUnspecified():
		for _, a := range ifaces {
			a = a.Unmap()
			if a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() || len(others) == maxOtherURLs {
				continue
			}
			others = append(others, wsURL(a, port))
		}
		return "ws://localhost:" + port + "/",
			"listening on all interfaces: anyone who can reach this machine on port " + port + " can connect", others
	default:
		u := wsURL(ip, port)
		return u, "listening on " + ip.String() + ", not loopback: anyone who can reach that address on port " +
			port + " can connect", []string{u}
	}
}

func wsURL(ip netip.Addr, port string) string {
	return "ws://" + net.JoinHostPort(ip.WithZone("").String(), port) + "/"
}

// interfaceAddrs lists this machine's addresses; none when they cannot be
// read.
func interfaceAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr())
		}
	}
	return out
}
