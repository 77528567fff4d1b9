package cgroupwarm

import (
	"os"
	"testing"
)

// The warm-up must leave the process exactly where it was.
func TestMoveToOwnCgroupChangesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to write cgroup.procs")
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if ownCgroupProcs() == "" {
		t.Fatal("found no cgroup.procs of this process's cgroup")
	}
	if err := moveToOwnCgroup(); err != nil {
		t.Fatalf("writing our own cgroup.procs: %v", err)
	}
	after, _ := os.ReadFile("/proc/self/cgroup")
	if string(before) != string(after) {
		t.Fatalf("cgroups changed:\n%s\nbecame\n%s", before, after)
	}
}
