// Package netguard keeps outgoing connections that an admin can aim (the SMTP
// server of the settings) away from the operator's own network when the
// operator says so (SMTP_ALLOW_PRIVATE=false).
//
// Checking the host name when it is saved is not enough: a name can resolve
// to a public address at save time and to 127.0.0.1 or 10.0.0.5 at send time
// (DNS rebinding). So the check happens again in the dialer, on the
// addresses actually connected to.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Public reports whether ip is an address on the public internet: not
// loopback, private, link-local, unspecified or multicast.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}

// PrivateAddrError is a host that is, or resolves to, an address that is not
// public. Trying again will not help until someone changes the host or the
// operator allows private addresses.
type PrivateAddrError struct {
	Host string
	Addr netip.Addr
}

func (e *PrivateAddrError) Error() string {
	if e.Host == e.Addr.String() {
		return fmt.Sprintf("%s is a private, loopback or link-local address, and private addresses are not allowed (SMTP_ALLOW_PRIVATE=false)", e.Host)
	}
	return fmt.Sprintf("%s resolves to %s, a private, loopback or link-local address, and private addresses are not allowed (SMTP_ALLOW_PRIVATE=false)", e.Host, e.Addr)
}

// IsPrivateAddr reports whether err is (or wraps) a *PrivateAddrError.
func IsPrivateAddr(err error) bool {
	var pe *PrivateAddrError
	return errors.As(err, &pe)
}

// Resolver looks host names up; net.DefaultResolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// PublicDialer returns a DialContext that resolves the host with r, refuses
// with a *PrivateAddrError when any of its addresses is not public, and
// otherwise connects to the first address it checked (never resolving the
// name a second time). timeout bounds the connection.
func PublicDialer(r Resolver, timeout time.Duration) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		var addrs []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{ip}
		} else {
			lookup, cancel := context.WithTimeout(ctx, timeout)
			addrs, err = r.LookupNetIP(lookup, "ip", host)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("resolve %s: %w", host, err)
			}
			if len(addrs) == 0 {
				return nil, fmt.Errorf("resolve %s: no address", host)
			}
		}
		for _, ip := range addrs {
			if !Public(ip) {
				return nil, &PrivateAddrError{Host: host, Addr: ip.Unmap()}
			}
		}
		d := net.Dialer{Timeout: timeout}
		return d.DialContext(ctx, network, net.JoinHostPort(addrs[0].Unmap().String(), port))
	}
}
