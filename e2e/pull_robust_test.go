package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Concurrency and crash safety of pull.

// Two pulls of images sharing a layer, in the same data root, at once.
func TestPullConcurrentSharedLayer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	refs := []string{"nginx", "debian:bookworm-slim", "nginx", "busybox"}
	results := make([]result, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.nerd("pull", ref)
		}()
	}
	wg.Wait()
	for _, r := range results {
		if r.Code != 0 {
			t.Errorf("concurrent pull failed:\n%s", r)
		}
	}
	if t.Failed() {
		return
	}
	ng, deb := e.inspect("nginx"), e.inspect("debian:bookworm-slim")
	if ng.Id != nginx.ID || deb.Id != debian.ID {
		t.Errorf("IDs: nginx %s debian %s", ng.Id, deb.Id)
	}
	if len(ng.RootFS.Layers) != 2 || ng.RootFS.Layers[0] != deb.RootFS.Layers[0] {
		t.Errorf("nginx layers %v do not start with debian's %v", ng.RootFS.Layers, deb.RootFS.Layers)
	}
	// debian's layer is unpacked once: 2 for nginx + 1 for busybox.
	if s := e.committedSnapshots(); len(s) != 3 {
		t.Errorf("want 3 committed snapshots, have %d: %v", len(s), s)
	}
	if !sameSet(repoTags(e.images()), []string{"nginx:latest", "debian:bookworm-slim", "busybox:latest"}) {
		t.Errorf("images: %v", repoTags(e.images()))
	}
}

// slowProxy forwards to a registry and throttles blob downloads, counting
// the blob bytes served, so a test can act in the middle of a pull.
type slowProxy struct {
	Host   string
	served atomic.Int64
	rate   int // bytes per second per connection
}

func startSlowProxy(t *testing.T, target string, rate int) *slowProxy {
	p := &slowProxy{rate: rate}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.Contains(resp.Request.URL.Path, "/blobs/") {
			resp.Body = &throttledBody{ReadCloser: resp.Body, p: p}
		}
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Host = l.Addr().String()
	srv := &http.Server{Handler: rp}
	go srv.Serve(l) //nolint:errcheck
	t.Cleanup(func() { srv.Close() })
	return p
}

type throttledBody struct {
	io.ReadCloser
	p *slowProxy
}

func (b *throttledBody) Read(buf []byte) (int, error) {
	if len(buf) > 16<<10 {
		buf = buf[:16<<10]
	}
	n, err := b.ReadCloser.Read(buf)
	b.p.served.Add(int64(n))
	time.Sleep(time.Duration(n) * time.Second / time.Duration(b.p.rate))
	return n, err
}

// `kill -9` of `nerd pull nginx` while it downloads: the image must not be
// listed, and the next pull must complete and give a working image.
func TestPullKilledMidway(t *testing.T) {
	t.Parallel()
	var total int64
	layers, err := nginx.img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		sz, _ := l.Size()
		total += sz
	}
	proxy := startSlowProxy(t, reg.Host, 6<<20)
	e := newEnv(t)
	slowHosts, err := writeMirrorHostsDir(filepath.Join(e.Dir, "slow-hosts"), proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	e.HostsDir = slowHosts
	e.writeConfig()

	// Kill points as fractions of the image's blob bytes. They stay below
	// what the next attempt must download even if nerd keeps every byte an
	// earlier attempt fetched (3% + 30% kept leaves 67% > 60%).
	for _, frac := range []float64{0.03, 0.3, 0.6} {
		before := proxy.served.Load()
		threshold := before + int64(frac*float64(total))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := e.command(ctx, "pull", "nginx")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		killed := false
	wait:
		for {
			select {
			case err := <-done:
				cancel()
				t.Fatalf("pull ended (%v) before %d bytes were served (served %d):\n%s", err, threshold-before, proxy.served.Load()-before, out.String())
			case <-time.After(2 * time.Millisecond):
				if proxy.served.Load() >= threshold {
					_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
					killed = true
					break wait
				}
			}
		}
		<-done
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything it started
		cancel()
		if !killed {
			t.Fatal("not killed")
		}
		t.Logf("killed at %.0f%% (%d of %d bytes)", frac*100, proxy.served.Load()-before, total)
		if row := findRow(e.images(), "nginx", "latest"); row != nil {
			t.Fatalf("after kill -9 at %.0f%%, images lists nginx: %v", frac*100, row)
		}
		e.nerdFail(1, []string{"image", "inspect", "nginx"})
	}

	// The next pull (through the fast mirror) completes and the image works.
	e.HostsDir = mirrorHostsDir
	e.writeConfig()
	e.pullOK("nginx")
	if got := e.inspect("nginx"); got.Id != nginx.ID {
		t.Errorf("inspect after re-pull: Id %s, want %s", got.Id, nginx.ID)
	}
	if s := e.committedSnapshots(); len(s) != 2 {
		t.Errorf("want 2 committed snapshots, have %v", s)
	}
	for _, s := range e.committedSnapshots() {
		fs := filepath.Join(e.Root, "snapshots", s, "fs")
		if !exists(filepath.Join(fs, "usr/sbin/nginx")) && !exists(filepath.Join(fs, "usr/bin/bash")) {
			t.Errorf("snapshot %s has neither usr/sbin/nginx nor usr/bin/bash", s)
		}
	}
	if row := findRow(e.images(), "nginx", "latest"); row == nil {
		t.Error("images does not list nginx after the re-pull")
	}
}
