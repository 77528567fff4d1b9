package dns

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// Defaults for Config fields left zero.
const (
	DefaultForwardTimeout = 2 * time.Second
	DefaultWatchInterval  = 2 * time.Second

	// ttl is what Docker's embedded DNS gives container records.
	ttl = 600
	// maxForwards caps concurrent upstream exchanges: each one holds a
	// goroutine and a socket for up to the forward budget, and a container
	// flooding us while upstream is dead must not grow the responder
	// without bound. Beyond it queries get SERVFAIL at once.
	maxForwards = 256
	// upstreamLogEvery rate-limits "upstream failed" log lines: a dead
	// upstream fails every query and the log must stay small.
	upstreamLogEvery = 30 * time.Second
)

// Config is what a responder serves and how.
type Config struct {
	// Listen is "ip:port", served over both UDP and TCP. Port 0 picks a
	// port that is free for both (tests use it).
	Listen string
	// RecordsFile is the file WriteRecords maintains. It must exist when
	// the responder starts; the responder exits once it is gone.
	RecordsFile string
	// ForwardTimeout bounds one exchange with one upstream; a query gets
	// at most twice that over all upstreams, then SERVFAIL. The default
	// keeps the total (4s) under glibc's 5s per-try timeout, so the
	// client sees our SERVFAIL and moves on instead of timing out.
	ForwardTimeout time.Duration
	// WatchInterval is how often an idle responder checks that
	// RecordsFile still exists (queries check it anyway).
	WatchInterval time.Duration
	// Logf reports problems (bad records, failing upstreams); nil
	// discards them.
	Logf func(format string, args ...any)
}

// Server is a listening responder. Create it with Listen, run it with
// Serve.
type Server struct {
	cfg  Config
	udp  net.PacketConn
	tcp  net.Listener
	self string // our own "ip:port", never used as an upstream

	tab      atomic.Pointer[table]
	mu       sync.Mutex // serialises reloads and guards stamp
	stamp    fileStamp
	gone     chan struct{} // closed once RecordsFile has disappeared
	goneOnce sync.Once

	forwards     chan struct{} // semaphore of maxForwards slots
	lastUpLogged atomic.Int64  // unix nanos of the last upstream log line
}

// Listen binds the UDP and TCP sockets and loads the records. Once it
// returns, queries queue in the kernel even before Serve runs, which is what
// makes "ready" mean ready.
func Listen(cfg Config) (*Server, error) {
	if cfg.ForwardTimeout <= 0 {
		cfg.ForwardTimeout = DefaultForwardTimeout
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	s := &Server{cfg: cfg, gone: make(chan struct{}), forwards: make(chan struct{}, maxForwards)}
	udp, tcp, err := listenBoth(cfg.Listen)
	if err != nil {
		return nil, err
	}
	s.udp, s.tcp = udp, tcp
	// Bound first so that self is known when the records are compiled.
	s.self = udp.LocalAddr().String()
	if err := s.reload(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// listenBoth binds UDP and TCP on the same address. With port 0 the kernel
// picks the UDP port, which may be taken for TCP, so that case retries.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listening on udp %s: %w", addr, err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if !isPortZero(addr) || attempt == 10 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("listening on tcp %s: %w", addr, err)
		}
	}
}

func isPortZero(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

// Addr is the "ip:port" the server listens on, over UDP and TCP.
func (s *Server) Addr() string { return s.self }

// Close releases the sockets of a server that Serve will not run.
func (s *Server) Close() {
	s.udp.Close()
	s.tcp.Close()
}

// Serve answers queries until ctx is done or the records file disappears
// (then it returns nil), or a listener fails.
func (s *Server) Serve(ctx context.Context) error {
	h := mdns.HandlerFunc(s.handle)
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	servers := []*mdns.Server{
		// An idle UDP server would wake up on every read timeout
		// (2s by default) for nothing; shutdown unblocks reads anyway.
		{PacketConn: s.udp, Handler: h, ReadTimeout: time.Hour, NotifyStartedFunc: notify},
		{Listener: s.tcp, Handler: h, NotifyStartedFunc: notify},
	}
	errc := make(chan error, len(servers))
	for _, srv := range servers {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	var err error
	for range servers {
		select {
		case <-started:
		case err = <-errc:
			s.Close()
			return fmt.Errorf("serving DNS on %s: %w", s.self, err)
		}
	}
	err = s.watch(ctx, errc)
	shutdownAll(servers)
	return err
}

// watch waits for the reason to stop, checking now and then that the
// records file still exists: a crashed teardown must not leave a responder
// running forever.
func (s *Server) watch(ctx context.Context, errc <-chan error) error {
	tick := time.NewTicker(s.cfg.WatchInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.gone:
			s.cfg.Logf("records file %s is gone, exiting", s.cfg.RecordsFile)
			return nil
		case err := <-errc:
			return fmt.Errorf("serving DNS on %s: %w", s.self, err)
		case <-tick.C:
			s.refresh()
		}
	}
}

func shutdownAll(servers []*mdns.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, srv := range servers {
		_ = srv.ShutdownContext(ctx) // best effort: the process exits next
	}
}

// fileStamp identifies one version of the records file. WriteRecords
// renames a new file into place, so the inode alone changes on every
// rewrite; size and mtime also catch an in-place edit by hand.
type fileStamp struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino = sys.Dev, sys.Ino
	}
	return st
}

// refresh reloads the records if the file changed. It runs on every query:
// a stat costs about a microsecond, far below a DNS round trip, and checking
// every time (rather than at most every N ms, or on inotify events that
// arrive asynchronously) means a query sent right after an attach always
// sees the new container. Queries are rare enough that this never shows.
func (s *Server) refresh() {
	if err := s.reload(); err != nil {
		s.cfg.Logf("%v", err)
	}
}

// reload loads the records file if its stamp differs from the loaded one.
// It stats before reading, so a racing rewrite at worst causes one more
// reload later, never a stale table that looks current.
func (s *Server) reload() error {
	fi, err := os.Stat(s.cfg.RecordsFile)
	if errors.Is(err, fs.ErrNotExist) {
		s.goneOnce.Do(func() { close(s.gone) })
	}
	if err != nil {
		return fmt.Errorf("checking DNS records: %w", err)
	}
	st := stampOf(fi)
	s.mu.Lock()
	defer s.mu.Unlock()
	if st == s.stamp {
		return nil
	}
	// Remember the stamp even if the file is bad, so a broken file is
	// reported once rather than on every query; the old table stays.
	s.stamp = st
	r, err := ReadRecords(s.cfg.RecordsFile)
	if err != nil {
		return err
	}
	t, errs := compile(r, s.self)
	for _, e := range errs {
		s.cfg.Logf("records %s: %v", s.cfg.RecordsFile, e)
	}
	s.tab.Store(t)
	return nil
}

// handle answers one query: from the records if the name is a container's,
// from upstream otherwise.
func (s *Server) handle(w mdns.ResponseWriter, req *mdns.Msg) {
	s.refresh()
	t := s.tab.Load()
	resp := t.answer(req)
	if resp == nil {
		resp = s.forward(req, t, clientAddr(w.RemoteAddr()), w.LocalAddr().Network())
	}
	writeReply(w, req, resp)
}

// answer builds the local reply for req, or returns nil when the question
// is not about a name (or address) of the network.
func (t *table) answer(req *mdns.Msg) *mdns.Msg {
	if len(req.Question) != 1 || req.Question[0].Qclass != mdns.ClassINET {
		return nil
	}
	q := req.Question[0]
	if q.Qtype == mdns.TypePTR {
		return t.answerPTR(req, q)
	}
	ips, ok := t.lookup(q.Name)
	if !ok {
		return nil
	}
	resp := reply(req)
	if q.Qtype != mdns.TypeA && q.Qtype != mdns.TypeANY {
		// The name exists but holds nothing of this type (AAAA
		// above all): NOERROR with no answers, as Docker does.
		return resp
	}
	for _, ip := range ips {
		resp.Answer = append(resp.Answer, &mdns.A{
			Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: ttl},
			A:   ip.AsSlice(),
		})
	}
	return resp
}

func (t *table) answerPTR(req *mdns.Msg, q mdns.Question) *mdns.Msg {
	ip, ok := parseReverse(q.Name)
	if !ok {
		return nil
	}
	name, ok := t.ptr[ip]
	if !ok {
		return nil
	}
	resp := reply(req)
	resp.Answer = append(resp.Answer, &mdns.PTR{
		Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypePTR, Class: mdns.ClassINET, Ttl: ttl},
		Ptr: mdns.Fqdn(name),
	})
	return resp
}

// parseReverse turns "4.3.78.10.in-addr.arpa." into 10.78.3.4.
func parseReverse(name string) (netip.Addr, bool) {
	labels := mdns.SplitDomainName(normName(name))
	if len(labels) != 6 || labels[4] != "in-addr" || labels[5] != "arpa" {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i := 0; i < 4; i++ {
		n, err := strconv.ParseUint(labels[3-i], 10, 8)
		if err != nil {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

func reply(req *mdns.Msg) *mdns.Msg {
	resp := new(mdns.Msg)
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = true
	return resp
}

func servfail(req *mdns.Msg) *mdns.Msg {
	resp := new(mdns.Msg)
	resp.SetRcode(req, mdns.RcodeServerFailure)
	resp.RecursionAvailable = true
	return resp
}

// writeReply sends resp, truncated (TC bit set) to what a UDP client can
// take, so that it retries over TCP instead of dropping an oversized reply.
func writeReply(w mdns.ResponseWriter, req, resp *mdns.Msg) {
	resp.Id = req.Id
	if w.LocalAddr().Network() == "udp" {
		size := mdns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp) // a client that went away needs no answer
}

func clientAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
