package network

import (
	"net"
	"strings"
	"testing"

	"github.com/nerd-project/nerd/pkg/container"
)

func TestIPAMFor(t *testing.T) {
	ipam, err := ipamFor("10.9.0.0/24", "", "10.9.0.128/25")
	if err != nil {
		t.Fatal(err)
	}
	c := ipam.Config[0]
	if c.Gateway != "10.9.0.1" || c.IPRange != "10.9.0.128/25" {
		t.Errorf("got %+v", c)
	}
	for _, bad := range [][3]string{
		{"10.9.0.0/33", "", ""}, {"nonsense", "", ""}, {"10.9.0.0/24", "10.8.0.1", ""},
		{"10.9.0.0/24", "", "10.10.0.0/25"}, {"10.9.0.0/31", "", ""}, {"fd00::/64", "", ""},
	} {
		if _, err := ipamFor(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ipamFor%v: no error", bad)
		}
	}
}

func TestAllocateSkipsUsedSubnets(t *testing.T) {
	m := &Manager{opts: Options{Pool: "10.250.0.0/22", PoolSize: 24}}
	used := &Network{IPAM: IPAM{Config: []IPAMConfig{{Subnet: "10.250.0.0/24"}}}}
	ipam, err := m.allocateIPAM([]*Network{used}, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := ipam.Config[0].Subnet; got != "10.250.1.0/24" {
		t.Errorf("allocated %s, want 10.250.1.0/24", got)
	}
	if _, err := m.allocateIPAM([]*Network{used}, "10.250.0.128/25", "", ""); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("overlap not refused: %v", err)
	}
	all := []*Network{}
	for _, s := range []string{"10.250.0.0/24", "10.250.1.0/24", "10.250.2.0/24", "10.250.3.0/24"} {
		all = append(all, &Network{IPAM: IPAM{Config: []IPAMConfig{{Subnet: s}}}})
	}
	if _, err := m.allocateIPAM(all, "", "", ""); err == nil {
		t.Error("a full pool allocated a subnet")
	}
}

func TestLastIP(t *testing.T) {
	_, sn, _ := net.ParseCIDR("10.0.0.0/24")
	if got := lastIP(sn).String(); got != "10.0.0.254" {
		t.Errorf("lastIP = %s", got)
	}
}

func TestHostsAndResolvConf(t *testing.T) {
	rec := &container.Record{ID: strings.Repeat("a", 64), Name: "web"}
	rec.Config.Hostname = "h1"
	rec.HostConfig.ExtraHosts = []string{"gw:host-gateway", "db:10.1.1.1"}
	a := &Attachment{Endpoints: []*Endpoint{{Network: "n", IP: "10.2.0.5", Aliases: []string{"www"}}}}
	got := HostsContent(rec, a, "10.77.0.1")
	for _, want := range []string{"10.77.0.1\tgw\n", "10.1.1.1\tdb\n", "10.2.0.5\th1 web www\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts lacks %q:\n%s", want, got)
		}
	}
	host := "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver 2001:db8::1\nsearch example.org\noptions edns0\n"
	rc := ResolvConf(host, rec, "", false)
	if strings.Contains(rc, "127.0.0.53") || strings.Contains(rc, "2001:db8::1") || !strings.Contains(rc, "nameserver 192.0.2.1") || !strings.Contains(rc, "search example.org") {
		t.Errorf("default network resolv.conf:\n%s", rc)
	}
	if rc := ResolvConf(host, rec, "10.2.0.1", false); rc != "nameserver 10.2.0.1\nsearch example.org\noptions edns0 ndots:0\n" {
		t.Errorf("user network resolv.conf:\n%s", rc)
	}
	rec.HostConfig.DNS, rec.HostConfig.DNSSearch, rec.HostConfig.DNSOptions = []string{"9.9.9.9"}, []string{"a.b"}, []string{"ndots:2"}
	if rc := ResolvConf(host, rec, "", false); rc != "nameserver 9.9.9.9\nsearch a.b\noptions ndots:2\n" {
		t.Errorf("--dns resolv.conf:\n%q", rc)
	}
	if rc := ResolvConf(host, rec, "10.2.0.1", false); rc != "nameserver 10.2.0.1\nsearch a.b\noptions ndots:2\n" {
		t.Errorf("user network resolv.conf with --dns-option ndots:2:\n%q", rc)
	}
	if rc := ResolvConf("nameserver 127.0.0.1\n", &container.Record{}, "", false); !strings.Contains(rc, "8.8.8.8") {
		t.Errorf("only loopback servers: %q", rc)
	}
}

func TestSplitRule(t *testing.T) {
	got := splitRule(`-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ`)
	if len(got) != 8 || got[5] != "CNI portfwd requiring masquerade" {
		t.Errorf("splitRule: %q", got)
	}
}

func TestWanted(t *testing.T) {
	rec := &container.Record{}
	rec.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}, "53/udp": {}}
	rec.HostConfig.PortBindings = map[string][]container.PortBinding{"80/tcp": {{HostIP: "127.0.0.1", HostPort: "8080"}}, "81/tcp": {{HostPort: "9000-9010"}}}
	rec.HostConfig.PublishAllPorts = true
	w := Wanted(rec)
	if len(w) != 3 || w[0] != (PortMapping{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}) ||
		w[1] != (PortMapping{HostPort: 9000, HostPortEnd: 9010, ContainerPort: 81, Protocol: "tcp"}) ||
		w[2] != (PortMapping{ContainerPort: 53, Protocol: "udp"}) {
		t.Errorf("Wanted = %+v", w)
	}
}
