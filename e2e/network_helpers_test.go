package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// poolPrefixes are what addresses of the env's user networks start with
// (the four /24s of its /22).
func (s netSlot) poolPrefixes() []string {
	var a, b, c int
	fmt.Sscanf(s.Pool, "%d.%d.%d.", &a, &b, &c)
	var out []string
	for k := 0; k < 4; k++ {
		out = append(out, fmt.Sprintf("%d.%d.%d.", a, b, c+k))
	}
	return out
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

// nginxCmd runs the test image's nginx as it is (its command).
var nginxCmd = []string{"nginx"}

// cleanupNetworks prunes the env's networks (the default bridge's link and
// rules go too) and checks that nothing of the env is left on the host:
// no link, no iptables rule or nft element naming its bridges or subnets.
func (e *env) cleanupNetworks(t *testing.T) {
	if _, err := os.Stat(filepath.Join(e.Root, "networks")); err != nil {
		return
	}
	// The user networks' bridges are known from their files, which
	// prune removes: read them first.
	bridges := e.userBridges()
	if r := e.within(60*time.Second).nerd("network", "prune", "-f"); r.Code != 0 {
		t.Errorf("cleanup: network prune failed:\n%s", r)
	}
	if left := e.netLeftovers(bridges...); len(left) > 0 {
		t.Errorf("cleanup: network leftovers:\n  %s", strings.Join(left, "\n  "))
	}
}

// userBridges are the bridges of the env's user networks (br-<id12>),
// from the store.
func (e *env) userBridges() []string {
	var out []string
	if ents, err := os.ReadDir(filepath.Join(e.Root, "networks")); err == nil {
		for _, ent := range ents {
			if data, err := os.ReadFile(filepath.Join(e.Root, "networks", ent.Name())); err == nil {
				if i := strings.Index(string(data), `"br-`); i >= 0 && len(data) > i+16 {
					out = append(out, string(data[i+1:i+16]))
				}
			}
		}
	}
	return out
}

// hostTraces lists the lines of iptables-save, nft list ruleset, ip link
// and ip addr that name any of needles (whole words, or prefixes ending
// in "."; see containsWord).
func hostTraces(needles []string) []string {
	var out []string
	for _, src := range [][]string{{"iptables-save"}, {"nft", "list", "ruleset"}, {"ip", "-o", "link"}, {"ip", "-o", "addr"}} {
		b, err := exec.Command(src[0], src[1:]...).Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, n := range needles {
				if n != "" && containsWord(line, n) {
					out = append(out, src[0]+": "+strings.TrimSpace(line))
					break
				}
			}
		}
	}
	return out
}

// netLeftovers lists what the host still has of the env's networks: its
// default bridge, subnets, and bridges (the user networks' ones, which
// the caller read before removing the networks).
func (e *env) netLeftovers(bridges ...string) []string {
	needles := append([]string{e.Net.Bridge, e.Net.Prefix}, e.Net.poolPrefixes()...)
	return hostTraces(append(needles, bridges...))
}

// containsWord finds needle in line not followed by a digit or letter
// (nerdt12 must not match nerdt123; "10.160.3." is a prefix by itself).
func containsWord(line, needle string) bool {
	for i := 0; ; {
		j := strings.Index(line[i:], needle)
		if j < 0 {
			return false
		}
		end := i + j + len(needle)
		if strings.HasSuffix(needle, ".") || end == len(line) || !isAlnum(line[end]) {
			return true
		}
		i = i + j + 1
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
