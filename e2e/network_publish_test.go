package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// hostportRules are the host's DNAT rules of container id (nerd tags them
// with the container's ID).
func hostportRules(t testing.TB, id string) []string {
	t.Helper()
	out := mustSh(t, "iptables-save", "-t", "nat")
	var rules []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"nerd:`+id+`"`) || strings.Contains(line, " nerd:"+id+" ") {
			rules = append(rules, line)
		}
	}
	return rules
}

// nginxClient is the address nginx logged for the request whose query
// string is tag (the access log is the container's stdout).
func (e *env) nginxClient(name, tag string) string {
	e.t.Helper()
	var client string
	eventually(e.t, 5*time.Second, "access log line for "+tag, func() (bool, string) {
		r := e.nerd("logs", name)
		for _, line := range strings.Split(r.Stdout, "\n") {
			if strings.Contains(line, `"GET /?`+tag+` `) {
				client = strings.Fields(line)[0]
				return true, line
			}
		}
		return false, r.Stdout
	})
	return client
}

// A container reaches another container's published port through the
// host's address (hairpin) and through its gateway; those connections are
// masqueraded (the replies must come back through the host), while direct
// container-to-container traffic and traffic from other hosts keep their
// source address. After rm -f the DNAT rules are gone.
func TestNetworkPublishHairpin(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.pullOK("nginx")
	h := newTestHost(t)
	port := freeHostPort(t)
	web := e.runD(append([]string{"--name", "web", "-p", fmt.Sprintf("%d:80", port)}, nginxCmd...)...)
	e.runD(withSleeper("--name", "cl", "busybox")...)
	gw := e.Net.Prefix + "1"
	ipOf := func(name string) string {
		return strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).Stdout)
	}
	webIP, clIP := ipOf("web"), ipOf("cl")
	eventuallyGet(t, func() (string, error) { return httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/?local", port)) }, "nginx")

	get := func(url string) (string, error) {
		// (busybox 1.35's wget -T crashes)
		r := e.nerd("exec", "cl", "timeout", "5", "wget", "-q", "-O", "-", url)
		if r.Code != 0 {
			return r.Stdout, fmt.Errorf("wget %s: exit %d: %s", url, r.Code, r.Stderr)
		}
		return r.Stdout, nil
	}
	eventuallyGet(t, func() (string, error) { return get(fmt.Sprintf("http://%s:%d/?hairpin", h.HostIP, port)) }, "nginx")
	eventuallyGet(t, func() (string, error) { return get(fmt.Sprintf("http://%s:%d/?gateway", gw, port)) }, "nginx")
	eventuallyGet(t, func() (string, error) { return get(fmt.Sprintf("http://%s:80/?direct", webIP)) }, "nginx")
	eventuallyGet(t, func() (string, error) {
		return h.exec(t, "curl", "-sS", "--max-time", "5", fmt.Sprintf("http://%s:%d/?remote", h.HostIP, port))
	}, "nginx")

	for tag, want := range map[string]string{"local": gw, "hairpin": gw, "gateway": gw, "direct": clIP, "remote": h.PeerIP} {
		if got := e.nginxClient("web", tag); got != want {
			t.Errorf("%s: nginx saw the client as %s, want %s", tag, got, want)
		}
	}

	if rules := hostportRules(t, web); len(rules) != 1 {
		t.Errorf("DNAT rules of web: %q, want one", rules)
	}
	e.nerdOK("rm", "-f", "web")
	if rules := hostportRules(t, web); len(rules) != 0 {
		t.Errorf("DNAT rules left after rm -f: %q", rules)
	}
	if _, err := get(fmt.Sprintf("http://%s:%d/", h.HostIP, port)); err == nil {
		t.Errorf("the port still serves after rm -f")
	}
}

// Two containers publish different ports: removing one removes its rules
// only, and the other keeps serving.
func TestNetworkPublishTwoContainers(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	httpd := func(name, text string, ports ...string) string {
		args := []string{"--name", name}
		for _, p := range ports {
			args = append(args, "-p", p)
		}
		return e.runD(append(args, "busybox", "sh", "-c",
			"mkdir -p /www && echo "+text+" > /www/index.html && exec httpd -f -p 8080 -h /www")...)
	}
	pa, pa2, pb := freeHostPort(t), freeHostPort(t), freeHostPort(t)
	a := httpd("ca", "from-a", fmt.Sprintf("%d:8080", pa), fmt.Sprintf("127.0.0.1:%d:8080", pa2), "9999/udp")
	b := httpd("cb", "from-b", fmt.Sprintf("%d:8080", pb))
	for p, want := range map[int]string{pa: "from-a", pa2: "from-a", pb: "from-b"} {
		url := fmt.Sprintf("http://127.0.0.1:%d/", p)
		eventuallyGet(t, func() (string, error) { return httpGet(t, url) }, want)
	}
	if ra, rb := hostportRules(t, a), hostportRules(t, b); len(ra) != 3 || len(rb) != 1 {
		t.Fatalf("rules: a %q, b %q", ra, rb)
	}

	e.nerdOK("rm", "-f", "ca")
	if ra := hostportRules(t, a); len(ra) != 0 {
		t.Errorf("rules of ca left after rm -f ca: %q", ra)
	}
	if rb := hostportRules(t, b); len(rb) != 1 {
		t.Errorf("rules of cb after rm -f ca: %q", rb)
	}
	if out, err := httpGet(t, fmt.Sprintf("http://127.0.0.1:%d/", pb)); err != nil || !strings.Contains(out, "from-b") {
		t.Errorf("cb after rm -f ca: %v %q", err, out)
	}
	e.nerdOK("rm", "-f", "cb")
	if rb := hostportRules(t, b); len(rb) != 0 {
		t.Errorf("rules of cb left after rm -f cb: %q", rb)
	}
}

// freeUDPPort is a UDP port nothing is bound to right now.
func freeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// udpEcho is a UDP echo server on port 9000 in the nginx image's perl.
var udpEcho = []string{"perl", "-MIO::Socket::INET", "-e",
	`my $s = IO::Socket::INET->new(LocalPort => 9000, Proto => "udp") or die "$!";
	 while (1) { my $peer = $s->recv(my $m, 1024); $s->send("echo:$m", 0, $peer) }`}

// UDP ports are published too, on all addresses and on 127.0.0.1; a UDP
// flow that went to the host port before the container started is not
// stuck there by a stale conntrack entry.
func TestNetworkPublishUDP(t *testing.T) {
	t.Parallel()
	e := newBareContainerEnv(t)
	e.pullOK("nginx")
	h := newTestHost(t)
	port, lport := freeUDPPort(t), freeUDPPort(t)

	// A client whose flow went to a program on the host before the
	// container: conntrack remembers it as one to the host itself (and
	// would keep sending it to the port's socket, which the container's
	// monitor holds, if nerd did not forget it). A first container makes
	// sure conntrack is on (the kernel tracks only while a rule needs it).
	e.runD(withSleeper("--name", "first", "-p", fmt.Sprintf("%d:80", freeHostPort(t)), "nginx")...)
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("early")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = srv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, from, err := srv.ReadFromUDP(buf); err != nil {
		t.Fatal(err)
	} else if _, err := srv.WriteToUDP([]byte("host"), from); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	e.runD(append([]string{"--name", "echo", "-p", fmt.Sprintf("%d:9000/udp", port),
		"-p", fmt.Sprintf("127.0.0.1:%d:9000/udp", lport), "nginx"}, udpEcho...)...)
	ask := func(c *net.UDPConn, msg string) (string, error) {
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		buf := make([]byte, 64)
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Read(buf)
		return string(buf[:n]), err
	}
	eventuallyGet(t, func() (string, error) { return ask(c, "same-flow") }, "echo:same-flow")

	lc, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: lport})
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	eventuallyGet(t, func() (string, error) { return ask(lc, "loopback") }, "echo:loopback")

	eventuallyGet(t, func() (string, error) {
		return h.exec(t, "bash", "-c", fmt.Sprintf(
			`exec 3<>/dev/udp/%s/%d; printf remote >&3; timeout 1 head -c 11 <&3`, h.HostIP, port))
	}, "echo:remote")
}
