package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// ErrRemoteTarget means a target outside the loopback without AllowRemote.
var ErrRemoteTarget = errors.New("not a loopback address (pass --allow-remote to target another host)")

// checkTarget parses a URL with one of schemes and, unless remote is
// allowed, insists that its host is localhost or a loopback address.
func checkTarget(raw string, schemes []string, remote bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("%q: scheme must be one of %v", raw, schemes)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%q: no host", raw)
	}
	if remote || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("%q: %w", raw, ErrRemoteTarget)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
