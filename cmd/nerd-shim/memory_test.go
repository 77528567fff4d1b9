package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// smapsRollup reads Rss and Pss (kB) of pid.
func smapsRollup(t *testing.T, pid int) (rss, pss int) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.Atoi(f[1])
		switch f[0] {
		case "Rss:":
			rss = v
		case "Pss:":
			pss = v
		}
	}
	return rss, pss
}

// TestIdleMemory measures the monitors of idle containers (the benchmark's
// figure: PSS per container with several running, so the shared pages of
// the binary are split between them). NERD_SHIM_MEM_N sets how many.
func TestIdleMemory(t *testing.T) {
	n := 10
	if v, err := strconv.Atoi(os.Getenv("NERD_SHIM_MEM_N")); err == nil && v > 0 {
		n = v
	}
	var cs []*ctr
	for i := 0; i < n; i++ {
		c := newCtr(t, []string{"sleep", "1000"}, nil)
		c.mustStart()
		cs = append(cs, c)
	}
	// NERD_SHIM_MEM_WAIT=seconds measures later (the runtime forces a GC
	// after two idle minutes).
	wait := 500 * time.Millisecond
	if v, err := strconv.Atoi(os.Getenv("NERD_SHIM_MEM_WAIT")); err == nil && v > 0 {
		wait = time.Duration(v) * time.Second
	}
	time.Sleep(wait)
	var totRss, totPss, maxPss int
	for _, c := range cs {
		rss, pss := smapsRollup(t, c.shim.Process.Pid)
		totRss += rss
		totPss += pss
		maxPss = max(maxPss, pss)
	}
	t.Logf("%d idle monitors: PSS avg %d kB (max %d), RSS avg %d kB", n, totPss/n, maxPss, totRss/n)
	for _, c := range cs {
		_ = c.client().Kill(context.Background(), int(syscall.SIGKILL), true)
	}
	for _, c := range cs {
		c.waitShim()
	}
}
