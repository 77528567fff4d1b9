package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Audit of issue 4's `network` commands: create's flags, ls's filters and
// formats, inspect, rm, prune, connect and disconnect.

// netInspect is the part of Docker's network inspect JSON the tests read.
type netInspect struct {
	Name       string `json:"Name"`
	ID         string `json:"Id"`
	Created    string `json:"Created"`
	Scope      string `json:"Scope"`
	Driver     string `json:"Driver"`
	EnableIPv6 bool   `json:"EnableIPv6"`
	IPAM       struct {
		Driver string `json:"Driver"`
		Config []struct {
			Subnet  string `json:"Subnet"`
			IPRange string `json:"IPRange"`
			Gateway string `json:"Gateway"`
		} `json:"Config"`
	} `json:"IPAM"`
	Internal   bool `json:"Internal"`
	Containers map[string]struct {
		Name        string `json:"Name"`
		EndpointID  string `json:"EndpointID"`
		MacAddress  string `json:"MacAddress"`
		IPv4Address string `json:"IPv4Address"`
	} `json:"Containers"`
	Labels map[string]string `json:"Labels"`
}

func (e *env) netInspect(name string) netInspect {
	e.t.Helper()
	r := e.nerdOK("network", "inspect", name)
	var out []netInspect
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("network inspect %s: want a JSON array of one object (%v):\n%s", name, err, r)
	}
	return out[0]
}

// create's --subnet --gateway --ip-range --internal --label -d bridge, as
// inspect shows them and as containers get them.
func TestNetworkAuditCreate(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	pool := e.Net.poolPrefixes()
	r := e.nerdOK("network", "create", "-d", "bridge", "--subnet", pool[1]+"0/24", "--gateway", pool[1]+"254",
		"--ip-range", pool[1]+"64/26", "--label", "team=e2e", "--label", "tier", "full")
	id := strings.TrimSpace(r.Stdout)
	if !fullIDRe.MatchString(id) {
		t.Fatalf("network create printed %q, want a 64-hex ID", r.Stdout)
	}
	n := e.netInspect("full")
	if n.Name != "full" || n.ID != id || n.Driver != "bridge" || n.Scope != "local" || n.Internal || n.EnableIPv6 || n.IPAM.Driver != "default" {
		t.Errorf("inspect full: %+v", n)
	}
	if len(n.IPAM.Config) != 1 || n.IPAM.Config[0].Subnet != pool[1]+"0/24" || n.IPAM.Config[0].Gateway != pool[1]+"254" || n.IPAM.Config[0].IPRange != pool[1]+"64/26" {
		t.Errorf("inspect full IPAM: %+v", n.IPAM)
	}
	if len(n.Labels) != 2 || n.Labels["team"] != "e2e" || n.Labels["tier"] != "" {
		t.Errorf("inspect full labels: %v", n.Labels)
	}
	if _, err := time.Parse(time.RFC3339Nano, n.Created); err != nil {
		t.Errorf("inspect full Created %q: %v", n.Created, err)
	}
	// A container: address from the range, default route and nameserver
	// on the given gateway.
	cid := e.runD(withSleeper("--name", "c1", "--network", "full", "busybox")...)
	r = e.nerdOK("exec", "c1", "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf")
	var last int
	if i := strings.Index(r.Stdout, "inet "+pool[1]); i >= 0 {
		fmt.Sscanf(r.Stdout[i+len("inet "+pool[1]):], "%d/24", &last)
	}
	if last < 64 || last > 127 {
		t.Errorf("address outside the ip-range %s64/26:\n%s", pool[1], r.Stdout)
	}
	for _, want := range []string{"default via " + pool[1] + "254 dev eth0", "nameserver " + pool[1] + "254\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("c1: want %q in:\n%s", want, r.Stdout)
		}
	}
	n = e.netInspect("full")
	ep, ok := n.Containers[cid]
	ip := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.Networks.full.IPAddress}} {{.NetworkSettings.Networks.full.MacAddress}}", "c1").Stdout)
	if !ok || ep.Name != "c1" || ep.IPv4Address != strings.Fields(ip)[0]+"/24" || ep.MacAddress != strings.Fields(ip)[1] || len(ep.EndpointID) != 64 {
		t.Errorf("network inspect Containers: %+v (container says %q)", n.Containers, ip)
	}
	// --internal shows in inspect and in ls.
	e.nerdOK("network", "create", "--internal", "closed")
	if !e.netInspect("closed").Internal {
		t.Errorf("inspect closed: Internal false")
	}
	if r := e.nerdOK("network", "ls", "--filter", "name=closed", "--format", "{{.Name}} {{.Internal}} {{.IPv6}}"); r.Stdout != "closed true false\n" {
		t.Errorf("ls closed: %q", r.Stdout)
	}
	// Inspect of several, by ID prefix and name; --format.
	r = e.nerdOK("network", "inspect", "-f", "{{.Name}}", id[:12], "closed")
	if r.Stdout != "full\nclosed\n" {
		t.Errorf("network inspect by ID prefix and name: %q", r.Stdout)
	}
	e.nerdFail(1, []string{"network", "inspect", "full", "nosuch"}, `network nosuch not found`)
}

// ls: every filter, -q, --no-trunc, --format (incl. json), order by name.
func TestNetworkAuditLs(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	ids := map[string]string{}
	for _, n := range [][]string{{"zeta", "--label", "env=prod"}, {"alpha", "--label", "env=dev"}, {"mid"}} {
		ids[n[0]] = strings.TrimSpace(e.nerdOK(append([]string{"network", "create"}, append(n[1:], n[0])...)...).Stdout)
	}
	ls := func(args ...string) string {
		return e.nerdOK(append([]string{"network", "ls", "--format", "{{.Name}}"}, args...)...).Stdout
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "alpha\nbridge\nhost\nmid\nnone\nzeta\n"},
		{[]string{"--filter", "driver=bridge"}, "alpha\nbridge\nmid\nzeta\n"},
		{[]string{"--filter", "driver=null"}, "none\n"},
		{[]string{"--filter", "type=builtin"}, "bridge\nhost\nnone\n"},
		{[]string{"--filter", "type=custom"}, "alpha\nmid\nzeta\n"},
		{[]string{"--filter", "scope=local", "--filter", "type=custom"}, "alpha\nmid\nzeta\n"},
		{[]string{"--filter", "label=env"}, "alpha\nzeta\n"},
		{[]string{"--filter", "label=env=prod"}, "zeta\n"},
		{[]string{"--filter", "name=a"}, "alpha\nzeta\n"},
		{[]string{"--filter", "name=alpha", "--filter", "name=mid"}, "alpha\nmid\n"},
		{[]string{"--filter", "id=" + ids["mid"][:10]}, "mid\n"},
		{[]string{"--filter", "name=a", "--filter", "label=env=dev"}, "alpha\n"},
	} {
		if got := ls(c.args...); got != c.want {
			t.Errorf("network ls %v: %q, want %q", c.args, got, c.want)
		}
	}
	if r := e.nerdOK("network", "ls", "-q", "--filter", "name=zeta"); r.Stdout != ids["zeta"][:12]+"\n" {
		t.Errorf("ls -q: %q", r.Stdout)
	}
	if r := e.nerdOK("network", "ls", "-q", "--no-trunc", "--filter", "name=zeta"); r.Stdout != ids["zeta"]+"\n" {
		t.Errorf("ls -q --no-trunc: %q", r.Stdout)
	}
	_, rows := psTable(t, e.nerdOK("network", "ls", "--filter", "name=zeta").Stdout)
	if len(rows) != 1 || rows[0]["NETWORK ID"] != ids["zeta"][:12] || rows[0]["NAME"] != "zeta" || rows[0]["DRIVER"] != "bridge" || rows[0]["SCOPE"] != "local" {
		t.Errorf("ls table: %v", rows)
	}
	r := e.nerdOK("network", "ls", "--filter", "name=zeta", "--format", "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("ls --format json: %v\n%s", err, r.Stdout)
	}
	if m["Name"] != "zeta" || m["ID"] != ids["zeta"][:12] || m["Driver"] != "bridge" || m["Labels"] != "env=prod" || m["Internal"] != "false" {
		t.Errorf("ls --format json: %v", m)
	}
	if r := e.nerdOK("network", "ls", "--filter", "name=zeta", "--format", `{{.Label "env"}}`); r.Stdout != "prod\n" {
		t.Errorf(`ls --format {{.Label "env"}}: %q`, r.Stdout)
	}
	e.nerdFail(1, []string{"network", "ls", "--filter", "color=red"}, `invalid filter 'color'`)
	e.nerdFail(1, []string{"network", "ls", "--filter", "nokey"}, `bad format of filter \(expected name=value\)`)
}

// rm refuses a network with a running container, with Docker's message;
// rm of several goes on past an error; a network is removed by ID too.
func TestNetworkAuditRm(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "busy")
	e.nerdOK("network", "create", "free")
	id := strings.TrimSpace(e.nerdOK("network", "create", "byid").Stdout)
	e.runD(withSleeper("--name", "user1", "--network", "busy", "busybox")...)
	epID := strings.TrimSpace(e.nerdOK("inspect", "-f", "{{.NetworkSettings.Networks.busy.EndpointID}}", "user1").Stdout)
	if len(epID) != 64 {
		t.Fatalf("EndpointID %q", epID)
	}
	r := e.nerd("network", "rm", "busy", "free", "nosuch", id[:12])
	r.wantFailure(t, 1,
		regexp.QuoteMeta(fmt.Sprintf(`error while removing network: network busy has active endpoints (name:"user1" id:%q)`, epID[:12])),
		`network nosuch not found`)
	if r.Stdout != "free\n"+id[:12]+"\n" {
		t.Errorf("rm busy free nosuch <id>: stdout %q, want the removed ones", r.Stdout)
	}
	if got := e.nerdOK("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}").Stdout; got != "busy\n" {
		t.Errorf("networks after rm: %q", got)
	}
	if r := e.nerdOK("network", "rm", "-f", "nosuch"); r.Stdout != "" {
		t.Errorf("rm -f nosuch: %q", r.Stdout)
	}
	e.nerdOK("rm", "-f", "user1")
	e.nerdOK("network", "rm", "busy")
}

// prune: asks first (n keeps everything), removes only unused user
// networks and says which, honours label filters.
func TestNetworkAuditPrune(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	for _, n := range [][]string{{"used"}, {"free1"}, {"free2", "--label", "keep"}, {"free3", "--label", "keep=no"}} {
		e.nerdOK(append([]string{"network", "create"}, append(n[1:], n[0])...)...)
	}
	e.runD(withSleeper("--name", "uu", "--network", "used", "busybox")...)
	names := func() []string {
		return e.nerdOK("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}").Lines()
	}
	r := e.nerdIn(strings.NewReader("n\n"), "network", "prune")
	if r.Code != 0 || !strings.Contains(r.Stdout, "WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ") {
		t.Errorf("prune answered n:\n%s", r)
	}
	if got := names(); len(got) != 4 {
		t.Errorf("prune answered n removed networks: %v", got)
	}
	r = e.nerdOK("network", "prune", "-f", "--filter", "label=keep=no")
	if r.Stdout != "Deleted Networks:\nfree3\n\n" {
		t.Errorf("prune --filter label=keep=no: %q", r.Stdout)
	}
	r = e.nerdOK("network", "prune", "-f", "--filter", "label!=keep")
	if r.Stdout != "Deleted Networks:\nfree1\n\n" {
		t.Errorf("prune --filter label!=keep: %q", r.Stdout)
	}
	if r := e.nerdOK("network", "prune", "-f", "--filter", "until=1h"); r.Stdout != "" {
		t.Errorf("prune --filter until=1h (all are newer): %q", r.Stdout)
	}
	r = e.nerdIn(strings.NewReader("y\n"), "network", "prune")
	if r.Code != 0 || !strings.HasSuffix(r.Stdout, "Deleted Networks:\nfree2\n\n") {
		t.Errorf("prune answered y:\n%s", r)
	}
	if got := names(); !slices.Equal(got, []string{"used"}) {
		t.Errorf("after prune: %v, want only the used network", got)
	}
	if r := e.nerdOK("network", "prune", "-f"); r.Stdout != "" {
		t.Errorf("prune with nothing to remove: %q", r.Stdout)
	}
	e.nerdFail(1, []string{"network", "prune", "-f", "--filter", "driver=bridge"}, `invalid filter 'driver'`)
}

// connect --ip and --alias on a running container, names on the new
// network, connect of a stopped container (applied at start), disconnect
// of a stopped container.
func TestNetworkAuditConnect(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	pool := e.Net.poolPrefixes()
	e.nerdOK("network", "create", "--subnet", pool[1]+"0/24", "side")
	e.runD(withSleeper("--name", "peer", "--network", "side", "busybox")...)
	e.runD(withSleeper("--name", "cc", "busybox")...)
	e.nerdOK("network", "connect", "--ip", pool[1]+"50", "--alias", "cee", "side", "cc")
	r := e.nerdOK("exec", "cc", "ip", "-o", "-4", "addr", "show", "eth1")
	if !strings.Contains(r.Stdout, pool[1]+"50/24") {
		t.Errorf("connect --ip: eth1 is\n%s", r.Stdout)
	}
	for _, to := range []string{"cc", "cee", pool[1] + "50"} {
		if r := e.nerd("exec", "peer", "ping", "-c1", "-W3", to); r.Code != 0 {
			t.Errorf("peer cannot reach %s after connect:\n%s", to, r)
		}
	}
	r = e.nerdOK("inspect", "-f", `{{.NetworkSettings.Networks.side.IPAddress}} {{.NetworkSettings.Networks.side.IPAMConfig.IPv4Address}} {{json .NetworkSettings.Networks.side.Aliases}}`, "cc")
	if want := pool[1] + "50 " + pool[1] + "50 [\"cee\"]\n"; r.Stdout != want {
		t.Errorf("inspect after connect: %q, want %q", r.Stdout, want)
	}
	e.nerdFail(1, []string{"network", "connect", "side", "cc"}, `endpoint with name cc already exists in network side`)

	// A stopped container: connected at its next start, disconnected at once.
	e.nerdOK("create", "--name", "later", "busybox", "sleep", "60")
	e.nerdOK("network", "connect", "--alias", "lat", "side", "later")
	e.nerdOK("start", "later")
	if r := e.nerd("exec", "peer", "ping", "-c1", "-W3", "lat"); r.Code != 0 {
		t.Errorf("later, connected while created, not reachable by alias after start:\n%s", r)
	}
	if r := e.nerdOK("exec", "later", "ip", "-o", "link"); !strings.Contains(r.Stdout, "eth1") {
		t.Errorf("later has no second interface:\n%s", r.Stdout)
	}
	e.nerdOK("stop", "-t", "1", "later")
	e.nerdOK("network", "disconnect", "side", "later")
	e.nerdOK("start", "later")
	if r := e.nerdOK("exec", "later", "ip", "-o", "link"); strings.Contains(r.Stdout, "eth1") {
		t.Errorf("later still has a second interface after disconnect while stopped:\n%s", r.Stdout)
	}
	r = e.nerdOK("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "side")
	if f := strings.Fields(r.Stdout); !sameSet(f, []string{"peer", "cc"}) {
		t.Errorf("side lists %v, want peer and cc", f)
	}
	// disconnect -f of a network the container is not on: no error.
	e.nerdOK("network", "disconnect", "-f", "side", "later")
}
