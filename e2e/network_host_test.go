package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A container whose init exits is restarted by its policy with its
// networking back: the published port serves again, at the same host
// port, and the address is released and re-taken without leaking.
func TestNetworkRestartPolicy(t *testing.T) {
	t.Parallel()
	e := newBareContainerEnv(t)
	e.pullOK("nginx")
	port := freeHostPort(t)
	e.runD("--name", "rs", "--restart", "always", "-p", fmt.Sprintf("%d:80", port), "nginx", "sh", "-c",
		`nginx -g "daemon off;" & p=$!; sleep 2; kill $p; wait; exit 3`)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventuallyGet(t, func() (string, error) { return httpGet(t, url) }, "nginx")
	eventually(t, 20*time.Second, "rs restarted", func() (bool, string) {
		r := e.nerd("inspect", "-f", "{{.RestartCount}}", "rs")
		return strings.TrimSpace(r.Stdout) != "0" && r.Code == 0, r.Stdout
	})
	eventuallyGet(t, func() (string, error) { return httpGet(t, url) }, "nginx")
	if r := e.nerdOK("port", "rs", "80"); strings.TrimSpace(r.Stdout) != fmt.Sprintf("0.0.0.0:%d", port) {
		t.Errorf("port after restart: %q", r.Stdout)
	}
}

// Outbound traffic is masqueraded, and forwarding works although the
// FORWARD policy is DROP (as another engine may set it): a container pings
// a test host on a veth, and the test host reaches a published port.
// Not parallel: it changes the host's FORWARD policy for its duration.
func TestNetworkForwardDrop(t *testing.T) {
	e := newContainerEnv(t)
	h := newTestHost(t)
	policy := "ACCEPT"
	if out, err := sh(t, "iptables", "-S", "FORWARD"); err == nil && strings.Contains(out, "-P FORWARD DROP") {
		policy = "DROP"
	}
	mustSh(t, "iptables", "-P", "FORWARD", "DROP")
	t.Cleanup(func() { _, _ = sh(t, "iptables", "-P", "FORWARD", policy) })

	r := e.nerd("run", "--rm", "busybox", "ping", "-c1", "-W3", h.PeerIP)
	if r.Code != 0 {
		t.Errorf("container → test host with FORWARD DROP:\n%s", r)
	}
	port := freeHostPort(t)
	e.runD("--name", "srv", "-p", fmt.Sprintf("%d:8080", port), "busybox", "sh", "-c",
		"mkdir -p /www && echo hello-from-nerd > /www/index.html && exec httpd -f -p 8080 -h /www")
	eventuallyGet(t, func() (string, error) {
		return h.exec(t, "curl", "-sS", "--max-time", "3", fmt.Sprintf("http://%s:%d/", h.HostIP, port))
	}, "hello-from-nerd")
}
