package e2e

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Audit of issue 4's run flags (see also network_flags_test.go): what the
// first tests left out or could not fail on.

// --network host shares the host's stack: its links, its loopback
// services, its hostname, /etc/hosts and resolv.conf; -p is dropped with
// Docker's warning.
func TestNetworkAuditHostMode(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	h := newTestHost(t)
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "host-loopback-ok") })}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	r := e.nerdOK("run", "--rm", "--network", "host", "busybox", "sh", "-c", fmt.Sprintf(
		"ip -o link; echo; hostname; cat /etc/hostname; timeout 5 wget -q -O - http://%s/", l.Addr()))
	links, rest, _ := strings.Cut(r.Stdout, "\n\n")
	if !strings.Contains(links, " "+h.hostIf+"@") && !strings.Contains(links, " "+h.hostIf+":") {
		t.Errorf("--network host does not see the host's link %s:\n%s", h.hostIf, links)
	}
	if want := hostname + "\n" + hostname + "\nhost-loopback-ok"; rest != want {
		t.Errorf("--network host: hostname, /etc/hostname and a host loopback service:\n%q\nwant\n%q", rest, want)
	}
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf"} {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.nerdOK("run", "--rm", "--network", "host", "busybox", "cat", f).Stdout; got != string(want) {
			t.Errorf("--network host: %s is not the host's:\n%s\nwant\n%s", f, got, want)
		}
	}

	r = e.nerdOK("run", "-d", "--name", "hn", "--network", "host", "-p", "8080:80", "busybox", "sleep", "60")
	if !strings.Contains(r.Stderr, "WARNING: Published ports are discarded when using host network mode") {
		t.Errorf("-p with --network host: want Docker's warning:\n%s", r)
	}
	r = e.nerdOK("inspect", "-f", `{{.HostConfig.NetworkMode}}|{{.Config.Hostname}}|{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}};{{end}}|{{.NetworkSettings.IPAddress}}|{{json .NetworkSettings.Ports}}`, "hn")
	if want := "host|" + hostname + "|host=;||{}\n"; r.Stdout != want {
		t.Errorf("inspect of a host-mode container: %q, want %q", r.Stdout, want)
	}
	if r := e.nerdOK("port", "hn"); r.Stdout != "" {
		t.Errorf("port of a host-mode container: %q", r.Stdout)
	}
}

// Several --network flags: one interface per network, in order, names
// resolved on each; the legacy --network-alias applies to the first.
func TestNetworkAuditMultiNetwork(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	pool := e.Net.poolPrefixes()
	e.nerdOK("network", "create", "--subnet", pool[1]+"0/24", "ma")
	e.nerdOK("network", "create", "--subnet", pool[2]+"0/24", "mb")
	e.runD(withSleeper("--name", "pa", "--network", "ma", "busybox")...)
	e.runD(withSleeper("--name", "pb", "--network", "mb", "busybox")...)
	e.runD(withSleeper("--name", "both", "--network", "ma", "--network", "mb", "--network-alias", "hub", "busybox")...)

	r := e.nerdOK("exec", "both", "ip", "-o", "-4", "addr", "show")
	if !strings.Contains(r.Stdout, "eth0    inet "+pool[1]) || !strings.Contains(r.Stdout, "eth1    inet "+pool[2]) {
		t.Errorf("both: want eth0 on ma (%s*) and eth1 on mb (%s*):\n%s", pool[1], pool[2], r.Stdout)
	}
	r = e.nerdOK("inspect", "-f", `{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}} {{json .NetworkSettings.Networks.ma.Aliases}} {{json .NetworkSettings.Networks.mb.Aliases}}`, "both")
	if r.Stdout != "ma 2 [\"hub\"] null\n" {
		t.Errorf("inspect both: %q", r.Stdout)
	}
	ping := func(from, to string) bool { return e.nerd("exec", from, "ping", "-c1", "-W3", to).Code == 0 }
	for _, c := range [][2]string{{"both", "pa"}, {"both", "pb"}, {"pa", "both"}, {"pa", "hub"}, {"pb", "both"}} {
		if !ping(c[0], c[1]) {
			t.Errorf("%s cannot reach %s by name", c[0], c[1])
		}
	}
	// pa and pb share no network: user networks are isolated from each
	// other (and from the default bridge), as Docker's are.
	pbIP := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "pb").Stdout)
	if ping("pa", pbIP) {
		t.Errorf("pa reached pb (%s) although they share no network", pbIP)
	}
	e.runD(withSleeper("--name", "pd", "busybox")...)
	pdIP := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "pd").Stdout)
	if ping("pa", pdIP) || ping("pd", pbIP) {
		t.Errorf("the default bridge (%s) and a user network reach each other", pdIP)
	}
	// A published port stays reachable from any network, through the
	// host's address (what Docker's userland proxy gives).
	port := freeHostPort(t)
	e.runD("--name", "pweb", "--network", "mb", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c",
		"mkdir -p /www && echo pweb-up > /www/index.html && exec httpd -f -p 8080 -h /www")
	eventuallyGet(t, func() (string, error) {
		r := e.nerd("exec", "pa", "timeout", "5", "wget", "-q", "-O", "-", fmt.Sprintf("http://%s1:%d/", pool[1], port))
		if r.Code != 0 {
			return r.Stdout, fmt.Errorf("wget: %s", r.Stderr)
		}
		return r.Stdout, nil
	}, "pweb-up")
	// Both networks list the container.
	for _, n := range []string{"ma", "mb"} {
		r := e.nerdOK("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", n)
		if !strings.Contains(r.Stdout, "both ") {
			t.Errorf("network inspect %s: containers %q lack both", n, r.Stdout)
		}
	}
}

// /etc/hostname and /etc/hosts are the container's own: its hostname
// (the short ID by default), its address with its hostname and name, the
// --add-host lines; --network none gets no address line.
func TestNetworkAuditEtcFiles(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	id1 := e.runD(withSleeper("--name", "h1", "--add-host", "db:10.1.2.3", "--add-host", "gw:host-gateway", "busybox")...)
	e.runD(withSleeper("--name", "h2", "--hostname", "second", "busybox")...)
	ip := func(name string) string {
		return strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).Stdout)
	}
	if r := e.nerdOK("exec", "h1", "cat", "/etc/hostname"); r.Stdout != id1[:12]+"\n" {
		t.Errorf("h1 /etc/hostname %q, want the short ID", r.Stdout)
	}
	if r := e.nerdOK("exec", "h2", "cat", "/etc/hostname"); r.Stdout != "second\n" {
		t.Errorf("h2 /etc/hostname %q, want second", r.Stdout)
	}
	hosts1 := e.nerdOK("exec", "h1", "cat", "/etc/hosts").Stdout
	wantTail := fmt.Sprintf("10.1.2.3\tdb\n%s1\tgw\n%s\t%s h1\n", e.Net.Prefix, ip("h1"), id1[:12])
	if !strings.HasPrefix(hosts1, "127.0.0.1\tlocalhost\n") || !strings.HasSuffix(hosts1, wantTail) {
		t.Errorf("h1 /etc/hosts:\n%s\nwant it to end with\n%s", hosts1, wantTail)
	}
	hosts2 := e.nerdOK("exec", "h2", "cat", "/etc/hosts").Stdout
	if !strings.HasSuffix(hosts2, fmt.Sprintf("%s\tsecond h2\n", ip("h2"))) || strings.Contains(hosts2, "10.1.2.3") {
		t.Errorf("h2 /etc/hosts (its own, not h1's):\n%s", hosts2)
	}
	// Each container has its own files on the host, named by inspect.
	r := e.nerdOK("inspect", "-f", "{{.HostnamePath}} {{.HostsPath}} {{.ResolvConfPath}}", "h1")
	for _, p := range strings.Fields(r.Stdout) {
		if !strings.HasPrefix(p, filepath.Join(e.Root, "containers", id1)+"/") {
			t.Errorf("inspect path %s is not in h1's directory", p)
		}
	}
	// A write to one container's /etc/hosts stays there.
	e.nerdOK("exec", "h1", "sh", "-c", "echo 10.9.9.9 extra >> /etc/hosts")
	if strings.Contains(e.nerdOK("exec", "h2", "cat", "/etc/hosts").Stdout, "extra") {
		t.Errorf("h1's /etc/hosts edit shows in h2")
	}
	r = e.nerdOK("run", "--rm", "--network", "none", "-h", "lonely", "busybox", "sh", "-c", "cat /etc/hostname /etc/hosts")
	if !strings.HasPrefix(r.Stdout, "lonely\n127.0.0.1\tlocalhost\n") || strings.Contains(r.Stdout, "\tlonely") {
		t.Errorf("--network none: /etc/hostname and /etc/hosts:\n%s", r.Stdout)
	}
}

// --network container:NAME: the target's address, hostname, hosts and
// resolv.conf (Docker copies the target's files and hostname).
func TestNetworkAuditContainerMode(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.runD(withSleeper("--name", "tgt", "--hostname", "tgthost", "--dns", "192.0.2.53", "--add-host", "db:10.1.2.3", "busybox")...)
	want := e.nerdOK("exec", "tgt", "sh", "-c", "hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf").Stdout
	got := e.nerdOK("run", "--rm", "--network", "container:tgt", "busybox", "sh", "-c", "hostname; cat /etc/hostname /etc/hosts /etc/resolv.conf").Stdout
	if got != want {
		t.Errorf("container:tgt sees\n%s\nwant the target's\n%s", got, want)
	}
	e.nerdOK("stop", "-t", "1", "tgt")
	e.nerdFail(125, []string{"run", "--rm", "--network", "container:tgt", "busybox", "true"},
		`cannot join network namespace of a non running container: container tgt is exited`)
	e.nerdFail(125, []string{"run", "--rm", "--network", "container:nosuch", "busybox", "true"}, `No such container: nosuch`)
}

// Bad input the first tests left out, with Docker's messages.
func TestNetworkAuditBadInput(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	pool := e.Net.poolPrefixes()
	e.nerdOK("network", "create", "--subnet", pool[1]+"0/24", "--ip-range", pool[1]+"128/25", "sub")
	e.runD(withSleeper("--name", "tgt", "busybox")...)
	cases := []struct {
		args []string
		code int
		want string
	}{
		// Docker CLI's parseNetworkOpts.
		{[]string{"run", "--network", "sub", "--network", "sub", "busybox", "true"}, 125, `network "sub" is specified multiple times`},
		{[]string{"run", "--network", "bridge", "--network", "sub", "busybox", "true"}, 125, `conflicting options: cannot attach both user-defined and non-user-defined network-modes`},
		{[]string{"run", "--network-alias", "x", "busybox", "true"}, 125, `network-scoped alias`},
		// dockerd's validateNetContainerMode.
		{[]string{"run", "--network", "container:tgt", "--add-host", "a:10.1.1.1", "busybox", "true"}, 125, `conflicting options: custom host-to-IP mapping and the network mode`},
		{[]string{"run", "--network", "container:tgt", "--dns", "10.1.1.1", "busybox", "true"}, 125, `conflicting options: dns and the network mode`},
		{[]string{"run", "--network", "container:tgt", "-h", "x", "busybox", "true"}, 125, `conflicting options: hostname and the network mode`},
		{[]string{"run", "--network", "container:tgt", "--mac-address", "02:42:ac:11:00:99", "busybox", "true"}, 125, `conflicting options: mac-address and the network mode`},
		{[]string{"run", "--network", "container:tgt", "-p", "80", "busybox", "true"}, 125, `conflicting options: port publishing and the container type network mode`},
		{[]string{"run", "--network", "container:tgt", "--expose", "80", "busybox", "true"}, 125, `conflicting options: port exposing and the container type network mode`},
		{[]string{"run", "--network", "host", "--mac-address", "02:42:ac:11:00:99", "busybox", "true"}, 125, `conflicting options: mac-address and the network mode`},
		// --ip outside the subnet, or the gateway's.
		{[]string{"run", "--network", "sub", "--ip", "10.1.1.5", "busybox", "true"}, 125, `no configured subnet or ip-range contain the IP address 10\.1\.1\.5`},
		{[]string{"run", "--network", "sub", "--ip", pool[1] + "1", "busybox", "true"}, 125, `Address already in use`},
		// Port specs.
		{[]string{"run", "-p", "70000:80", "busybox", "true"}, 125, `invalid hostPort: 70000`},
		{[]string{"run", "-p", "80:0", "busybox", "true"}, 125, `invalid containerPort: 0`},
		{[]string{"run", "-p", "8000-7000:80", "busybox", "true"}, 125, `invalid hostPort: 8000-7000`},
		{[]string{"run", "-p", "1:2:3:4", "busybox", "true"}, 125, `invalid`},
		// network create.
		{[]string{"network", "create", "--subnet", "10.1.2.0/24", "--ip-range", "10.1.3.0/25", "bad1"}, 1, `no matching subnet for range 10\.1\.3\.0/25`},
		{[]string{"network", "create", "--subnet", "10.1.2.0/24", "--gateway", "10.1.2.x", "bad2"}, 1, `invalid`},
		{[]string{"network", "create", "--subnet", "notacidr", "bad3"}, 1, `invalid CIDR address: notacidr`},
		{[]string{"network", "create", "--subnet", pool[1] + "128/25", "bad4"}, 1, `Pool overlaps with other one on this address space`},
		{[]string{"network", "create", "sub"}, 1, `network with name sub already exists`},
		{[]string{"network", "connect", "nosuchnet", "tgt"}, 1, `network nosuchnet not found`},
		{[]string{"network", "connect", "sub", "nosuchctr"}, 1, `No such container: nosuchctr`},
		{[]string{"network", "disconnect", "sub", "tgt"}, 1, `container tgt is not connected to network sub`},
		{[]string{"network", "connect", "bridge", "tgt"}, 1, `endpoint with name tgt already exists in network bridge`},
		{[]string{"network", "connect", "--ip", "10.1.1.5", "sub", "tgt"}, 1, `no configured subnet or ip-range contain the IP address 10\.1\.1\.5`},
	}
	for _, c := range cases {
		e.nerdFail(c.code, c.args, c.want)
	}
	// None of that made a container (tgt aside) or a network.
	// (The --ip runs fail at start: their containers stay, Created.)
	if got := e.psNames("-a", "--filter", "status=running"); len(got) != 1 || got[0] != "tgt" {
		t.Errorf("bad input left running containers: %v, want only tgt", got)
	}
	if got := e.psNames("-a", "--filter", "status=exited"); len(got) != 0 {
		t.Errorf("bad input left exited containers: %v", got)
	}
	r := e.nerdOK("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}")
	if r.Stdout != "sub\n" {
		t.Errorf("bad input left networks: %q", r.Stdout)
	}
	// A static address outside the ip-range but inside the subnet is fine
	// (the range is for the addresses nerd picks); one in use is refused.
	e.runD(withSleeper("--name", "st", "--network", "sub", "--ip", pool[1]+"10", "busybox")...)
	if r := e.nerdOK("exec", "st", "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(r.Stdout, pool[1]+"10/24") {
		t.Errorf("--ip outside the ip-range: %s", r.Stdout)
	}
	r = e.nerd("run", "--rm", "--network", "sub", "--ip", pool[1]+"10", "busybox", "true")
	r.wantFailure(t, 125, `Address already in use`)
}
