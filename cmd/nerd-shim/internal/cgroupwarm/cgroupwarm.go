// Package cgroupwarm starts, in the background, the wait that moving a
// process into a cgroup would otherwise do in line.
package cgroupwarm

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Start has this process "move" itself, in the background, into the cgroup
// it is already in.
//
// Moving a process between cgroups takes the kernel's cgroup threadgroup
// rwsem for writing, and the first writer after a quiet spell waits for an
// RCU grace period before it proceeds (11–30 ms measured on this kind of
// VM, the largest single item of a start); a writer that comes within
// about a grace period of another does not wait. libcontainer moves the
// container's init into its cgroups ~10 ms after the monitor starts (an
// exec's process ~5 ms after the helper starts), so they first "move"
// themselves into the cgroup they are already in — no change to any
// cgroup — and the grace period runs while the start gets ready (measured:
// 20 × run -d, 71–84 → 53–65 ms a start). Best effort: errors (rootless,
// an odd cgroup layout) only mean no head start.
func Start() { go func() { _ = moveToOwnCgroup() }() }

// moveToOwnCgroup writes this process into its own cgroup's cgroup.procs.
func moveToOwnCgroup() error {
	procs := ownCgroupProcs()
	if procs == "" {
		return os.ErrNotExist
	}
	return os.WriteFile(procs, []byte(strconv.Itoa(os.Getpid())), 0)
}

// ownCgroupProcs is the cgroup.procs file of this process's own cgroup:
// the unified one on cgroup v2, its pids cgroup on v1 (the rwsem is shared
// by every hierarchy, so any one does).
func ownCgroupProcs() string {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	defer f.Close()
	v2 := fileExists("/sys/fs/cgroup/cgroup.controllers")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		var root string
		switch {
		case v2 && parts[0] == "0" && parts[1] == "":
			root = "/sys/fs/cgroup"
		case !v2 && parts[1] == "pids":
			root = "/sys/fs/cgroup/pids"
		default:
			continue
		}
		p := filepath.Join(root, parts[2], "cgroup.procs")
		if fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
