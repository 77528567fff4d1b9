package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// netSlot is an env's share of the address space: its default bridge
// (nerd.toml bridge_name/bridge_subnet) and its pool for user networks.
// Slots come from a counter offset by the test binary's pid, so parallel
// tests (and a second go test run) do not collide.
type netSlot struct {
	Bridge string // ≤ 15 chars
	Subnet string // the default network, a /24 in 10.160.0.0/12
	Pool   string // user networks, a /22 in 10.176.0.0/12 split into /24s
	Prefix string // "10.160.3." : what the env's addresses start with
}

var netSlotCounter atomic.Uint32

func newNetSlot() netSlot {
	i := (uint32(os.Getpid())*7 + netSlotCounter.Add(1)) % 1024
	return netSlot{
		Bridge: fmt.Sprintf("nerdt%d", i),
		Subnet: fmt.Sprintf("10.%d.%d.0/24", 160+i/256, i%256),
		Pool:   fmt.Sprintf("10.%d.%d.0/22", 176+i/64, (i%64)*4),
		Prefix: fmt.Sprintf("10.%d.%d.", 160+i/256, i%256),
	}
}

func (s netSlot) writeConfig(b *strings.Builder) {
	fmt.Fprintf(b, "bridge_name = %q\nbridge_subnet = %q\nnetwork_pool = %q\n", s.Bridge, s.Subnet, s.Pool)
}

// poolPrefix is what addresses of the env's user networks start with
// ("10.176.4" for pool 10.176.4.0/22: the third octet varies).
func (s netSlot) poolPrefix() string {
	p := strings.TrimSuffix(s.Pool, ".0/22")
	return p[:strings.LastIndex(p, ".")+1]
}

// sh runs a host command and returns its combined output.
func sh(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// mustSh is sh that fails the test.
func mustSh(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := sh(t, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// testHost is a network namespace joined to the host by a veth pair: a
// second machine on a /30 of its own, for "reachable from other hosts".
type testHost struct {
	NS     string
	HostIP string // the host's end
	PeerIP string // the netns end
	hostIf string
}

var testHostCounter atomic.Uint32

func newTestHost(t *testing.T) *testHost {
	t.Helper()
	i := (uint32(os.Getpid())*3 + testHostCounter.Add(1)) % 4096
	h := &testHost{
		NS:     fmt.Sprintf("nerdth%d", i),
		hostIf: fmt.Sprintf("nthv%d", i),
		HostIP: fmt.Sprintf("10.%d.%d.%d", 200+i/1024, (i/64)%16, (i%64)*4+1),
		PeerIP: fmt.Sprintf("10.%d.%d.%d", 200+i/1024, (i/64)%16, (i%64)*4+2),
	}
	t.Cleanup(func() {
		_, _ = sh(t, "ip", "link", "del", h.hostIf)
		_, _ = sh(t, "ip", "netns", "del", h.NS)
	})
	mustSh(t, "ip", "netns", "add", h.NS)
	mustSh(t, "ip", "link", "add", h.hostIf, "type", "veth", "peer", "name", "eth0", "netns", h.NS)
	mustSh(t, "ip", "addr", "add", h.HostIP+"/30", "dev", h.hostIf)
	mustSh(t, "ip", "link", "set", h.hostIf, "up")
	mustSh(t, "ip", "-n", h.NS, "addr", "add", h.PeerIP+"/30", "dev", "eth0")
	mustSh(t, "ip", "-n", h.NS, "link", "set", "eth0", "up")
	mustSh(t, "ip", "-n", h.NS, "link", "set", "lo", "up")
	return h
}

// exec runs a command inside the test host.
func (h *testHost) exec(t testing.TB, args ...string) (string, error) {
	return sh(t, "ip", append([]string{"netns", "exec", h.NS}, args...)...)
}

// httpGet fetches url with curl (bounded: a few seconds), from the host or
// through runner (e.g. the test host).
func httpGet(t testing.TB, url string) (string, error) {
	return sh(t, "curl", "-sS", "--max-time", "5", url)
}

// eventuallyGet retries an HTTP GET for a while (nginx takes a moment).
func eventuallyGet(t testing.TB, get func() (string, error), want string) string {
	t.Helper()
	var out string
	var err error
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		out, err = get()
		if err == nil && strings.Contains(out, want) {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET did not return %q: %v\n%s", want, err, out)
	return ""
}
