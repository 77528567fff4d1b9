package network

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/network/dns"
)

// The per-network responder: started with a user network's first running
// container, fed by a records file rewritten on every attach and detach,
// stopped with the last one. The default network has none (Docker's
// default bridge does not resolve names either).

func (m *Manager) recordsFile(n *Network) string {
	return filepath.Join(m.runDir(), n.Name+"."+n.ID[:12]+".dns.json")
}

func (m *Manager) dnsPidFile(n *Network) string {
	return filepath.Join(m.runDir(), n.Name+"."+n.ID[:12]+".dns.pid")
}

// dnsLogFile is the responder's log (dns.Start's: the pid file's name
// with .log); it outlives a stop, and goes with the network.
func (m *Manager) dnsLogFile(n *Network) string {
	return filepath.Join(m.runDir(), n.Name+"."+n.ID[:12]+".dns.log")
}

// refreshDNS rewrites the records of the named networks and starts or
// stops their responders. Callers hold the lock.
func (m *Manager) refreshDNS(ctx context.Context, names ...string) error {
	if m.opts.DNSBinary == "" {
		return nil
	}
	done := map[string]bool{}
	var attachments []*Attachment
	loaded := false
	for _, name := range names {
		if done[name] || name == DefaultNetwork {
			continue
		}
		done[name] = true
		n, err := m.read(name)
		if err != nil {
			continue
		}
		if !loaded {
			attachments, loaded = m.attachments(), true
		}
		recs := m.records(n, attachments)
		if len(recs.Names) == 0 && len(recs.ClientUpstreams) == 0 && !hasEndpoint(attachments, n.ID) {
			m.stopDNS(ctx, n)
			continue
		}
		if err := dns.WriteRecords(m.recordsFile(n), recs); err != nil {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
		listen := net.JoinHostPort(n.Gateway().String(), "53")
		if err := dns.Start(ctx, m.opts.DNSBinary, listen, m.recordsFile(n), m.dnsPidFile(n)); err != nil {
			return fmt.Errorf("starting the DNS responder of network %s: %w", n.Name, err)
		}
	}
	return nil
}

func hasEndpoint(as []*Attachment, networkID string) bool {
	for _, a := range as {
		for _, ep := range a.Endpoints {
			if ep.NetworkID == networkID {
				return true
			}
		}
	}
	return false
}

// records are the names the responder of n answers: each running
// container's name, aliases and short ID on n, and on the networks that
// containers of n are also connected to (a container asks its primary
// network's responder for peers on all of its networks; the responder has
// one table, so those names are visible to all of n).
func (m *Manager) records(n *Network, as []*Attachment) *dns.Records {
	r := &dns.Records{Names: map[string][]string{}, Upstreams: HostNameservers(), ClientUpstreams: map[string][]string{}}
	linked := map[string]bool{n.ID: true}
	for _, a := range as {
		if a.onNetwork(n.ID) {
			for _, ep := range a.Endpoints {
				linked[ep.NetworkID] = true
			}
		}
	}
	for _, a := range as {
		for _, ep := range a.Endpoints {
			if !linked[ep.NetworkID] || ep.IP == "" || (ep.Network == DefaultNetwork && ep.NetworkID != n.ID) {
				continue
			}
			names := append([]string{a.Name}, ep.Aliases...)
			if len(a.ContainerID) >= 12 {
				names = append(names, a.ContainerID[:12])
			}
			for _, name := range names {
				name = strings.TrimSuffix(strings.ToLower(name), ".")
				if name != "" && !contains(r.Names[name], ep.IP) {
					r.Names[name] = append(r.Names[name], ep.IP)
				}
			}
			rec, err := container.ReadRecord(container.Paths{Dir: filepath.Join(m.containersDir(), a.ContainerID)})
			if err == nil && len(rec.HostConfig.DNS) > 0 {
				var ups []string
				for _, s := range rec.HostConfig.DNS {
					ups = append(ups, net.JoinHostPort(s, "53"))
				}
				r.ClientUpstreams[ep.IP] = ups
			}
		}
	}
	return r
}

func (a *Attachment) onNetwork(id string) bool {
	for _, ep := range a.Endpoints {
		if ep.NetworkID == id {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stopDNS ends the responder of n. Callers hold the lock.
func (m *Manager) stopDNS(ctx context.Context, n *Network) {
	_ = dns.Stop(ctx, m.dnsPidFile(n))
	_ = os.Remove(m.recordsFile(n))
}

// ResponderAddress is the nameserver a container on network name uses, or
// "" when its resolv.conf comes from the host (default network).
func (m *Manager) ResponderAddress(name string) string {
	if name == DefaultNetwork || m.opts.DNSBinary == "" {
		return ""
	}
	n, err := m.Get(name)
	if err != nil || n.Gateway() == nil {
		return ""
	}
	return n.Gateway().String()
}
