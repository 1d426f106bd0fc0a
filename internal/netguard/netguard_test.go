package netguard_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"changemaker/internal/netguard"
)

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false,
		"::ffff:127.0.0.1": false, "224.0.0.1": false,
	} {
		if got := netguard.Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestPublicDialerRefusesNamesThatResolvePrivate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r := fakeResolver{
		"relay.internal.test": {netip.MustParseAddr("127.0.0.1")},
		"mixed.test":          {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("10.0.0.5")},
	}
	dial := netguard.PublicDialer(r, 2*time.Second)
	for _, host := range []string{"relay.internal.test", "mixed.test", "127.0.0.1", "[::1]"} {
		conn, err := dial(context.Background(), "tcp", net.JoinHostPort(trimBrackets(host), port))
		if err == nil {
			conn.Close()
			t.Errorf("dial %s connected; want a refusal", host)
			continue
		}
		if !netguard.IsPrivateAddr(err) {
			t.Errorf("dial %s: %v; want a PrivateAddrError", host, err)
		}
	}
	if _, err := dial(context.Background(), "tcp", net.JoinHostPort("unknown.test", port)); err == nil || netguard.IsPrivateAddr(err) {
		t.Errorf("dial of an unknown name = %v; want a resolution error (retryable), not a private-address refusal", err)
	}
}

func trimBrackets(h string) string {
	if len(h) > 1 && h[0] == '[' {
		return h[1 : len(h)-1]
	}
	return h
}
