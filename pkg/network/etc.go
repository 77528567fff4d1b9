package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
)

const baseHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// HostsContent is a container's /etc/hosts as Docker writes it: the
// standard entries, --add-host lines (host-gateway resolved to
// hostGateway), then the container's own address with its hostname, name
// and aliases once it has one.
func HostsContent(rec *container.Record, a *Attachment, hostGateway string) string {
	var b strings.Builder
	b.WriteString(baseHosts)
	for _, eh := range rec.HostConfig.ExtraHosts {
		host, ip, ok := SplitExtraHost(eh)
		if !ok {
			continue
		}
		if ip == "host-gateway" {
			ip = hostGateway
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	if ip := a.firstIP(); ip != "" {
		names := []string{rec.Config.Hostname}
		if d := rec.Config.Domainname; d != "" {
			names = []string{rec.Config.Hostname + "." + d, rec.Config.Hostname}
		}
		seen := map[string]bool{}
		for _, n := range names {
			seen[n] = true
		}
		extra := []string{rec.Name}
		if ep := a.Endpoints[0]; ep.Network != DefaultNetwork {
			extra = append(extra, ep.Aliases...)
		}
		for _, n := range extra {
			if n != "" && !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
		fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(names, " "))
	}
	return b.String()
}

// SplitExtraHost splits --add-host's "host:ip" (or "host=ip").
func SplitExtraHost(s string) (host, ip string, ok bool) {
	if h, i, found := strings.Cut(s, "="); found {
		return h, i, h != "" && i != ""
	}
	h, i, found := strings.Cut(s, ":")
	return h, i, found && h != "" && i != ""
}

// WriteHosts rewrites the container's hosts file in place: it is
// bind-mounted, and a rename would leave the container the old inode.
func (m *Manager) WriteHosts(dir string, rec *container.Record, a *Attachment) error {
	gw := ""
	for _, eh := range rec.HostConfig.ExtraHosts {
		if strings.HasSuffix(eh, "host-gateway") {
			gw = m.HostGateway()
			break
		}
	}
	return os.WriteFile(filepath.Join(dir, "hosts"), []byte(HostsContent(rec, a, gw)), 0o644)
}

// ResolvConf is the container's resolv.conf. On a user-defined network the
// nameserver is the network's responder (the gateway), which forwards what
// it does not know to the host's resolvers or the container's --dns. On
// the default network it is the host's, loopback and IPv6 nameservers
// removed as Docker does, with --dns/--dns-search/--dns-option replacing their
// parts. hostNet keeps the host's file as it is.
func ResolvConf(hostResolv string, rec *container.Record, responder string, hostNet bool) string {
	hc := &rec.HostConfig
	if hostNet && len(hc.DNS) == 0 && len(hc.DNSSearch) == 0 && len(hc.DNSOptions) == 0 {
		return hostResolv
	}
	var servers, search, options, other []string
	for _, line := range strings.Split(hostResolv, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			// Docker's legacy-network rule: loopback servers answer only
			// in the host's namespace, and IPv6 ones are unreachable from
			// a network without IPv6 (nerd's are IPv4 only).
			if len(f) > 1 && (hostNet || !isLoopback(f[1]) && validIPv4(f[1])) {
				servers = append(servers, f[1])
			}
		case "search", "domain":
			search = append(search[:0], f[1:]...)
		case "options":
			options = append(options, f[1:]...)
		default:
			if !strings.HasPrefix(f[0], "#") {
				other = append(other, line)
			}
		}
	}
	if len(hc.DNS) > 0 {
		servers = hc.DNS
	}
	if responder != "" {
		servers = []string{responder}
	}
	if len(servers) == 0 {
		servers = []string{"8.8.8.8", "8.8.4.4"}
	}
	if len(hc.DNSSearch) > 0 {
		search = hc.DNSSearch
		if len(search) == 1 && search[0] == "." {
			search = nil
		}
	}
	if len(hc.DNSOptions) > 0 {
		options = hc.DNSOptions
	}
	if responder != "" {
		options = withNdots0(options)
	}
	var b strings.Builder
	for _, o := range other {
		b.WriteString(o + "\n")
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.String()
}

// withNdots0 is Docker's option for a container asking an embedded
// resolver: ndots:0 (a name is tried as it is before the search domains),
// unless a valid ndots is set; an invalid one is dropped.
func withNdots0(options []string) []string {
	var out []string
	has := false
	for _, o := range options {
		if v, ok := strings.CutPrefix(o, "ndots:"); ok {
			if n, err := strconv.Atoi(v); err != nil || n < 0 {
				continue
			}
			has = true
		}
		out = append(out, o)
	}
	if !has {
		out = append(out, "ndots:0")
	}
	return out
}

// HostNameservers are the host's resolvers (loopback ones included: the
// responder runs on the host), as ip:53.
func HostNameservers() []string {
	data, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" && validIPv4(f[1]) {
			out = append(out, f[1]+":53")
		}
	}
	return out
}

func isLoopback(ip string) bool {
	return strings.HasPrefix(ip, "127.") || ip == "::1"
}
