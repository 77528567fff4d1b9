package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The leak check of issue 4, with the names taken before anything is
// removed (user bridges are br-<id>, known only from the networks):
// containers on the default bridge, a user network and an internal one,
// published TCP and UDP ports, a container on two networks, a responder,
// a monitor killed with kill -9. After rm -f of all of them and network
// prune, no rule, nft element, link or address names a bridge, a subnet
// or a container; no responder runs; no IPAM entry or runtime file is
// left.
func TestNetworkAuditLeakCheck(t *testing.T) {
	t.Parallel()
	e := newContainerEnv(t)
	e.nerdOK("network", "create", "lk1")
	e.nerdOK("network", "create", "--internal", "lk2")
	ids := []string{
		e.runD(withSleeper("--name", "d1", "-p", "80", "-p", "127.0.0.1::53/udp", "busybox")...),
		e.runD(withSleeper("--name", "u1", "--network", "lk1", "-p", "8080", "busybox")...),
		e.runD(withSleeper("--name", "u2", "--network", "lk2", "busybox")...),
		e.runD(withSleeper("--name", "u3", "--network", "lk1", "--network", "lk2", "busybox")...),
	}
	e.nerdOK("network", "connect", "lk1", "d1")

	needles := []string{}
	var gateways []string
	for _, n := range []string{"bridge", "lk1", "lk2"} {
		r := e.nerdOK("network", "inspect", "-f", `{{index .Options "com.docker.network.bridge.name"}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}`, n)
		f := strings.Fields(r.Stdout)
		if len(f) != 3 {
			t.Fatalf("network inspect %s: %q", n, r.Stdout)
		}
		prefix := f[1][:strings.LastIndex(f[1], ".")+1] // a /24: "10.x.y."
		needles = append(needles, f[0], prefix)
		gateways = append(gateways, f[2])
	}
	for _, id := range ids[:2] { // the two that publish ports
		needles = append(needles, "nerd:"+id)
	}
	// The check can fail: all of it is on the host now.
	before := strings.Join(hostTraces(needles), "\n")
	for _, n := range needles {
		if !strings.Contains(before, n) {
			t.Errorf("nothing on the host names %s while the containers run (the check would not see it leak)", n)
		}
	}
	for _, gw := range gateways[1:] {
		if len(responders(gw)) != 1 {
			t.Errorf("no responder on %s while containers run", gw)
		}
	}

	if err := syscall.Kill(e.readState(ids[1]).MonitorPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	e.within(120 * time.Second).nerdOK(append([]string{"rm", "-f"}, ids...)...)
	e.within(60*time.Second).nerdOK("network", "prune", "-f")

	if left := hostTraces(needles); len(left) > 0 {
		t.Errorf("left on the host after rm -f and network prune:\n  %s", strings.Join(left, "\n  "))
	}
	for _, gw := range gateways {
		if pids := responders(gw); len(pids) > 0 {
			t.Errorf("responder on %s still running: %v", gw, pids)
		}
	}
	if ipam, _ := filepath.Glob(filepath.Join(e.Root, "networks", "ipam", "*", "*.*.*.*")); len(ipam) > 0 {
		t.Errorf("IPAM entries left: %v", ipam)
	}
	if ents, err := os.ReadDir(filepath.Join(e.runtimeDir(), "net")); err == nil {
		var names []string
		for _, ent := range ents {
			if strings.Contains(ent.Name(), "lk1") || strings.Contains(ent.Name(), "lk2") || strings.Contains(ent.Name(), "bridge") {
				names = append(names, ent.Name())
			}
		}
		if len(names) > 0 {
			t.Errorf("runtime files of the networks left: %v", names)
		}
	}
}
