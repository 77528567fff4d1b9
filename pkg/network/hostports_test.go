package network

import (
	"strings"
	"testing"
)

func TestDNATRules(t *testing.T) {
	id := strings.Repeat("c", 64)
	got := dnatRules(id, "10.77.0.5", []PortMapping{
		{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "0.0.0.0", HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
		{HostIP: "192.168.1.10", HostPort: 8443, ContainerPort: 443, Protocol: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 9000, ContainerPort: 9000, Protocol: "udp"},
		{HostIP: "::1", HostPort: 9001, ContainerPort: 9001, Protocol: "tcp"},
	})
	tag := "-m comment --comment nerd:" + id
	want := []string{
		"-p tcp -m tcp --dport 8080 " + tag + " -j DNAT --to-destination 10.77.0.5:80",
		"-p udp -m udp --dport 5353 " + tag + " -j DNAT --to-destination 10.77.0.5:53",
		"-d 192.168.1.10/32 -p tcp -m tcp --dport 8443 " + tag + " -j DNAT --to-destination 10.77.0.5:443",
		"-d 127.0.0.1/32 -p udp -m udp --dport 9000 -m addrtype --src-type LOCAL " + tag + " -j DNAT --to-destination 10.77.0.5:9000",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rules, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if s := strings.Join(got[i], " "); s != want[i] {
			t.Errorf("rule %d:\n got %s\nwant %s", i, s, want[i])
		}
	}
}

func TestPublishInput(t *testing.T) {
	in := publishInput(dnatRules("abc", "10.0.0.2", []PortMapping{{HostPort: 80, ContainerPort: 80, Protocol: "tcp"}}))
	lines := strings.Split(strings.TrimSuffix(in, "\n"), "\n")
	if lines[0] != "*nat" || lines[len(lines)-1] != "COMMIT" {
		t.Fatalf("not one nat transaction:\n%s", in)
	}
	var checks, appends int
	for _, l := range lines[1 : len(lines)-1] {
		switch {
		case strings.HasPrefix(l, ":"):
			// With --noflush this would flush every container's rules.
			t.Errorf("declares a chain: %s", l)
		case strings.HasPrefix(l, "-C ") && strings.HasSuffix(l, "-j "+hostportsChain):
			checks++
		case strings.HasPrefix(l, "-A "+hostportsChain+" "):
			appends++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if checks != 2 || appends != 1 {
		t.Errorf("%d jump checks, %d rules:\n%s", checks, appends, in)
	}
}

func TestDeleteLines(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	out := `-N NERD-HOSTPORTS
-A NERD-HOSTPORTS -p tcp -m tcp --dport 8080 -m comment --comment "nerd:` + a + `" -j DNAT --to-destination 10.77.0.2:80
-A NERD-HOSTPORTS -p tcp -m tcp --dport 8081 -m comment --comment "nerd:` + b + `" -j DNAT --to-destination 10.77.0.3:80
-A NERD-HOSTPORTS -d 127.0.0.1/32 -p udp -m udp --dport 53 -m addrtype --src-type LOCAL -m comment --comment "nerd:` + a + `" -j DNAT --to-destination 10.77.0.2:53
-A NERD-HOSTPORTS -p tcp -m tcp --dport 8082 -m comment --comment "nerd:` + a + `x" -j DNAT --to-destination 10.77.0.4:80
`
	got := deleteLines(out, a)
	want := []string{
		`-D NERD-HOSTPORTS -p tcp -m tcp --dport 8080 -m comment --comment "nerd:` + a + `" -j DNAT --to-destination 10.77.0.2:80`,
		`-D NERD-HOSTPORTS -d 127.0.0.1/32 -p udp -m udp --dport 53 -m addrtype --src-type LOCAL -m comment --comment "nerd:` + a + `" -j DNAT --to-destination 10.77.0.2:53`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := deleteLines(out, "nosuch"); len(got) != 0 {
		t.Errorf("rules of no container: %q", got)
	}
}

func TestBridgeRulesPorts(t *testing.T) {
	for _, internal := range []bool{false, true} {
		n := &Network{Internal: internal, Options: map[string]string{bridgeOption: "br-x"},
			IPAM: IPAM{Config: []IPAMConfig{{Subnet: "10.9.0.0/24", Gateway: "10.9.0.1"}}}}
		var have []string
		for _, r := range bridgeRules(n) {
			have = append(have, r.table+" "+r.chain+" "+strings.Join(r.spec, " "))
		}
		all := strings.Join(have, "\n")
		for _, want := range []string{
			"nat POSTROUTING -s 127.0.0.0/8 -o br-x -j MASQUERADE",
			"nat POSTROUTING -s 10.9.0.0/24 -o br-x -m conntrack --ctstate DNAT -j MASQUERADE",
			"raw PREROUTING -d 127.0.0.0/8 -i br-x -j DROP",
		} {
			if !strings.Contains(all, want+" -m comment --comment nerd:br-x") {
				t.Errorf("internal=%v: no %q in\n%s", internal, want, all)
			}
		}
	}
}
