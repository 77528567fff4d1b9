package network

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Published ports are nerd's own DNAT rules, the way dockerd does it, not
// the CNI portmap plugin: portmap runs about twenty iptables processes per
// container (its nftables backend re-creates hooked chains every time),
// while appending a container's rules to a chain that exists is one
// iptables-restore.
//
// The rules live in one nat chain shared by every data root on the host
// (everything runs under the host-wide network lock), reached from
// PREROUTING (other hosts, containers) and OUTPUT (the host itself) for
// packets to a local address. Each rule carries the container's ID in a
// comment, so teardown finds them without knowing what was added.
// Localhost and hairpin traffic are masqueraded by per-bridge rules
// (bridgeRules).

// hostportsChain is the nat chain of the DNAT rules.
const hostportsChain = "NERD-HOSTPORTS"

// PortDriverNerd marks an endpoint whose ports are nerd's DNAT rules. An
// endpoint with Ports and no driver was published by portmap (an older
// nerd) and is torn down by portmap's DEL.
const PortDriverNerd = "nerd"

// hostportsJumps are the rules leading to the chain, in nat.
var hostportsJumps = [][]string{
	{"PREROUTING", "-m", "addrtype", "--dst-type", "LOCAL", "-m", "comment", "--comment", "nerd", "-j", hostportsChain},
	{"OUTPUT", "-m", "addrtype", "--dst-type", "LOCAL", "-m", "comment", "--comment", "nerd", "-j", hostportsChain},
}

func portTag(id string) string { return "nerd:" + id }

// dnatRules are the rules (without -A and chain) that publish ports of the
// container id at ip. A mapping on a loopback host address only matches
// packets from the host itself: without that, a neighbour could send to
// 127.0.0.1 through this host and reach the container.
func dnatRules(id, ip string, ports []PortMapping) [][]string {
	var out [][]string
	for _, p := range ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		r := []string{}
		loopback := false
		if p.HostIP != "" && p.HostIP != "0.0.0.0" {
			hip := net.ParseIP(p.HostIP).To4()
			if hip == nil {
				continue // IPv4 only; the port was bound as IPv4 too
			}
			r = append(r, "-d", hip.String()+"/32")
			loopback = hip.IsLoopback()
		}
		r = append(r, "-p", proto, "-m", proto, "--dport", strconv.Itoa(p.HostPort))
		if loopback {
			r = append(r, "-m", "addrtype", "--src-type", "LOCAL")
		}
		r = append(r, "-m", "comment", "--comment", portTag(id),
			"-j", "DNAT", "--to-destination", net.JoinHostPort(ip, strconv.Itoa(p.ContainerPort)))
		out = append(out, r)
	}
	return out
}

// publishInput is the iptables-restore input that checks the jumps and
// appends the rules. It never declares the chain: with --noflush a
// ":CHAIN" line flushes an existing user chain, i.e. every other
// container's rules.
func publishInput(rules [][]string) string {
	var b strings.Builder
	b.WriteString("*nat\n")
	for _, j := range hostportsJumps {
		b.WriteString("-C " + strings.Join(j, " ") + "\n")
	}
	for _, r := range rules {
		b.WriteString("-A " + hostportsChain + " " + strings.Join(r, " ") + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}

// publish adds the DNAT rules of container id (address ip on the bridge
// br). The usual case is one iptables-restore; when the chain or a jump is
// missing (first use since boot, or after the last network went), they are
// made and the restore is tried again. Callers hold the lock.
func (m *Manager) publish(ctx context.Context, br, id, ip string, ports []PortMapping) error {
	// 127.0.0.1 → container crosses to the bridge with a loopback source.
	if err := enableRouteLocalnet(br); err != nil {
		return err
	}
	rules := dnatRules(id, ip, ports)
	if len(rules) == 0 {
		return nil
	}
	in := publishInput(rules)
	if err := iptablesRestore(ctx, in); err != nil {
		if eerr := ensureHostportsChain(ctx); eerr != nil {
			return fmt.Errorf("publishing ports: %w (%v)", err, eerr)
		}
		if err := iptablesRestore(ctx, in); err != nil {
			return fmt.Errorf("publishing ports: %w", err)
		}
	}
	// A UDP flow that reached the host's socket (or a previous container)
	// before these rules keeps going there while conntrack remembers it.
	// Failures are informative only, as in portmap.
	for _, p := range ports {
		if p.Protocol == "udp" {
			f := &netlink.ConntrackFilter{}
			_ = f.AddProtocol(unix.IPPROTO_UDP)
			_ = f.AddPort(netlink.ConntrackOrigDstPort, uint16(p.HostPort))
			deleteConntrack(f)
		}
	}
	return nil
}

// unpublish removes the DNAT rules of container id: those tagged with its
// ID, whatever they say. A missing chain or no rule is success. ip is the
// container's address, for its UDP conntrack entries. Callers hold the lock.
func (m *Manager) unpublish(ctx context.Context, id, ip string, ports []PortMapping) error {
	out, err := iptables(ctx, "-t", "nat", "-S", hostportsChain)
	if err != nil {
		return nil // no chain: no rules
	}
	if dels := deleteLines(out, id); len(dels) > 0 {
		if err := iptablesRestore(ctx, "*nat\n"+strings.Join(dels, "\n")+"\nCOMMIT\n"); err != nil {
			return fmt.Errorf("removing published ports: %w", err)
		}
	}
	for _, p := range ports {
		if p.Protocol == "udp" && net.ParseIP(ip) != nil {
			f := &netlink.ConntrackFilter{}
			_ = f.AddProtocol(unix.IPPROTO_UDP)
			_ = f.AddIP(netlink.ConntrackReplySrcIP, net.ParseIP(ip))
			deleteConntrack(f)
			break
		}
	}
	return nil
}

// deleteLines turns the rules of container id in `iptables -S` output into
// -D lines for iptables-restore (which reads -S's quoting).
func deleteLines(out, id string) []string {
	var dels []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		f := splitRule(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "--comment" && f[i+1] == portTag(id) {
				dels = append(dels, "-D "+strings.TrimPrefix(line, "-A "))
				break
			}
		}
	}
	return dels
}

// deleteConntrack deletes the conntrack entries filter matches, best
// effort (a dump interrupted by concurrent changes still deletes what it
// saw).
func deleteConntrack(f *netlink.ConntrackFilter) {
	_, _ = netlink.ConntrackDeleteFilters(netlink.ConntrackTable, unix.AF_INET, f)
}

// ensureHostportsChain makes the chain and the jumps to it. Callers hold
// the lock.
func ensureHostportsChain(ctx context.Context) error {
	if _, err := iptables(ctx, "-t", "nat", "-S", hostportsChain); err != nil {
		if _, err := iptables(ctx, "-t", "nat", "-N", hostportsChain); err != nil {
			return err
		}
	}
	for _, j := range hostportsJumps {
		if _, err := iptables(ctx, append([]string{"-t", "nat", "-C"}, j...)...); err == nil {
			continue
		}
		// First in the chain, so an earlier ACCEPT of another tool does
		// not skip it.
		if _, err := iptables(ctx, append([]string{"-t", "nat", "-I"}, j...)...); err != nil {
			return err
		}
	}
	return nil
}

// cleanupHostports removes the chain and its jumps when it holds no rule.
// Callers hold the lock.
func cleanupHostports(ctx context.Context) {
	out, err := iptables(ctx, "-t", "nat", "-S", hostportsChain)
	if err != nil || strings.Contains(out, "-A "+hostportsChain+" ") {
		return // no chain, or still in use
	}
	for _, j := range hostportsJumps {
		for i := 0; i < 8; i++ {
			if _, err := iptables(ctx, append([]string{"-t", "nat", "-D"}, j...)...); err != nil {
				break
			}
		}
	}
	_, _ = iptables(ctx, "-t", "nat", "-X", hostportsChain)
}

// iptablesRestore applies input to the host's tables without flushing
// them, atomically per table.
func iptablesRestore(ctx context.Context, input string) error {
	cmd := exec.CommandContext(ctx, "iptables-restore", "-w", "--noflush")
	cmd.Stdin = strings.NewReader(input)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables-restore: %w: %s", err, strings.TrimSpace(errb.String()))
	}
	return nil
}

// enableRouteLocalnet lets 127.0.0.0/8 cross to the bridge br (what
// traffic to a published port on 127.0.0.1 does once DNAT'd). The bridge
// rules drop what arrives from the bridge for 127.0.0.0/8, so containers
// do not reach the host's loopback services through it.
func enableRouteLocalnet(br string) error {
	if br == "" || strings.ContainsAny(br, "/") {
		return fmt.Errorf("invalid bridge name %q", br)
	}
	p := filepath.Join("/proc/sys/net/ipv4/conf", br, "route_localnet")
	if data, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(data)) == "1" {
		return nil
	}
	if err := os.WriteFile(p, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("enabling route_localnet on %s: %w", br, err)
	}
	return nil
}
