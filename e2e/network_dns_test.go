package e2e

import (
	"strings"
	"testing"
)

// Two containers on a user network find each other by name and by alias;
// the default bridge resolves no container names (as in Docker).
func TestNetworkUserDNS(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "appnet")
	e.runD(withSleeper("--name", "db1", "--network", "appnet", "--network-alias", "database", "busybox")...)
	r := e.nerdOK("run", "--rm", "--network", "appnet", "busybox", "sh", "-c",
		"ping -c1 -W3 db1 >/dev/null && echo name-ok; ping -c1 -W3 database >/dev/null && echo alias-ok; cat /etc/resolv.conf")
	for _, want := range []string{"name-ok", "alias-ok", "nameserver " + e.Net.poolPrefixes()[0] + "1"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("user network: want %q in:\n%s", want, r.Stdout)
		}
	}
	// Names the responder does not know are forwarded: to a resolver of
	// the test's own (--dns), so no query leaves the machine. A name
	// nobody has is NXDOMAIN, not a hang.
	tr := newTestResolver(t, newTestHost(t), map[string]string{})
	r = e.within(30*1e9).nerd("run", "--rm", "--network", "appnet", "--dns", tr.Addr, "busybox", "nslookup", "nosuchname")
	if r.Code == 0 || !tr.wasAsked("nosuchname") {
		t.Errorf("nslookup nosuchname: want the test resolver asked and a failure:\n%s", r)
	}

	// Default bridge: no names (the container asks the test resolver,
	// which knows none).
	e.runD(withSleeper("--name", "plain1", "busybox")...)
	r = e.nerd("run", "--rm", "--dns", tr.Addr, "busybox", "sh", "-c", "ping -c1 -W1 plain1")
	if r.Code == 0 {
		t.Errorf("the default bridge resolved a container name:\n%s", r)
	}
	if !tr.wasAsked("plain1") {
		t.Errorf("the default bridge container did not ask its resolver for plain1")
	}
	// The network is in use: rm refuses.
	e.nerdFail(1, []string{"network", "rm", "appnet"}, `has active endpoints`)
}

func TestNetworkConnectDisconnect(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "front")
	e.nerdOK("network", "create", "back")
	e.runD(withSleeper("--name", "api", "--network", "back", "busybox")...)
	e.runD(withSleeper("--name", "web", "--network", "front", "busybox")...)
	ping := func(from, to string) bool {
		return e.nerd("exec", from, "ping", "-c1", "-W2", to).Code == 0
	}
	if ping("web", "api") {
		t.Fatal("web reached api before being connected to back")
	}
	e.nerdOK("network", "connect", "--alias", "gateway", "back", "web")
	if !ping("web", "api") || !ping("api", "gateway") {
		t.Fatal("after connect: web and api do not reach each other")
	}
	r := e.nerdOK("inspect", "-f", "{{len .NetworkSettings.Networks}} {{index .NetworkSettings.Networks.back.Aliases 0}}", "web")
	if strings.TrimSpace(r.Stdout) != "2 gateway" {
		t.Errorf("inspect after connect: %q", r.Stdout)
	}
	e.nerdFail(1, []string{"network", "rm", "back"}, `has active endpoints`)
	e.nerdOK("network", "disconnect", "back", "web")
	if ping("web", "api") {
		t.Fatal("web still reaches api after disconnect")
	}
	r = e.nerdOK("network", "inspect", "-f", "{{len .Containers}}", "back")
	if strings.TrimSpace(r.Stdout) != "1" {
		t.Errorf("back has %s containers after disconnect, want 1", r.Stdout)
	}
}
