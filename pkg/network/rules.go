package network

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
)

// rule is one iptables rule of a bridge: table, chain and the match+target.
type rule struct {
	table, chain string
	spec         []string
}

// bridgeRules are what nerd adds per bridge, in the way dockerd does:
// outbound masquerade, and forwarding accepted to and from the bridge even
// when another engine set the FORWARD policy to DROP. An internal network
// gets drops instead: nothing leaves or enters it but through the bridge.
//
// Then what published ports (hostports.go) need on every bridge: traffic
// to a published port from 127.0.0.1, and from a container of the bridge
// through the host's address (hairpin), is masqueraded to the gateway's
// address, so the replies come back through the host to be un-DNAT'd.
// Only DNAT'd connections: direct traffic between containers keeps its
// source address (with br_netfilter, bridged packets pass POSTROUTING
// too). The bridge has route_localnet for the first of these, so what
// arrives from it for 127.0.0.0/8 is dropped before routing: a container
// must not reach the host's loopback services (replies to the host's
// 127.0.0.1 are still addressed to the gateway there).
//
// Last, the bridge's two rules in the shared isolation chains (below):
// what comes in from it and goes out to another nerd bridge is dropped,
// published ports aside.
func bridgeRules(n *Network) []rule {
	br := n.Bridge()
	tag := []string{"-m", "comment", "--comment", "nerd:" + br}
	mk := func(table, chain string, spec ...string) rule {
		return rule{table, chain, append(spec, tag...)}
	}
	ports := []rule{
		mk("nat", "POSTROUTING", "-s", "127.0.0.0/8", "-o", br, "-j", "MASQUERADE"),
		mk("nat", "POSTROUTING", "-s", n.Subnet().String(), "-o", br, "-m", "conntrack", "--ctstate", "DNAT", "-j", "MASQUERADE"),
		mk("raw", "PREROUTING", "-d", "127.0.0.0/8", "-i", br, "-j", "DROP"),
		mk("filter", isolationChain1, "-i", br, "!", "-o", br, "-m", "conntrack", "!", "--ctstate", "DNAT", "-j", isolationChain2),
		mk("filter", isolationChain2, "-o", br, "-j", "DROP"),
	}
	if n.Internal {
		return append([]rule{
			mk("filter", "FORWARD", "-i", br, "!", "-o", br, "-j", "DROP"),
			mk("filter", "FORWARD", "-o", br, "!", "-i", br, "-j", "DROP"),
		}, ports...)
	}
	return append([]rule{
		mk("nat", "POSTROUTING", "-s", n.Subnet().String(), "!", "-o", br, "-j", "MASQUERADE"),
		mk("filter", "FORWARD", "-i", br, "-j", "ACCEPT"),
		mk("filter", "FORWARD", "-o", br, "-j", "ACCEPT"),
	}, ports...)
}

// iptables runs iptables (whichever backend the host's iptables is, the
// same the CNI plugins use), waiting for the xtables lock.
func iptables(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "iptables", append([]string{"-w"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("iptables %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Networks are isolated from each other as Docker's are: two filter
// chains shared by every data root, as dockerd's DOCKER-ISOLATION-STAGE-1
// and -2. The first holds, per bridge, "in from it and out elsewhere: go
// to the second", which holds, per bridge, "out to it: DROP"; FORWARD
// jumps to the first before anything else of nerd's. A connection to a
// published port (DNAT'd) may cross: it reaches the other network through
// the host's address, as with Docker's userland proxy.
const (
	isolationChain1 = "NERD-ISOLATION-1"
	isolationChain2 = "NERD-ISOLATION-2"
)

// isolationJump is the FORWARD rule leading to the isolation chains.
var isolationJump = []string{"FORWARD", "-m", "comment", "--comment", "nerd", "-j", isolationChain1}

// rulesMarker says the bridge's rules are in place. Its name changes with
// the set of rules, so a nerd that adds more rules adds them although an
// older one marked the bridge done in this boot.
func (m *Manager) rulesMarker(n *Network) string {
	return filepath.Join(m.runDir(), n.Name+"."+n.ID[:12]+".rules3")
}

// oldRulesMarkers are the markers of earlier sets of rules.
func (m *Manager) oldRulesMarkers(n *Network) []string {
	base := filepath.Join(m.runDir(), n.Name+"."+n.ID[:12])
	return []string{base + ".rules", base + ".rules2"}
}

// ensureRules adds the bridge's rules once per boot (the marker lives on
// tmpfs, like the rules). Callers hold the lock.
func (m *Manager) ensureRules(ctx context.Context, n *Network) error {
	marker := m.rulesMarker(n)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	for _, c := range []string{isolationChain2, isolationChain1} {
		if _, err := iptables(ctx, "-t", "filter", "-S", c); err != nil {
			if _, err := iptables(ctx, "-t", "filter", "-N", c); err != nil {
				return fmt.Errorf("network %s: %w", n.Name, err)
			}
		}
	}
	for _, r := range bridgeRules(n) {
		if _, err := iptables(ctx, append([]string{"-t", r.table, "-C", r.chain}, r.spec...)...); err == nil {
			continue
		}
		op := "-I"
		if r.chain == "POSTROUTING" {
			op = "-A"
		}
		if _, err := iptables(ctx, append([]string{"-t", r.table, op, r.chain}, r.spec...)...); err != nil {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
	}
	// The bridge's ACCEPT rules went first in FORWARD: the jump to the
	// isolation chains goes back above them, in one transaction.
	jump := strings.Join(isolationJump[1:], " ")
	in := "*filter\n-I FORWARD 1 " + jump + "\nCOMMIT\n"
	if _, err := iptables(ctx, append([]string{"-t", "filter", "-C"}, isolationJump...)...); err == nil {
		in = "*filter\n-D FORWARD " + jump + "\n-I FORWARD 1 " + jump + "\nCOMMIT\n"
	}
	if err := iptablesRestore(ctx, in); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	return os.WriteFile(marker, nil, 0o644)
}

// releaseNetwork removes what a network has on the host: its responder,
// rules and bridge. Callers hold the lock and know nothing uses it.
func (m *Manager) releaseNetwork(ctx context.Context, n *Network) {
	m.stopDNS(ctx, n)
	_ = os.Remove(m.dnsLogFile(n))
	for _, r := range bridgeRules(n) {
		for i := 0; i < 8; i++ {
			if _, err := iptables(ctx, append([]string{"-t", r.table, "-D", r.chain}, r.spec...)...); err != nil {
				break
			}
		}
	}
	_ = os.Remove(m.rulesMarker(n))
	for _, f := range m.oldRulesMarkers(n) {
		_ = os.Remove(f)
	}
	if l, err := netlink.LinkByName(n.Bridge()); err == nil {
		if _, ok := l.(*netlink.Bridge); ok {
			_ = netlink.LinkDel(l)
		}
	}
}

// Chains portmap creates and never removes; nerd removes them when no
// container (of any data root, or of another CNI user) has a mapping.
var hostportChains = []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}

// cleanupSharedChains removes the host-wide nat chains when they hold no
// container's rule: nerd's NERD-HOSTPORTS, and the shared chains portmap
// (of an older nerd, or another CNI user) creates and never removes.
// Callers hold the lock.
func (m *Manager) cleanupSharedChains(ctx context.Context) {
	cleanupHostports(ctx)
	cleanupPortmapChains(ctx)
	cleanupIsolation(ctx)
}

// cleanupIsolation removes the isolation chains and the jump to them when
// no bridge has a rule in them.
func cleanupIsolation(ctx context.Context) {
	for _, c := range []string{isolationChain1, isolationChain2} {
		if out, err := iptables(ctx, "-t", "filter", "-S", c); err == nil && strings.Contains(out, "-A "+c+" ") {
			return // still in use
		}
	}
	for i := 0; i < 8; i++ {
		if _, err := iptables(ctx, append([]string{"-t", "filter", "-D"}, isolationJump...)...); err != nil {
			break
		}
	}
	for _, c := range []string{isolationChain1, isolationChain2} {
		_, _ = iptables(ctx, "-t", "filter", "-F", c)
		_, _ = iptables(ctx, "-t", "filter", "-X", c)
	}
}

// cleanupPortmapChains removes portmap's shared nat chains and the jumps
// to them when they hold nothing container-specific.
func cleanupPortmapChains(ctx context.Context) {
	dnat, err := iptables(ctx, "-t", "nat", "-S", "CNI-HOSTPORT-DNAT")
	if err != nil {
		return // no such chain: nothing to do
	}
	if strings.Contains(dnat, "-j CNI-DN-") {
		return // still in use
	}
	all, err := iptables(ctx, "-t", "nat", "-S")
	if err != nil {
		return
	}
	for _, line := range strings.Split(all, "\n") {
		f := splitRule(line)
		if len(f) < 3 || f[0] != "-A" {
			continue
		}
		chain := f[1]
		if isHostportChain(chain) {
			continue
		}
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "-j" && isHostportChain(f[i+1]) {
				_, _ = iptables(ctx, append([]string{"-t", "nat", "-D"}, f[1:]...)...)
				break
			}
		}
	}
	for _, c := range hostportChains {
		_, _ = iptables(ctx, "-t", "nat", "-F", c)
	}
	for _, c := range hostportChains {
		_, _ = iptables(ctx, "-t", "nat", "-X", c)
	}
}

func isHostportChain(c string) bool {
	for _, h := range hostportChains {
		if c == h {
			return true
		}
	}
	return false
}

// splitRule splits a line of iptables -S into arguments; iptables quotes
// arguments with spaces (comments) in double quotes.
func splitRule(line string) []string {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && inQuote && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			inQuote, have = !inQuote, true
		case c == ' ' && !inQuote:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}
