package e2e

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freePort is a TCP port nothing listens on right now.
func freeHostPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestNetworkPublishNginx(t *testing.T) {
	t.Parallel()
	e := newBareContainerEnv(t)
	e.pullOK("nginx")
	port := freeHostPort(t)
	id := e.runD(append([]string{"--name", "web", "-p", fmt.Sprintf("%d:80", port)}, nginxCmd...)...)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventuallyGet(t, func() (string, error) { return httpGet(t, url) }, "nginx")
	// nginx logs to the container's stdout, as with the official image.
	eventually(t, 5*time.Second, "access log in nerd logs", func() (bool, string) {
		r := e.nerd("logs", "web")
		return strings.Contains(r.Stdout, `"GET / HTTP/1.1" 200`), r.Stdout
	})

	// From another host: a netns joined to the host by a veth pair.
	h := newTestHost(t)
	eventuallyGet(t, func() (string, error) {
		return h.exec(t, "curl", "-sS", "--max-time", "5", fmt.Sprintf("http://%s:%d/", h.HostIP, port))
	}, "nginx")

	// nerd port, inspect, ps.
	r := e.nerdOK("port", "web")
	if want := fmt.Sprintf("80/tcp -> 0.0.0.0:%d", port); strings.TrimSpace(r.Stdout) != want {
		t.Errorf("port: got %q, want %q", r.Stdout, want)
	}
	r = e.nerdOK("port", "web", "80")
	if want := fmt.Sprintf("0.0.0.0:%d", port); strings.TrimSpace(r.Stdout) != want {
		t.Errorf("port web 80: got %q, want %q", r.Stdout, want)
	}
	r = e.nerdOK("inspect", "-f", `{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Networks.bridge.Gateway}}`, "web")
	f := strings.Fields(r.Stdout)
	if len(f) != 3 || f[0] != strconv.Itoa(port) || !strings.HasPrefix(f[1], e.Net.Prefix) || f[2] != e.Net.Prefix+"1" {
		t.Errorf("inspect: got %q (prefix %s)", r.Stdout, e.Net.Prefix)
	}
	r = e.nerdOK("ps", "--format", "{{.Ports}}")
	if want := fmt.Sprintf("0.0.0.0:%d->80/tcp", port); strings.TrimSpace(r.Stdout) != want {
		t.Errorf("ps PORTS: got %q, want %q", r.Stdout, want)
	}
	for _, f := range []string{fmt.Sprintf("publish=%d", port), "expose=80", "network=bridge"} {
		if r := e.nerdOK("ps", "-q", "--no-trunc", "--filter", f); strings.TrimSpace(r.Stdout) != id {
			t.Errorf("ps --filter %s: %q", f, r.Stdout)
		}
	}
	if r := e.nerdOK("ps", "-q", "--filter", "network=other"); r.Stdout != "" {
		t.Errorf("ps --filter network=other: %q", r.Stdout)
	}
	// The container reaches itself through its published port (hairpin).
	r = e.nerdOK("exec", "web", "timeout", "5", "bash", "-c",
		fmt.Sprintf(`exec 3<>/dev/tcp/%s1/%d; printf 'GET / HTTP/1.0\r\n\r\n' >&3; head -c 15 <&3`, e.Net.Prefix, port))
	if !strings.HasPrefix(r.Stdout, "HTTP/1.1 200") {
		t.Errorf("hairpin: the container through its own published port: %q", r.Stdout)
	}
}
