package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// --ip, --mac-address, --hostname, --add-host (host-gateway), --dns*,
// container:NAME and an --internal network.
func TestNetworkRunFlags(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	pool := e.Net.poolPrefixes()
	e.nerdOK("network", "create", "--subnet", pool[2]+"0/24", "--ip-range", pool[2]+"128/25", "fixed")
	r := e.nerdOK("run", "--rm", "--network", "fixed", "--ip", pool[2]+"200", "--mac-address", "02:42:ac:11:00:99",
		"-h", "myhost", "--add-host", "gw:host-gateway", "--add-host", "db:10.1.2.3",
		"busybox", "sh", "-c", "ip -o -4 addr show eth0; ip link show eth0; cat /etc/hosts; hostname")
	for _, want := range []string{pool[2] + "200/24", "02:42:ac:11:00:99", e.Net.Prefix + "1\tgw", "10.1.2.3\tdb", pool[2] + "200\tmyhost", "\nmyhost\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("want %q in:\n%s", want, r.Stdout)
		}
	}
	// Without --ip, addresses come from the ip-range.
	r = e.nerdOK("run", "--rm", "--network", "fixed", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
	var last int
	if i := strings.Index(r.Stdout, pool[2]); i >= 0 {
		fmt.Sscanf(r.Stdout[i+len(pool[2]):], "%d/", &last)
	}
	if last < 128 {
		t.Errorf("address outside the ip-range:\n%s", r.Stdout)
	}
	// --dns on the default network replaces the host's servers.
	r = e.nerdOK("run", "--rm", "--dns", "192.0.2.53", "--dns-search", "example.test", "--dns-option", "ndots:3", "busybox", "cat", "/etc/resolv.conf")
	if r.Stdout != "nameserver 192.0.2.53\nsearch example.test\noptions ndots:3\n" {
		t.Errorf("resolv.conf with --dns:\n%s", r.Stdout)
	}
	// container:NAME shares the target's network namespace.
	e.runD(withSleeper("--name", "target", "busybox")...)
	ip := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "target").Stdout)
	r = e.nerdOK("run", "--rm", "--network", "container:target", "busybox", "ip", "-o", "-4", "addr", "show", "eth0")
	if ip == "" || !strings.Contains(r.Stdout, ip+"/") {
		t.Errorf("container:target sees %q, target has %q", r.Stdout, ip)
	}
	// --network none: only lo; host: the host's interfaces.
	r = e.nerdOK("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link")
	if strings.Contains(r.Stdout, "eth0") || !strings.Contains(r.Stdout, "lo:") {
		t.Errorf("--network none:\n%s", r.Stdout)
	}
	// An internal network reaches its peers but nothing outside.
	e.nerdOK("network", "create", "--internal", "closed")
	e.runD(withSleeper("--name", "in1", "--network", "closed", "busybox")...)
	if r := e.nerd("run", "--rm", "--network", "closed", "busybox", "ping", "-c1", "-W2", "in1"); r.Code != 0 {
		t.Errorf("internal network peers:\n%s", r)
	}
	if r := e.nerd("run", "--rm", "--network", "closed", "busybox", "ping", "-c1", "-W1", e.Net.Prefix+"1"); r.Code == 0 {
		// The gateway is on the host: an internal network has no route out.
		t.Errorf("internal network reached the default bridge's gateway:\n%s", r)
	}
}
