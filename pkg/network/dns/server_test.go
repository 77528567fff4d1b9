package dns

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// All traffic in these tests stays on loopback: responders, upstreams and
// clients bind 127.0.0.x addresses only.

// startServer runs a responder in-process on a random loopback port and
// stops it when the test ends. It returns the server and its records file.
func startServer(t *testing.T, r *Records, cfg Config) (*Server, string, <-chan error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "records.json")
	if err := WriteRecords(path, r); err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.RecordsFile = "127.0.0.1:0", path
	cfg.Logf = t.Logf
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- srv.Serve(ctx)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return srv, path, done
}

// upstream is a fake upstream server answering every A query with ip, over
// UDP and TCP on one loopback port.
func upstream(t *testing.T, ip string) string {
	t.Helper()
	udp, tcp, err := listenBoth("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, req *mdns.Msg) {
		resp := new(mdns.Msg)
		resp.SetReply(req)
		q := req.Question[0]
		if q.Qtype == mdns.TypeA {
			resp.Answer = append(resp.Answer, &mdns.A{
				Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: 30},
				A:   net.ParseIP(ip),
			})
		}
		_ = w.WriteMsg(resp)
	})
	servers := []*mdns.Server{{PacketConn: udp, Handler: h}, {Listener: tcp, Handler: h}}
	for _, s := range servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		<-started
	}
	t.Cleanup(func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
	})
	return udp.LocalAddr().String()
}

// blackhole is a bound UDP port that never answers: a dead upstream.
func blackhole(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.LocalAddr().String()
}

// query asks addr over network ("udp"/"tcp") from the local address from
// (nil: any).
func query(t *testing.T, network, addr, name string, qtype uint16, from net.Addr) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	c := &mdns.Client{Net: network, Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: from, Timeout: 5 * time.Second}}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s: %v", name, mdns.TypeToString[qtype], err)
	}
	return resp
}

// answerIPs returns the A records of resp, failing on a non-NOERROR rcode.
func answerIPs(t *testing.T, resp *mdns.Msg) []string {
	t.Helper()
	if resp.Rcode != mdns.RcodeSuccess {
		t.Fatalf("rcode %s, want NOERROR", mdns.RcodeToString[resp.Rcode])
	}
	var ips []string
	for _, rr := range resp.Answer {
		if a, ok := rr.(*mdns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	return ips
}

func TestAnswersNamesAliasesShortIDsAnyCase(t *testing.T) {
	srv, _, _ := startServer(t, &Records{Names: map[string][]string{
		"web":          {"10.78.3.2"},
		"frontend":     {"10.78.3.2"},
		"0123456789ab": {"10.78.3.2"},
		"lb":           {"10.78.3.3", "10.78.3.4"},
	}}, Config{})
	for _, name := range []string{"web.", "WEB.", "FrontEnd.", "0123456789AB."} {
		resp := query(t, "udp", srv.Addr(), name, mdns.TypeA, nil)
		if ips := answerIPs(t, resp); len(ips) != 1 || ips[0] != "10.78.3.2" {
			t.Errorf("%s: got %v, want [10.78.3.2]", name, ips)
		}
		if !resp.Authoritative || resp.Answer[0].Header().Ttl != ttl || resp.Answer[0].Header().Name != name {
			t.Errorf("%s: got %v, want authoritative, TTL %d, the question's name", name, resp.Answer[0], ttl)
		}
	}
	if ips := answerIPs(t, query(t, "udp", srv.Addr(), "lb.", mdns.TypeA, nil)); len(ips) != 2 {
		t.Errorf("lb: got %v, want both addresses", ips)
	}
}

func TestAAAAForKnownNameIsEmptyNoError(t *testing.T) {
	srv, _, _ := startServer(t, &Records{Names: map[string][]string{"web": {"10.78.3.2"}}}, Config{})
	resp := query(t, "udp", srv.Addr(), "web.", mdns.TypeAAAA, nil)
	if resp.Rcode != mdns.RcodeSuccess || len(resp.Answer) != 0 {
		t.Fatalf("got rcode %s with %d answers, want NOERROR and none", mdns.RcodeToString[resp.Rcode], len(resp.Answer))
	}
}

func TestPTRForKnownAddress(t *testing.T) {
	srv, _, _ := startServer(t, &Records{Names: map[string][]string{
		"web": {"10.78.3.2"}, "web.mynet": {"10.78.3.2"}, "0123456789ab": {"10.78.3.2"},
	}}, Config{})
	resp := query(t, "udp", srv.Addr(), "2.3.78.10.in-addr.arpa.", mdns.TypePTR, nil)
	if len(resp.Answer) != 1 || resp.Answer[0].(*mdns.PTR).Ptr != "web.mynet." {
		t.Fatalf("got %v, want one PTR to web.mynet.", resp.Answer)
	}
}

func TestForwardsUnknownNames(t *testing.T) {
	up := upstream(t, "192.0.2.1")
	srv, _, _ := startServer(t, &Records{Names: map[string][]string{"web": {"10.78.3.2"}}, Upstreams: []string{up}}, Config{})
	for _, network := range []string{"udp", "tcp"} {
		if ips := answerIPs(t, query(t, network, srv.Addr(), "example.com.", mdns.TypeA, nil)); len(ips) != 1 || ips[0] != "192.0.2.1" {
			t.Errorf("%s: got %v, want upstream's 192.0.2.1", network, ips)
		}
	}
}

func TestPerClientUpstreams(t *testing.T) {
	shared, own := upstream(t, "192.0.2.1"), upstream(t, "192.0.2.2")
	srv, _, _ := startServer(t, &Records{
		Upstreams:       []string{shared},
		ClientUpstreams: map[string][]string{"127.0.0.2": {own}},
	}, Config{})
	cases := []struct {
		from string
		want string
	}{{"127.0.0.1", "192.0.2.1"}, {"127.0.0.2", "192.0.2.2"}}
	for _, c := range cases {
		from := &net.UDPAddr{IP: net.ParseIP(c.from)}
		if ips := answerIPs(t, query(t, "udp", srv.Addr(), "example.com.", mdns.TypeA, from)); len(ips) != 1 || ips[0] != c.want {
			t.Errorf("from %s: got %v, want %s", c.from, ips, c.want)
		}
	}
}

func TestServfailWhenUpstreamsFail(t *testing.T) {
	refused := blackhole(t)
	// Closing the socket leaves a port where nothing listens: ICMP
	// port unreachable, an immediate error.
	c, _ := net.ListenPacket("udp", "127.0.0.1:0")
	closedPort := c.LocalAddr().String()
	c.Close()
	cases := map[string][]string{
		"silent":       {blackhole(t)},
		"refused":      {closedPort},
		"both":         {closedPort, refused},
		"no upstreams": nil,
	}
	for name, ups := range cases {
		t.Run(name, func(t *testing.T) {
			const timeout = 200 * time.Millisecond
			srv, _, _ := startServer(t, &Records{Upstreams: ups}, Config{ForwardTimeout: timeout})
			start := time.Now()
			resp := query(t, "udp", srv.Addr(), "example.com.", mdns.TypeA, nil)
			if resp.Rcode != mdns.RcodeServerFailure {
				t.Errorf("got %s, want SERVFAIL", mdns.RcodeToString[resp.Rcode])
			}
			if d := time.Since(start); d > 2*timeout+time.Second {
				t.Errorf("SERVFAIL took %v, want at most about %v", d, 2*timeout)
			}
		})
	}
}

func TestNeverForwardsToItself(t *testing.T) {
	srv, path, _ := startServer(t, &Records{}, Config{ForwardTimeout: 200 * time.Millisecond})
	if err := WriteRecords(path, &Records{Upstreams: []string{srv.Addr()}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp := query(t, "udp", srv.Addr(), "example.com.", mdns.TypeA, nil)
	if resp.Rcode != mdns.RcodeServerFailure || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("got %s after %v, want an immediate SERVFAIL", mdns.RcodeToString[resp.Rcode], time.Since(start))
	}
}

func TestReloadsAfterWriteRecords(t *testing.T) {
	up := upstream(t, "192.0.2.1")
	srv, path, _ := startServer(t, &Records{Names: map[string][]string{"web": {"10.78.3.2"}}, Upstreams: []string{up}}, Config{})
	if ips := answerIPs(t, query(t, "udp", srv.Addr(), "db.", mdns.TypeA, nil)); len(ips) != 1 || ips[0] != "192.0.2.1" {
		t.Fatalf("before attach: got %v, want the upstream's answer", ips)
	}
	// No sleep: the very next query must see the new records.
	r := &Records{Names: map[string][]string{"web": {"10.78.3.2"}, "db": {"10.78.3.9"}}, Upstreams: []string{up}}
	if err := WriteRecords(path, r); err != nil {
		t.Fatal(err)
	}
	if ips := answerIPs(t, query(t, "udp", srv.Addr(), "db.", mdns.TypeA, nil)); len(ips) != 1 || ips[0] != "10.78.3.9" {
		t.Fatalf("after attach: got %v, want [10.78.3.9]", ips)
	}
	delete(r.Names, "web")
	if err := WriteRecords(path, r); err != nil {
		t.Fatal(err)
	}
	if ips := answerIPs(t, query(t, "udp", srv.Addr(), "web.", mdns.TypeA, nil)); len(ips) != 1 || ips[0] != "192.0.2.1" {
		t.Fatalf("after detach: got %v, want the upstream's answer", ips)
	}
}

func TestTCPAndTruncation(t *testing.T) {
	var many []string
	for i := 1; i <= 60; i++ {
		many = append(many, net.IPv4(10, 78, 4, byte(i)).String())
	}
	srv, _, _ := startServer(t, &Records{Names: map[string][]string{"web": {"10.78.3.2"}, "many": many}}, Config{})
	if ips := answerIPs(t, query(t, "tcp", srv.Addr(), "web.", mdns.TypeA, nil)); len(ips) != 1 {
		t.Errorf("tcp web: got %v", ips)
	}
	// 60 A records do not fit 512 bytes: UDP says so with TC, TCP has all.
	if resp := query(t, "udp", srv.Addr(), "many.", mdns.TypeA, nil); !resp.Truncated {
		t.Errorf("udp many: TC bit not set (%d answers)", len(resp.Answer))
	}
	if ips := answerIPs(t, query(t, "tcp", srv.Addr(), "many.", mdns.TypeA, nil)); len(ips) != len(many) {
		t.Errorf("tcp many: got %d answers, want %d", len(ips), len(many))
	}
}

func TestExitsWhenRecordsFileRemoved(t *testing.T) {
	_, path, done := startServer(t, &Records{}, Config{WatchInterval: 20 * time.Millisecond})
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("still serving after the records file was removed")
	}
}

func TestListenFailsWithoutRecords(t *testing.T) {
	_, err := Listen(Config{Listen: "127.0.0.1:0", RecordsFile: filepath.Join(t.TempDir(), "none.json")})
	if err == nil {
		t.Fatal("Listen succeeded without a records file")
	}
}
