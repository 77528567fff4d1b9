package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBenchNetwork times container start on the default network against
// podman (`make bench`; skipped unless NERD_BENCH=1): `run --rm busybox
// true` with networking, and `run -d -p` of nginx until its first page is
// served from 127.0.0.1. Engines alternate round by round; the medians and
// the ratio nerd/podman are printed (docs/performance.md).
func TestBenchNetwork(t *testing.T) {
	skipUnlessBench(t)
	runs := benchRuns(t)
	dir := benchStoreDir(t, "nerd-nbench-")

	engines := []*ctrEngine{newNerdCtrEngine(t, dir)}
	engines[0].e.pullOK("nginx")
	images := map[string]string{"nerd": "nginx"}
	var notes []string
	if p, skipped := benchPodman(); p == "" {
		notes = append(notes, skipped)
	} else {
		pe, note := newPodmanCtrEngine(t, dir, p)
		notes = append(notes, note)
		if pe != nil {
			ref := reg.ref("library/nginx:latest")
			if err := podmanPull(pe, ref); err != nil {
				t.Fatalf("podman: pulling nginx: %v", err)
			}
			images["podman"] = ref
			engines = append(engines, pe)
		}
	}
	// Default-network runs: no --network none here.
	run := func(b *ctrEngine, args ...string) []string {
		return append(append([]string{"run"}, b.runOpts...), args...)
	}
	runRm := map[string][]time.Duration{}
	firstPage := map[string][]time.Duration{}
	for _, b := range engines { // warm-up
		b.ok(t, run(b, "--rm", b.image, "true")...)
	}
	for i := 0; i < runs; i++ {
		for _, b := range engines {
			r := b.ok(t, run(b, "--rm", b.image, "true")...)
			runRm[b.name] = append(runRm[b.name], r.Took)

			port := freeHostPort(t)
			start := time.Now()
			args := run(b, "-d", "-p", fmt.Sprintf("%d:80", port), images[b.name])
			r = b.ok(t, args...)
			id := strings.TrimSpace(r.Stdout)
			if !waitPage(fmt.Sprintf("http://127.0.0.1:%d/", port), 20*time.Second) {
				t.Fatalf("%s: nginx never served its page", b.name)
			}
			firstPage[b.name] = append(firstPage[b.name], time.Since(start))
			b.ok(t, b.rmArgs(id)...)
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-40s %10s %10s %8s\n", "networking (median of "+strconv.Itoa(runs)+")", "nerd", "podman", "ratio")
	row := func(name string, v map[string][]time.Duration) {
		n, _, _ := medianDur(v["nerd"])
		ps, ratio := "-", "-"
		if len(v["podman"]) > 0 {
			p, _, _ := medianDur(v["podman"])
			ps = fmt.Sprintf("%.3fs", p.Seconds())
			ratio = fmt.Sprintf("%.2f", n.Seconds()/p.Seconds())
		}
		fmt.Fprintf(&sb, "%-40s %9.3fs %10s %8s\n", name, n.Seconds(), ps, ratio)
	}
	row("run --rm busybox true (default network)", runRm)
	row("run -d -p nginx → first page served", firstPage)
	for _, n := range notes {
		sb.WriteString(n + "\n")
	}
	fmt.Print("\n" + sb.String() + "\n")
	t.Log("\n" + sb.String())
}

// waitPage polls url until it answers 200 or the timeout passes.
func waitPage(url string, timeout time.Duration) bool {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}
