package settings

import (
	"net/netip"
	"regexp"
	"strings"

	"changemaker/internal/netguard"
)

// hostLabel is one label of a DNS name (letters, digits, inner hyphens).
var hostLabel = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// smtpHostProblem says what is wrong with host as an SMTP server name, or "".
// It takes a bare host name or IP address: no scheme, port, path or spaces.
// Unless allowPrivate, loopback, private, link-local and unspecified IP
// literals are refused: a SUPER_ADMIN could otherwise make the workers
// connect to services inside the operator's network.
func smtpHostProblem(host string, allowPrivate bool) string {
	if host == "" {
		return "" // clears it: the SMTP_* environment applies
	}
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")); err == nil {
		if !allowPrivate && !netguard.Public(ip) {
			return "must not be a private, loopback or link-local address (SMTP_ALLOW_PRIVATE is off)"
		}
		return ""
	}
	if len(host) > 253 {
		return "must be a host name or IP address"
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if !hostLabel.MatchString(label) {
			return "must be a host name or IP address, without scheme, port or path"
		}
	}
	return ""
}
