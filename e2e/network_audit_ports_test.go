package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Audit of issue 4's published ports and outbound traffic: each -p form
// served end to end, `port`, inspect's Ports, ps's PORTS; masquerading
// and the restart policy on a user network.

// freePortRun is the first of n consecutive TCP ports nothing listens on.
func freePortRun(t testing.TB, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		first := freeHostPort(t)
		if first+n > 65535 {
			continue
		}
		ok := true
		for p := first + 1; p < first+n && ok; p++ {
			l, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return first
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// httpdScript serves "<name>-<port>" on each port given (busybox httpd).
func httpdScript(name string, ports ...int) []string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "mkdir -p /www%d && echo %s-%d > /www%d/index.html && httpd -p %d -h /www%d; ", p, name, p, p, p, p)
	}
	b.WriteString("trap 'exit 0' TERM; while :; do sleep 1 & wait $!; done")
	return []string{"busybox", "sh", "-c", b.String()}
}

func TestNetworkAuditPublishForms(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.pullOK("nginx")
	h := newTestHost(t)
	local := func(port int) func() (string, error) {
		return func() (string, error) { return httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)) }
	}
	remote := func(ip string, port int) func() (string, error) {
		return func() (string, error) {
			return h.exec(t, "curl", "-sS", "--max-time", "3", fmt.Sprintf("http://%s:%d/", ip, port))
		}
	}
	inspectPorts := func(name string) string {
		return strings.TrimSpace(e.nerdOK("inspect", "-f", "{{json .NetworkSettings.Ports}}", name).Stdout)
	}

	// -P: the image's EXPOSE on a random port, served from here and from
	// another host.
	e.runD(append([]string{"--name", "all", "-P"}, nginxCmd...)...)
	r := e.nerdOK("port", "all")
	var rnd int
	if _, err := fmt.Sscanf(r.Stdout, "80/tcp -> 0.0.0.0:%d\n", &rnd); err != nil || r.Stdout != fmt.Sprintf("80/tcp -> 0.0.0.0:%d\n", rnd) {
		t.Fatalf("port all: %q", r.Stdout)
	}
	eventuallyGet(t, local(rnd), "nginx")
	eventuallyGet(t, remote(h.HostIP, rnd), "nginx")
	if got, want := inspectPorts("all"), fmt.Sprintf(`{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"%d"}]}`, rnd); got != want {
		t.Errorf("inspect Ports of -P: %s, want %s", got, want)
	}
	// EXPOSE without -P: listed, not published.
	e.runD(append([]string{"--name", "unpub"}, nginxCmd...)...)
	if got := inspectPorts("unpub"); got != `{"80/tcp":null}` {
		t.Errorf("inspect Ports of an exposed, unpublished port: %s", got)
	}
	if r := e.nerdOK("ps", "--filter", "name=unpub", "--format", "{{.Ports}}"); r.Stdout != "80/tcp\n" {
		t.Errorf("ps PORTS of an exposed, unpublished port: %q", r.Stdout)
	}
	if r := e.nerdOK("port", "unpub"); r.Stdout != "" {
		t.Errorf("port of an unpublished container: %q", r.Stdout)
	}

	// HOSTRANGE:RANGE, one to one.
	p := freePortRun(t, 2)
	e.runD(append([]string{"--name", "rng", "-p", fmt.Sprintf("%d-%d:8080-8081", p, p+1)}, httpdScript("rng", 8080, 8081)...)...)
	eventuallyGet(t, local(p), "rng-8080")
	eventuallyGet(t, local(p+1), "rng-8081")
	if r := e.nerdOK("port", "rng"); r.Stdout != fmt.Sprintf("8080/tcp -> 0.0.0.0:%d\n8081/tcp -> 0.0.0.0:%d\n", p, p+1) {
		t.Errorf("port rng: %q", r.Stdout)
	}
	if r := e.nerdOK("ps", "--filter", "name=rng", "--format", "{{.Ports}}"); r.Stdout != fmt.Sprintf("0.0.0.0:%d-%d->8080-8081/tcp\n", p, p+1) {
		t.Errorf("ps PORTS of a range: %q", r.Stdout)
	}

	// HOSTRANGE:PORT: the first free port of the range (Docker's dynamic
	// range), here the second one because the test holds the first.
	q := freePortRun(t, 3)
	hold, err := net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", q))
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	e.runD(append([]string{"--name", "dyn", "-p", fmt.Sprintf("%d-%d:8080", q, q+2)}, httpdScript("dyn", 8080)...)...)
	if r := e.nerdOK("port", "dyn", "8080"); r.Stdout != fmt.Sprintf("0.0.0.0:%d\n", q+1) {
		t.Errorf("port dyn 8080: %q, want 0.0.0.0:%d", r.Stdout, q+1)
	}
	eventuallyGet(t, local(q+1), "dyn-8080")

	// PORT alone: a random host port.
	e.runD(append([]string{"--name", "one", "-p", "8080"}, httpdScript("one", 8080)...)...)
	var one int
	if _, err := fmt.Sscanf(e.nerdOK("port", "one", "8080/tcp").Stdout, "0.0.0.0:%d", &one); err != nil {
		t.Fatalf("port one 8080/tcp: %v", err)
	}
	eventuallyGet(t, local(one), "one-8080")

	// IP:HOSTPORT:PORT binds that address only: 127.0.0.1 is not served
	// to other hosts, the veth's address not on 127.0.0.1.
	lo, ext := freeHostPort(t), freeHostPort(t)
	e.runD(append([]string{"--name", "ips", "-p", fmt.Sprintf("127.0.0.1:%d:8080/tcp", lo), "-p", fmt.Sprintf("%s:%d:8081", h.HostIP, ext)}, httpdScript("ips", 8080, 8081)...)...)
	eventuallyGet(t, local(lo), "ips-8080")
	eventuallyGet(t, remote(h.HostIP, ext), "ips-8081")
	if out, err := remote(h.HostIP, lo)(); err == nil {
		t.Errorf("a 127.0.0.1 mapping served another host: %q", out)
	}
	if out, err := local(ext)(); err == nil {
		t.Errorf("a mapping on %s served 127.0.0.1: %q", h.HostIP, out)
	}
	want := fmt.Sprintf(`{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"%d"}],"8081/tcp":[{"HostIp":"%s","HostPort":"%d"}]}`, lo, h.HostIP, ext)
	if got := inspectPorts("ips"); got != want {
		t.Errorf("inspect Ports of IP mappings: %s, want %s", got, want)
	}
	if r := e.nerdOK("port", "ips"); r.Stdout != fmt.Sprintf("8080/tcp -> 127.0.0.1:%d\n8081/tcp -> %s:%d\n", lo, h.HostIP, ext) {
		t.Errorf("port ips: %q", r.Stdout)
	}
	// The same host port on two addresses, for two containers.
	e.runD(append([]string{"--name", "ips2", "-p", fmt.Sprintf("%s:%d:8080", h.HostIP, lo)}, httpdScript("ips2", 8080)...)...)
	eventuallyGet(t, remote(h.HostIP, lo), "ips2-8080")
	eventuallyGet(t, local(lo), "ips-8080")
}

// A user network: outbound traffic leaves masqueraded (the test host sees
// the host's address and has no route to the containers), a published
// port is served, and a container restarted by its policy keeps its name
// and port.
func TestNetworkAuditUserNetOutbound(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	h := newTestHost(t)
	var ln net.Listener
	if err := h.inNetns(func() (err error) {
		ln, err = net.Listen("tcp4", net.JoinHostPort(h.PeerIP, "7777"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		from <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		fmt.Fprint(c, "hello-from-test-host\n")
		c.Close()
	}()
	e.nerdOK("network", "create", "out")
	r := e.nerd("run", "--rm", "--network", "out", "busybox", "sh", "-c",
		fmt.Sprintf("ip -o -4 addr show eth0; timeout 5 nc %s 7777 </dev/null", h.PeerIP))
	if !strings.Contains(r.Stdout, "hello-from-test-host") {
		t.Fatalf("a container on a user network cannot reach the test host:\n%s", r)
	}
	select {
	case src := <-from:
		if src != h.HostIP {
			t.Errorf("the test host saw the connection from %s, want the host's %s (masquerade)", src, h.HostIP)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the test host saw no connection")
	}

	// Restart policy on a user network: the name resolves and the port
	// serves again after each restart.
	port := freeHostPort(t)
	e.runD("--name", "rs", "--network", "out", "--restart", "always", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c",
		"mkdir -p /www && echo rs-up > /www/index.html && httpd -p 8080 -h /www; sleep 2; exit 3")
	eventuallyGet(t, func() (string, error) {
		return h.exec(t, "curl", "-sS", "--max-time", "3", fmt.Sprintf("http://%s:%d/", h.HostIP, port))
	}, "rs-up")
	eventually(t, 30*time.Second, "rs restarted twice", func() (bool, string) {
		r := e.nerd("inspect", "-f", "{{.RestartCount}}", "rs")
		n, _ := strconv.Atoi(strings.TrimSpace(r.Stdout))
		return n >= 2, r.Stdout
	})
	e.runD(withSleeper("--name", "peer", "--network", "out", "busybox")...)
	eventually(t, 30*time.Second, "rs reachable by name from peer after restarts", func() (bool, string) {
		r := e.nerd("exec", "peer", "timeout", "5", "wget", "-q", "-O", "-", "http://rs:8080/")
		return strings.Contains(r.Stdout, "rs-up"), r.String()
	})
	eventuallyGet(t, func() (string, error) { return httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", port)) }, "rs-up")
}

// An --internal network keeps its traffic in: even a container that adds
// a default route through the gateway (NET_ADMIN) reaches nothing
// outside, while the same steps on a plain network do (so the check can
// fail); peers still talk.
func TestNetworkAuditInternal(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	h := newTestHost(t)
	e.nerdOK("network", "create", "--internal", "inner")
	e.nerdOK("network", "create", "outer")
	probe := func(network string) result {
		gw := e.netInspect(network).IPAM.Config[0].Gateway
		return e.within(60*time.Second).nerd("run", "--rm", "--network", network, "--cap-add", "NET_ADMIN", "busybox", "sh", "-c",
			fmt.Sprintf("ip route replace default via %s; ip route; ping -c1 -W2 %s && echo reached", gw, h.PeerIP))
	}
	if r := probe("outer"); !strings.Contains(r.Stdout, "reached") {
		t.Fatalf("a plain network does not reach the test host (the check would prove nothing):\n%s", r)
	}
	if r := probe("inner"); !strings.Contains(r.Stdout, "default via ") || strings.Contains(r.Stdout, "reached") || strings.Contains(r.Stdout, " 0% packet loss") {
		t.Errorf("an internal network's container, given a default route, reached the test host:\n%s", r)
	}
	if r := e.nerdOK("run", "--rm", "--network", "inner", "busybox", "ip", "route"); strings.Contains(r.Stdout, "default") {
		t.Errorf("an internal network's container has a default route:\n%s", r.Stdout)
	}
	e.runD(withSleeper("--name", "in1", "--network", "inner", "busybox")...)
	if r := e.nerd("run", "--rm", "--network", "inner", "busybox", "ping", "-c1", "-W3", "in1"); r.Code != 0 {
		t.Errorf("internal network peers:\n%s", r)
	}
}
