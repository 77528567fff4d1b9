package dns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"

	"github.com/nerd-project/nerd/internal/fsutil"
)

// Records is everything a responder serves for one network. The networking
// code rewrites the whole file on every attach/detach; the responder picks
// the new version up by itself.
type Records struct {
	Names           map[string][]string `json:"names"`            // lower-case name, no trailing dot → IPv4s
	Upstreams       []string            `json:"upstreams"`        // "ip:port" for all other names
	ClientUpstreams map[string][]string `json:"client_upstreams"` // client IP → its own upstreams (--dns)
}

// WriteRecords replaces the records file at path atomically (temp + fsync +
// rename), so a responder never reads a half-written file and a crash leaves
// the old or the new records.
func WriteRecords(path string, r *Records) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding DNS records: %w", err)
	}
	if err := fsutil.WriteFileAtomic(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing DNS records: %w", err)
	}
	return nil
}

// ReadRecords reads a records file written by WriteRecords. A missing file
// is reported with an error that matches fs.ErrNotExist.
func ReadRecords(path string) (*Records, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading DNS records: %w", err)
	}
	var r Records
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decoding DNS records %s: %w", path, err)
	}
	return &r, nil
}

// table is Records compiled for lookups: parsed addresses, normalised names
// and the reverse map for PTR. A table is immutable once built, so queries
// read it without locks while a reload swaps in a new one.
type table struct {
	names     map[string][]netip.Addr
	ptr       map[netip.Addr]string
	upstreams []string
	clients   map[netip.Addr][]string
}

// compile turns Records into a table. It is lenient on purpose: a bad entry
// is skipped (and reported) rather than failing the whole file, because one
// container's odd alias must not take name resolution away from the others.
func compile(r *Records, self string) (*table, []error) {
	var errs []error
	t := &table{
		names:   make(map[string][]netip.Addr, len(r.Names)),
		ptr:     make(map[netip.Addr]string),
		clients: make(map[netip.Addr][]string, len(r.ClientUpstreams)),
	}
	for name, ips := range r.Names {
		key := normName(name)
		for _, s := range ips {
			ip, err := netip.ParseAddr(s)
			if err != nil || !ip.Unmap().Is4() {
				errs = append(errs, fmt.Errorf("name %q: bad IPv4 address %q", name, s))
				continue
			}
			t.names[key] = appendUnique(t.names[key], ip.Unmap())
		}
	}
	t.buildPTR()
	var e []error
	t.upstreams, e = normUpstreams(r.Upstreams, self)
	errs = append(errs, e...)
	for client, ups := range r.ClientUpstreams {
		ip, err := netip.ParseAddr(client)
		if err != nil {
			errs = append(errs, fmt.Errorf("client_upstreams: bad client address %q", client))
			continue
		}
		t.clients[ip.Unmap()], e = normUpstreams(ups, self)
		errs = append(errs, e...)
	}
	return t, errs
}

// buildPTR picks one name per address for reverse lookups. Tools expect a
// single PTR answer, so the choice must be stable across reloads: prefer a
// qualified name ("web.mynet", what Docker returns), then the shortest, then
// the lexically first.
func (t *table) buildPTR() {
	candidates := make(map[netip.Addr][]string)
	for name, ips := range t.names {
		for _, ip := range ips {
			candidates[ip] = append(candidates[ip], name)
		}
	}
	for ip, names := range candidates {
		sort.Slice(names, func(i, j int) bool { return betterPTR(names[i], names[j]) })
		t.ptr[ip] = names[0]
	}
}

func betterPTR(a, b string) bool {
	da, db := strings.Contains(a, "."), strings.Contains(b, ".")
	if da != db {
		return da
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// normUpstreams accepts "ip", "ip:port" and "[v6]:port", and drops the
// responder's own address: forwarding to ourselves would loop until every
// query times out.
func normUpstreams(in []string, self string) ([]string, []error) {
	var out []string
	var errs []error
	for _, s := range in {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			ip, err2 := netip.ParseAddr(strings.Trim(s, "[]"))
			if err2 != nil {
				errs = append(errs, fmt.Errorf("bad upstream %q: %w", s, err))
				continue
			}
			ap = netip.AddrPortFrom(ip, 53)
		}
		addr := net.JoinHostPort(ap.Addr().Unmap().String(), fmt.Sprint(ap.Port()))
		if addr == self {
			continue
		}
		out = append(out, addr)
	}
	return out, errs
}

func appendUnique(ips []netip.Addr, ip netip.Addr) []netip.Addr {
	for _, have := range ips {
		if have == ip {
			return ips
		}
	}
	return append(ips, ip)
}

// normName is the lookup key of a query name: DNS names are
// case-insensitive, and queries carry a trailing dot the records omit.
func normName(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// lookup returns the addresses of name, and whether the name is known at all
// (a known name with a query type we hold nothing for gets an empty NOERROR,
// not a forward: upstream would answer NXDOMAIN and glibc would give up).
func (t *table) lookup(name string) ([]netip.Addr, bool) {
	ips, ok := t.names[normName(name)]
	return ips, ok
}

// upstreamsFor returns the servers a client's unknown names go to: its own
// (--dns) if it has any, the network's otherwise.
func (t *table) upstreamsFor(client netip.Addr) []string {
	if ups, ok := t.clients[client.Unmap()]; ok && len(ups) > 0 {
		return ups
	}
	return t.upstreams
}
