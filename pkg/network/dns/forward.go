package dns

import (
	"context"
	"net/netip"
	"time"

	mdns "github.com/miekg/dns"
)

// forward relays req to the client's upstreams and returns their reply, or
// SERVFAIL when none answers in time. It never returns nil: a client left
// without an answer waits its full timeout (5s in glibc) before trying the
// next search domain, whereas SERVFAIL moves it on at once.
func (s *Server) forward(req *mdns.Msg, t *table, client netip.Addr, network string) *mdns.Msg {
	ups := t.upstreamsFor(client)
	if len(ups) == 0 {
		return servfail(req)
	}
	select {
	case s.forwards <- struct{}{}:
		defer func() { <-s.forwards }()
	default:
		return servfail(req) // overloaded: fail fast rather than pile up
	}
	if resp := s.exchange(req, ups, network); resp != nil {
		return resp
	}
	return servfail(req)
}

// exchange tries the upstreams in order, each for at most ForwardTimeout and
// all of them for at most twice that. It uses the client's transport, so a
// truncated UDP answer goes back as such and the client's TCP retry reaches
// upstream over TCP. A SERVFAIL or REFUSED from one upstream is kept only as
// a last resort, as resolv.conf clients would try the next server too.
func (s *Server) exchange(req *mdns.Msg, ups []string, network string) *mdns.Msg {
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.ForwardTimeout)
	defer cancel()
	c := &mdns.Client{Net: network, Timeout: s.cfg.ForwardTimeout}
	var fallback *mdns.Msg
	for _, up := range ups {
		resp, _, err := c.ExchangeContext(ctx, req, up)
		switch {
		case err != nil:
			s.logUpstream(up, err)
		case resp.Rcode == mdns.RcodeServerFailure || resp.Rcode == mdns.RcodeRefused:
			fallback = resp
		default:
			return resp
		}
		if ctx.Err() != nil {
			break
		}
	}
	return fallback
}

// logUpstream reports a failing upstream, at most once per
// upstreamLogEvery whatever the query rate.
func (s *Server) logUpstream(up string, err error) {
	now := time.Now().UnixNano()
	last := s.lastUpLogged.Load()
	if now-last < int64(upstreamLogEvery) || !s.lastUpLogged.CompareAndSwap(last, now) {
		return
	}
	s.cfg.Logf("upstream %s: %v", up, err)
}
