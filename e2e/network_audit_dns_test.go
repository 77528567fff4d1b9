package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/vishvananda/netns"
)

// Audit of issue 4's name resolution: forwarding of other names (to a
// resolver the test runs in its own network namespace, never off the
// machine), the responder's lifecycle, the default bridge.

// testResolver is a DNS server on port 53 of a test host's address (in
// its netns, reached from the host through the veth): it answers A
// queries for its names and NXDOMAIN for the rest, and records what it
// was asked.
type testResolver struct {
	Addr  string // ip, as a nameserver line wants it
	names map[string]string
	mu    sync.Mutex
	asked []string
}

func newTestResolver(t *testing.T, h *testHost, names map[string]string) *testResolver {
	t.Helper()
	tr := &testResolver{Addr: h.PeerIP, names: names}
	var pc net.PacketConn
	var ln net.Listener
	err := h.inNetns(func() (err error) {
		if pc, err = net.ListenPacket("udp4", net.JoinHostPort(h.PeerIP, "53")); err != nil {
			return err
		}
		ln, err = net.Listen("tcp4", net.JoinHostPort(h.PeerIP, "53"))
		return err
	})
	if err != nil {
		if pc != nil {
			pc.Close()
		}
		t.Fatalf("test resolver in %s: %v", h.NS, err)
	}
	handler := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(req)
		if len(req.Question) == 1 {
			q := req.Question[0]
			name := strings.TrimSuffix(strings.ToLower(q.Name), ".")
			tr.mu.Lock()
			tr.asked = append(tr.asked, name)
			tr.mu.Unlock()
			ip, ok := tr.names[name]
			switch {
			case !ok:
				m.Rcode = mdns.RcodeNameError
			case q.Qtype == mdns.TypeA:
				m.Answer = append(m.Answer, &mdns.A{Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 5}, A: net.ParseIP(ip)})
			}
		}
		_ = w.WriteMsg(m)
	})
	udp := &mdns.Server{PacketConn: pc, Handler: handler}
	tcp := &mdns.Server{Listener: ln, Handler: handler}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
		pc.Close()
		ln.Close()
	})
	return tr
}

// inNetns runs fn on a thread inside the test host's network namespace:
// the sockets fn opens live there (and stay there). The thread is never
// unlocked: it dies with its goroutine rather than go back to the pool in
// the wrong namespace.
func (h *testHost) inNetns(fn func() error) error {
	done := make(chan error)
	go func() {
		runtime.LockOSThread()
		ns, err := netns.GetFromName(h.NS)
		if err != nil {
			done <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			done <- err
			return
		}
		done <- fn()
	}()
	return <-done
}

// wasAsked reports whether any query for name reached the resolver.
func (tr *testResolver) wasAsked(name string) bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, n := range tr.asked {
		if n == name {
			return true
		}
	}
	return false
}

// responders are the nerd-dns processes listening on gw (by command line:
// nerd-dns --listen <gw>:53 …).
func responders(gw string) []int {
	var out []int
	for _, pid := range allPids() {
		cl := procCmdline(pid)
		if strings.Contains(cl, "nerd-dns") && strings.Contains(cl, "--listen "+gw+":53 ") && procAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// listening53 reports whether a UDP socket is bound to gw:53 (ss).
func listening53(t testing.TB, gw string) bool {
	out, _ := sh(t, "ss", "-Hlnu", "src", gw, "sport", "=", ":53")
	return strings.TrimSpace(out) != ""
}

// The responder forwards names it does not know: to the container's --dns
// (here a resolver in a test netns), answers containers' names itself,
// and passes NXDOMAIN back.
func TestNetworkAuditDNSForwardToDNSFlag(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	h := newTestHost(t)
	tr := newTestResolver(t, h, map[string]string{"ext.audit.test": "192.0.2.77"})
	e.nerdOK("network", "create", "fwd")
	e.runD(withSleeper("--name", "db1", "--network", "fwd", "busybox")...)
	r := e.nerdOK("run", "--rm", "--network", "fwd", "--dns", tr.Addr, "--dns-search", "x.test", "--dns-option", "ndots:2", "busybox", "sh", "-c",
		"cat /etc/resolv.conf; nslookup ext.audit.test; ping -c1 -W3 db1 >/dev/null && echo db1-ok")
	gw := e.netInspect("fwd").IPAM.Config[0].Gateway
	if want := "nameserver " + gw + "\nsearch x.test\noptions ndots:2\n"; !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("--dns* on a user network: the container asks the responder (%s), with the search and options given:\n%s", gw, r.Stdout)
	}
	if !strings.Contains(r.Stdout, "Address: 192.0.2.77") || !tr.wasAsked("ext.audit.test") {
		t.Errorf("ext.audit.test not forwarded to the --dns server:\n%s", r)
	}
	if !strings.Contains(r.Stdout, "db1-ok") {
		t.Errorf("db1 not resolved next to forwarding:\n%s", r)
	}
	if tr.wasAsked("db1") {
		t.Errorf("the responder forwarded a container name (db1) instead of answering it")
	}
	r = e.within(60*time.Second).nerd("run", "--rm", "--network", "fwd", "--dns", tr.Addr, "busybox", "nslookup", "nosuch.audit.test")
	if r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "NXDOMAIN") || !tr.wasAsked("nosuch.audit.test") {
		t.Errorf("an unknown name: want the upstream's NXDOMAIN:\n%s", r)
	}
}

// Without --dns, other names go to the host's resolvers, loopback ones
// included (the responder runs on the host). The host's resolv.conf is
// replaced for one `nerd run` by a bind mount in a private mount
// namespace, so the machine's own file is never touched.
func TestNetworkAuditDNSForwardToHostResolvers(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	h := newTestHost(t)
	tr := newTestResolver(t, h, map[string]string{"host.audit.test": "192.0.2.88"})
	e.nerdOK("network", "create", "hostfwd")
	fake := filepath.Join(e.Dir, "host-resolv.conf")
	if err := os.WriteFile(fake, []byte(fmt.Sprintf("nameserver %s\nsearch audit.test\noptions timeout:2\n", tr.Addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run(nil, "unshare", "-m", "--propagation", "slave", "sh", "-c",
		fmt.Sprintf(`mount --bind %s /etc/resolv.conf && exec "$0" run --rm --network hostfwd busybox sh -c 'cat /etc/resolv.conf; nslookup host.audit.test'`, fake), nerdBin)
	if r.Code != 0 {
		t.Fatalf("run with the test's resolv.conf:\n%s", r)
	}
	gw := e.netInspect("hostfwd").IPAM.Config[0].Gateway
	// Docker's file for an internal resolver: its address, the host's
	// search and options, and ndots:0.
	if want := fmt.Sprintf("nameserver %s\nsearch audit.test\noptions timeout:2 ndots:0\n", gw); !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("resolv.conf on a user network:\n%s\nwant\n%s", r.Stdout, want)
	}
	if !strings.Contains(r.Stdout, "Address: 192.0.2.88") || !tr.wasAsked("host.audit.test") {
		t.Errorf("host.audit.test not forwarded to the host's resolver:\n%s", r)
	}
}

// The default bridge: the host's resolvers with loopback (and, with IPv6
// off, IPv6) nameservers removed, Google's when none is left, as Docker
// does; the host's search and options kept.
func TestNetworkAuditResolvConfFilter(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for _, c := range []struct{ host, want string }{
		{"nameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\nnameserver 2001:db8::1\nsearch a.test b.test\noptions edns0 trust-ad\n",
			"nameserver 192.0.2.1\nsearch a.test b.test\noptions edns0 trust-ad\n"},
		{"# only local\nnameserver 127.0.0.1\nnameserver 127.0.1.1\nsearch c.test\n",
			"nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch c.test\n"},
	} {
		fake := filepath.Join(e.Dir, "host-resolv.conf")
		if err := os.WriteFile(fake, []byte(c.host), 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.run(nil, "unshare", "-m", "--propagation", "slave", "sh", "-c",
			fmt.Sprintf(`mount --bind %s /etc/resolv.conf && exec "$0" run --rm busybox cat /etc/resolv.conf`, fake), nerdBin)
		if r.Code != 0 || r.Stdout != c.want {
			t.Errorf("host resolv.conf\n%s\ngave the container\n%s\nwant\n%s\n%s", c.host, r.Stdout, c.want, r)
		}
	}
}

// The responder starts with the network's first running container, stays
// while one runs, stops with the last one (stop, kill -9 of the monitor
// then rm -f), and the default bridge never gets one.
func TestNetworkAuditDNSLifecycle(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "life")
	gw := e.netInspect("life").IPAM.Config[0].Gateway
	state := func() string {
		return fmt.Sprintf("%d responders, listening %v", len(responders(gw)), listening53(t, gw))
	}
	if s := state(); s != "0 responders, listening false" {
		t.Fatalf("a network with no container: %s", s)
	}
	e.nerdOK("create", "--name", "l1", "--network", "life", "busybox", "sleep", "300")
	if s := state(); s != "0 responders, listening false" {
		t.Errorf("a network with only a created container: %s", s)
	}
	e.nerdOK("start", "l1")
	if s := state(); s != "1 responders, listening true" {
		t.Errorf("after the first start: %s", s)
	}
	id2 := e.runD(withSleeper("--name", "l2", "--network", "life", "busybox")...)
	pids := responders(gw)
	e.nerdOK("stop", "-t", "1", "l1")
	if got := responders(gw); len(got) != 1 || len(pids) != 1 || got[0] != pids[0] {
		t.Errorf("with l2 still running: responders %v, before %v", got, pids)
	}
	if r := e.nerd("run", "--rm", "--network", "life", "busybox", "nslookup", "l2"); r.Code != 0 {
		t.Errorf("l2 not resolved after l1 stopped:\n%s", r)
	}
	// The last one goes by kill -9 of its monitor, then rm -f.
	if err := killPid(e.readState(id2).MonitorPid); err != nil {
		t.Fatal(err)
	}
	e.nerdOK("rm", "-f", "l2")
	eventually(t, 10*time.Second, "no responder after the last container", func() (bool, string) {
		s := state()
		return s == "0 responders, listening false", s
	})
	e.nerdOK("start", "l1")
	if s := state(); s != "1 responders, listening true" {
		t.Errorf("after a restart of l1: %s", s)
	}
	e.nerdOK("rm", "-f", "l1")
	eventually(t, 10*time.Second, "no responder after rm -f", func() (bool, string) {
		s := state()
		return s == "0 responders, listening false", s
	})
	// The default bridge runs no responder and resolves no names (its
	// containers ask the host's resolvers: --dns 127.0.0.1, where nothing
	// listens, keeps the probe on the machine), while the address answers.
	e.runD(withSleeper("--name", "plainx", "busybox")...)
	ip := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "plainx").Stdout)
	if n := len(responders(e.Net.Prefix + "1")); n != 0 || listening53(t, e.Net.Prefix+"1") {
		t.Errorf("the default bridge has a responder (%d)", n)
	}
	if r := e.nerdOK("run", "--rm", "busybox", "cat", "/etc/resolv.conf"); strings.Contains(r.Stdout, e.Net.Prefix) {
		t.Errorf("the default bridge's resolv.conf names the bridge:\n%s", r.Stdout)
	}
	r := e.nerd("run", "--rm", "--dns", "127.0.0.1", "busybox", "sh", "-c", "ping -c1 -W3 "+ip+" >/dev/null && echo by-ip; grep -cw plainx /etc/hosts; ping -c1 -W1 plainx || echo no-name")
	if !strings.HasPrefix(r.Stdout, "by-ip\n0\n") || !strings.HasSuffix(r.Stdout, "no-name\n") {
		t.Errorf("default bridge: want plainx reachable by address only:\n%s", r)
	}
}

func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
