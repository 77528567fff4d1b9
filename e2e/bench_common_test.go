package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Settings shared by every benchmark (make bench).

// skipUnlessBench skips t unless NERD_BENCH=1.
func skipUnlessBench(t *testing.T) {
	t.Helper()
	if os.Getenv("NERD_BENCH") != "1" {
		t.Skip("benchmark: set NERD_BENCH=1 (make bench)")
	}
}

// benchRuns is NERD_BENCH_RUNS (default 5): timed runs per engine.
func benchRuns(t *testing.T) int {
	t.Helper()
	s := os.Getenv("NERD_BENCH_RUNS")
	if s == "" {
		return 5
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("NERD_BENCH_RUNS=%q: want a positive number", s)
	}
	return n
}

// benchStoreDir makes the directory the engines' stores live in, under
// NERD_BENCH_DIR (default /var/tmp) rather than /tmp: on ext4 without a
// journal, files deleted nearby (other tests churning /tmp) make creating
// files several times slower (see inodeReuseWindow). It is registered for
// removal first, so it goes after every engine's own cleanup.
func benchStoreDir(t *testing.T, prefix string) string {
	t.Helper()
	base := os.Getenv("NERD_BENCH_DIR")
	if base == "" {
		base = "/var/tmp"
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := safeRemoveAll(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

// benchPodman is the podman binary to compare with (NERD_BENCH_PODMAN,
// default podman on PATH), or "" and why it is skipped ("none" times nerd
// alone).
func benchPodman() (path, skipped string) {
	podman := os.Getenv("NERD_BENCH_PODMAN")
	if podman == "" {
		podman = "podman"
	}
	if podman == "none" {
		return "", "podman: skipped (NERD_BENCH_PODMAN=none), nerd only"
	}
	p, err := exec.LookPath(podman)
	if err != nil {
		return "", fmt.Sprintf("podman: skipped (%v), nerd only", err)
	}
	return p, ""
}
