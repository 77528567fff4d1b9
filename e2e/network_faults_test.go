package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestNetworkBadInput(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run", "--network", "nosuchnet", "busybox", "true"}, 125, `network nosuchnet not found`},
		{[]string{"run", "-p", "80:abc", "busybox", "true"}, 125, `invalid containerPort: abc`},
		{[]string{"run", "-p", "x:80", "busybox", "true"}, 125, `invalid hostPort: x`},
		{[]string{"run", "-p", "1.2.3:80:80", "busybox", "true"}, 125, `invalid ip address: 1.2.3`},
		{[]string{"run", "-p", "8000-8002:80-81", "busybox", "true"}, 125, `invalid ranges`},
		{[]string{"run", "-p", "80/sctpx", "busybox", "true"}, 125, `invalid proto: sctpx`},
		{[]string{"run", "--ip", "10.1.1", "busybox", "true"}, 125, `invalid IPv4 address`},
		{[]string{"run", "--ip", "10.1.1.5", "busybox", "true"}, 125, `user defined networks only`},
		{[]string{"run", "--mac-address", "zz", "busybox", "true"}, 125, `not a valid mac address`},
		{[]string{"run", "--add-host", "nohostip", "busybox", "true"}, 125, `bad format for add-host`},
		{[]string{"run", "--dns", "x.y", "busybox", "true"}, 125, `is not an ip address`},
		{[]string{"run", "--network", "host", "--network", "bridge", "busybox", "true"}, 125, `conflicting options`},
		{[]string{"network", "create", "--subnet", "10.1.2.0/33", "bad1"}, 1, `invalid CIDR address`},
		{[]string{"network", "create", "--subnet", "10.1.2.0/24", "--gateway", "10.9.9.1", "bad2"}, 1, `no matching subnet for gateway`},
		{[]string{"network", "create", "--subnet", e.Net.Subnet, "bad3"}, 1, `overlaps`},
		{[]string{"network", "create", "bridge"}, 1, `already exists`},
		{[]string{"network", "rm", "nosuchnet"}, 1, `network nosuchnet not found`},
		{[]string{"network", "rm", "bridge"}, 1, `bridge is a pre-defined network and cannot be removed`},
		{[]string{"network", "rm", "host"}, 1, `host is a pre-defined network and cannot be removed`},
		{[]string{"network", "rm", "none"}, 1, `none is a pre-defined network and cannot be removed`},
		{[]string{"network", "create", "host"}, 1, `already exists`},
		{[]string{"network", "create", "none"}, 1, `already exists`},
		{[]string{"network", "inspect", "nosuchnet"}, 1, `network nosuchnet not found`},
		{[]string{"network", "create", "-d", "overlay", "bad4"}, 1, `not found`},
	}
	for _, c := range cases {
		e.nerdFail(c.code, c.args, c.want)
	}
	// Nothing half-made: no container, no extra network.
	if ids := e.containerIDs(); len(ids) != 0 {
		t.Errorf("bad input left containers: %v", ids)
	}
	// Docker's three predefined networks, and nothing else.
	r := e.nerdOK("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}")
	if r.Stdout != "bridge bridge local\nhost host local\nnone null local\n" {
		t.Errorf("bad input left networks, or the predefined ones are not listed:\n%s", r.Stdout)
	}
	if r := e.nerdOK("network", "ls", "-q", "--filter", "type=custom"); r.Stdout != "" {
		t.Errorf("ls --filter type=custom: %q, want nothing", r.Stdout)
	}
	// host and none are modes: inspectable, never connected to.
	r = e.nerdOK("network", "inspect", "-f", "{{.Name}} {{.Driver}} {{len .IPAM.Config}}", "host", "none")
	if r.Stdout != "host host 0\nnone null 0\n" {
		t.Errorf("inspect host none: %q", r.Stdout)
	}
	hostID := strings.TrimSpace(e.nerdOK("network", "inspect", "-f", "{{.Id}}", "host").Stdout)
	if again := strings.TrimSpace(e.nerdOK("network", "inspect", "-f", "{{.Id}}", hostID[:12]).Stdout); again != hostID {
		t.Errorf("host network by ID prefix: %q, want %q", again, hostID)
	}
	e.runD(withSleeper("--name", "conn", "busybox")...)
	e.nerdFail(1, []string{"network", "connect", "host", "conn"}, `container cannot be disconnected from host network or connected to host network`)
	e.nerdFail(1, []string{"network", "disconnect", "none", "conn"}, `container cannot be disconnected from none network or connected to none network`)
	e.nerdOK("rm", "-f", "conn")
	if r := e.nerdOK("network", "prune", "-f"); strings.Contains(r.Stdout, "host") || strings.Contains(r.Stdout, "none") {
		t.Errorf("network prune removed a predefined network:\n%s", r.Stdout)
	}
	// A second user network gets a subnet that overlaps nothing.
	e.nerdOK("network", "create", "n1")
	e.nerdOK("network", "create", "n2")
	s1 := strings.TrimSpace(e.nerdOK("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "n1").Stdout)
	s2 := strings.TrimSpace(e.nerdOK("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "n2").Stdout)
	if s1 == s2 || !strings.HasPrefix(s1, e.Net.poolPrefixes()[0]) {
		t.Errorf("subnets %s and %s (pool %s)", s1, s2, e.Net.Pool)
	}
	e.nerdFail(1, []string{"network", "create", "--subnet", s1, "n3"}, `overlaps`)
	r = e.nerdOK("network", "ls", "--filter", "name=n1", "--format", "{{.Name}} {{.Driver}}")
	if strings.TrimSpace(r.Stdout) != "n1 bridge" {
		t.Errorf("ls --filter name=n1: %q", r.Stdout)
	}
	r = e.nerdOK("network", "ls")
	if !strings.HasPrefix(r.Stdout, "NETWORK ID     NAME      DRIVER    SCOPE\n") {
		t.Errorf("ls header:\n%s", r.Stdout)
	}
	// Bare inspect finds networks too.
	r = e.nerdOK("inspect", "-f", "{{.Name}} {{.Driver}}", "n2")
	if strings.TrimSpace(r.Stdout) != "n2 bridge" {
		t.Errorf("inspect n2: %q", r.Stdout)
	}
	e.nerdOK("network", "rm", "n1", "n2")
}

// A host port that is taken fails the run before the container starts:
// Docker's message, exit 125, the container stays Created.
func TestNetworkPortInUse(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	e.nerdFail(125, withSleeper("run", "-d", "--name", "taken", "-p", fmt.Sprintf("%d:80", port), "busybox"),
		fmt.Sprintf(`failed to bind port 0.0.0.0:%d/tcp: Error starting userland proxy: listen tcp4 0.0.0.0:%d: bind: address already in use`, port, port))
	if s := e.status("taken"); s != "created" {
		t.Errorf("status after port in use: %q, want created", s)
	}
	// A port published by one container is taken for the next one.
	l.Close()
	e.runD(withSleeper("--name", "first", "-p", fmt.Sprintf("%d:80", port), "busybox")...)
	e.nerdFail(125, withSleeper("run", "-d", "-p", fmt.Sprintf("%d:81", port), "busybox"), `address already in use`)
	// -P picks random ports for EXPOSE; a udp range too.
	id := e.runD(withSleeper("--name", "rnd", "--expose", "7000", "-P", "-p", "127.0.0.1::9000-9001/udp", "busybox")...)
	r := e.nerdOK("port", "rnd")
	lines := r.Lines()
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "7000/tcp -> 0.0.0.0:") || !strings.HasPrefix(lines[1], "9000/udp -> 127.0.0.1:") {
		t.Errorf("port rnd:\n%s", r.Stdout)
	}
	_ = id
}

// 30 containers started at once on one network get distinct addresses;
// after rm -f nothing is left: no IPAM entry, no rule, no veth.
func TestNetworkParallelRuns(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "par")
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.within(120 * time.Second).nerd(withSleeper("run", "-d", "--name", fmt.Sprintf("p%d", i), "--network", "par", "-p", "80", "busybox")...)
			if r.Code != 0 {
				errs <- r.String()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Errorf("parallel run failed:\n%s", msg)
	}
	r := e.nerdOK("network", "inspect", "-f", "{{range .Containers}}{{.IPv4Address}} {{end}}", "par")
	ips := strings.Fields(r.Stdout)
	seen := map[string]bool{}
	for _, ip := range ips {
		if seen[ip] {
			t.Errorf("address %s given twice", ip)
		}
		seen[ip] = true
	}
	if len(ips) != n {
		t.Errorf("%d addresses for %d containers: %v", len(ips), n, ips)
	}
	e.nerdOK(append([]string{"rm", "-f"}, e.containerIDs()...)...)
	ipam, _ := filepath.Glob(filepath.Join(e.Root, "networks", "ipam", "par", "*.*.*.*"))
	if len(ipam) != 0 {
		t.Errorf("IPAM entries left after rm -f: %v", ipam)
	}
	e.nerdOK("network", "rm", "par")
}

// kill -9 of a monitor, then rm -f: the address, the DNAT rules and the
// responder are released although no poststop hook ran.
func TestNetworkKillMonitor(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "kn")
	id := e.runD(withSleeper("--name", "k1", "--network", "kn", "-p", "80", "busybox")...)
	st := e.readState(id)
	if err := syscall.Kill(st.MonitorPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.nerdOK("rm", "-f", "k1")
	ipam, _ := filepath.Glob(filepath.Join(e.Root, "networks", "ipam", "kn", "*.*.*.*"))
	if len(ipam) != 0 {
		t.Errorf("IPAM entries left after rm -f: %v", ipam)
	}
	out, _ := sh(t, "iptables-save", "-t", "nat")
	for _, line := range strings.Split(out, "\n") {
		for _, p := range e.Net.poolPrefixes() {
			if strings.Contains(line, p) && strings.Contains(line, "-j DNAT") {
				t.Errorf("DNAT rule left: %s", line)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(e.Root, "containers", id)); err == nil {
		t.Errorf("container dir still there")
	}
	e.nerdOK("network", "rm", "kn")
}
